// The gateway's load balancer: the live state the pure ordering needs. It keeps a latency average
// per target of every latency-strategy group (fed from the event stream: successful attempts, and
// timeouts as a penalty), a bounded LRU of sticky sessions per route, and reads provider health
// from the provider actors without asking them anything that would change or publish.
import { availability, type ProviderActor } from "../../actors/provider/mod.ts";
import type { Candidate } from "../../actors/supervisor/mod.ts";
import type { GatewayEvent } from "../events/catalogue.ts";
import { TtlLru } from "../lib/ttl_lru.ts";
import type { Clock, Random } from "../ports.ts";
import { DEFAULT_ALPHA, ewmaStep, type LatencyStat } from "./latency.ts";
import { orderRoute } from "./order.ts";
import { planTargets, type RoutePlan } from "./route_config.ts";

/** Session ids longer than this are not pinned (they would let a client grow the map's keys). */
const MAX_SESSION_ID = 256;

export interface BalancerDeps {
  plans: Readonly<Record<string, RoutePlan>>;
  clock: Clock;
  random: Random;
  /** Whether a "provider/model" target could be admitted now (read-only). */
  healthy(target: string, now: number): boolean;
  alpha?: number;
}

/** The order chosen for one request, and how to tell the balancer who served it. */
export interface RouteChoice {
  targets: string[];
  /** The session was served by `candidate`: pin it there (sticky routes only). */
  served(candidate: Candidate): void;
}

export interface Balancer {
  /** The candidate order for a route alias, or undefined when `alias` is no route. */
  choose(alias: string, headers?: Headers): RouteChoice | undefined;
  /** Feed for the latency averages; subscribe it to the event bus. */
  observe(event: GatewayEvent): void;
  latency(target: string): LatencyStat | undefined;
}

const NO_OP = () => {};

export function createBalancer(deps: BalancerDeps): Balancer {
  const { plans, clock } = deps;
  const alpha = deps.alpha ?? DEFAULT_ALPHA;
  // Only targets of latency groups are measured: a bounded set known from config.
  const tracked = new Set<string>();
  for (const plan of Object.values(plans)) {
    for (const r of plan.ranks) {
      if (r.strategy === "latency") { for (const m of r.members) tracked.add(m.target); }
    }
  }
  const stats = new Map<string, LatencyStat>();
  const sessions = new Map<string, TtlLru<string, string>>();
  for (const [alias, plan] of Object.entries(plans)) {
    if (plan.sticky) {
      sessions.set(alias, new TtlLru(plan.sticky.maxSessions, plan.sticky.ttlMs));
    }
  }

  return {
    choose(alias, headers) {
      if (!Object.hasOwn(plans, alias)) return undefined;
      const plan = plans[alias];
      const now = clock.now();
      const env = {
        random: deps.random,
        latencyMs: (t: string) => stats.get(t)?.ewmaMs,
        healthy: (t: string) => deps.healthy(t, now),
      };
      const pins = sessions.get(alias);
      const session = plan.sticky && headers?.get(plan.sticky.header);
      if (!pins || !session || session.length > MAX_SESSION_ID) {
        return { targets: orderRoute(plan, env), served: NO_OP };
      }
      const targets = orderRoute(plan, env, pins.get(session, now));
      const members = new Set(planTargets(plan));
      return {
        targets,
        served(c) {
          const ref = `${c.provider}/${c.model}`;
          // A request fallback outside the route does not move the pin.
          if (members.has(ref)) pins.set(session, ref, clock.now());
        },
      };
    },
    observe(e) {
      const sample = e.type === "attempt.succeeded" ||
        (e.type === "attempt.failed" && e.errorType === "timeout");
      if (!sample) return;
      const target = `${e.provider}/${e.model}`;
      if (!tracked.has(target)) return;
      stats.set(target, ewmaStep(stats.get(target), e.latencyMs, alpha));
    },
    latency: (target) => stats.get(target),
  };
}

/** Health of a target as its provider actor sees it now, read from its state (no command). */
export function actorHealth(
  actor: (id: string) => ProviderActor | undefined,
): (target: string, now: number) => boolean {
  return (target, now) => {
    const slash = target.indexOf("/");
    const a = actor(target.slice(0, slash));
    if (!a) return false;
    return availability(a.config, a.state(), target.slice(slash + 1), now).ok;
  };
}
