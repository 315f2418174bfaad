// The provider actor: the decider in an actor shell, plus a timer that wakes it when an open
// breaker may half-open or a blocked key refills, so those transitions are published on time
// even without traffic.
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import type { Clock } from "../../src/ports.ts";
import { type ActorRef, spawn } from "../runtime/mod.ts";
import { failureStats } from "../breaker/mod.ts";
import { refill } from "../rate_limiter/mod.ts";
import {
  createProviderDecider,
  nextWakeAt,
  type ProviderActorConfig,
  type ProviderCommand,
  type ProviderState,
} from "./decider.ts";

export interface ProviderSnapshot {
  provider: string;
  breaker: {
    state: "closed" | "open" | "half_open";
    failureRate: number;
    samples: number;
    openUntil: string | null;
    reopenCount: number;
    probesInFlight: number;
  };
  keys: {
    key: string;
    requestsLeft: number | null;
    tokensLeft: number | null;
    blockedUntil: string | null;
  }[];
  unavailableModels: { model: string; until: string }[];
}

export interface ProviderActor {
  readonly id: string;
  readonly config: ProviderActorConfig;
  ask(command: ProviderCommand): GatewayEvent[];
  hydrate(events: Iterable<GatewayEvent>): void;
  state(): ProviderState;
  snapshot(now: number): ProviderSnapshot;
  stop(): void;
}

export function spawnProviderActor(
  cfg: ProviderActorConfig,
  deps: { clock: Clock; publish(e: GatewayEvent): void; onCrash?(err: unknown, id: string): void },
): ProviderActor {
  const decider = createProviderDecider(cfg);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wakeAt: number | undefined;
  let stopped = false;

  const ref: ActorRef<ProviderState, ProviderCommand, GatewayEvent> = spawn(cfg.id, decider, {
    publish: deps.publish,
    onCrash: deps.onCrash,
  });

  const schedule = () => {
    // A stopped actor ignores ticks, so a re-armed timer would fire again and again, forever.
    if (stopped) return;
    const at = nextWakeAt(ref.state());
    if (at === wakeAt) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    wakeAt = at;
    if (at === undefined) return;
    const t = setTimeout(() => {
      timer = undefined;
      wakeAt = undefined;
      ref.tell({ kind: "tick", now: deps.clock.now() });
      queueMicrotask(schedule);
    }, Math.max(0, at - deps.clock.now()));
    // A pending wake-up must never keep the process alive.
    Deno.unrefTimer(t);
    timer = t;
  };

  return {
    id: cfg.id,
    config: cfg,
    ask(command) {
      const events = ref.ask(command);
      if (events.length > 0) schedule();
      return events;
    },
    hydrate(events) {
      ref.hydrate(events);
      schedule();
    },
    state: ref.state,
    snapshot(now) {
      const s = ref.state();
      const iso = (t: number) => (t > now ? new Date(t).toISOString() : null);
      const stats = failureStats(cfg.breaker, s.breaker, now);
      return {
        provider: cfg.id,
        breaker: {
          state: s.breaker.status,
          failureRate: Math.round(stats.failureRate * 1000) / 1000,
          samples: stats.samples,
          openUntil: s.breaker.status === "open" ? new Date(s.breaker.until).toISOString() : null,
          reopenCount: s.breaker.reopenCount,
          probesInFlight: Object.values(s.breaker.probes).filter((t) => t > now).length,
        },
        keys: cfg.keys.map((k) => {
          const l = refill(cfg.rateLimit, s.limiters[k.id], now);
          return {
            key: k.id,
            requestsLeft: cfg.rateLimit.rpm > 0 ? Math.floor(l.requests) : null,
            tokensLeft: cfg.rateLimit.tpm > 0 ? Math.floor(l.tokens) : null,
            blockedUntil: iso(l.blockedUntil),
          };
        }),
        unavailableModels: Object.entries(s.models)
          .filter(([, until]) => until > now)
          .map(([model, until]) => ({ model, until: new Date(until).toISOString() })),
      };
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      ref.stop();
    },
  };
}
