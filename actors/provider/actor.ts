// The provider actor: the decider in an actor shell, plus a timer that wakes it when an open
// breaker may half-open or a blocked key refills, so those transitions are published on time
// even without traffic.
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import type { Clock } from "../../src/ports.ts";
import { type ActorRef, spawn } from "../runtime/mod.ts";
import {
  type BreakerConfig,
  type BreakerState,
  failureStats,
  initialBreaker,
} from "../breaker/mod.ts";
import { type LimiterConfig, type LimiterState, refill } from "../rate_limiter/mod.ts";
import {
  createProviderDecider,
  dueEpisodes,
  nextWakeAt,
  probeEpisode,
  type ProviderActorConfig,
  type ProviderCommand,
  type ProviderState,
} from "./decider.ts";
import { CLAIM_LEASE_MS, createLeaseKeeper, type ProbeLeases } from "./probe_leases.ts";

export interface BreakerSnapshot {
  state: "closed" | "open" | "half_open";
  failureRate: number;
  samples: number;
  openUntil: string | null;
  reopenCount: number;
  probesInFlight: number;
}

export interface LimiterSnapshot {
  key: string;
  requestsLeft: number | null;
  tokensLeft: number | null;
  blockedUntil: string | null;
}

export interface ProviderSnapshot {
  provider: string;
  /** The provider-wide breaker: failures that break every model (refused, DNS/TLS, auth). */
  breaker: BreakerSnapshot;
  /** Per key: configured limits and key-wide blocks (quota). */
  keys: LimiterSnapshot[];
  /** Each model the provider has seen lately: its own breaker, cooldown and (key, model) limits. */
  models: {
    model: string;
    breaker: BreakerSnapshot;
    unavailableUntil: string | null;
    keys: LimiterSnapshot[];
  }[];
  unavailableModels: { model: string; until: string }[];
}

function breakerSnapshot(cfg: BreakerConfig, b: BreakerState, now: number): BreakerSnapshot {
  const stats = failureStats(cfg, b, now);
  return {
    state: b.status,
    failureRate: Math.round(stats.failureRate * 1000) / 1000,
    samples: stats.samples,
    openUntil: b.status === "open" ? new Date(b.until).toISOString() : null,
    reopenCount: b.reopenCount,
    probesInFlight: Object.values(b.probes).filter((t) => t > now).length,
  };
}

export interface ProviderActor {
  readonly id: string;
  readonly config: ProviderActorConfig;
  ask(command: ProviderCommand): GatewayEvent[];
  hydrate(events: Iterable<GatewayEvent>): void;
  /**
   * With shared probe leases: if a half-open probe is due, asks for its lease now, publishing
   * nothing (after a replay, so the next admit may probe at once). True when this replica holds it.
   */
  claimProbe(): Promise<boolean>;
  state(): ProviderState;
  snapshot(now: number): ProviderSnapshot;
  stop(): void;
}

export function spawnProviderActor(
  cfg: ProviderActorConfig,
  deps: {
    clock: Clock;
    publish(e: GatewayEvent): void;
    onCrash?(err: unknown, id: string): void;
    /** Replicas on NATS: half-open probes only under this shared lease (see ./probe_leases.ts). */
    leases?: ProbeLeases;
  },
): ProviderActor {
  const decider = createProviderDecider(cfg);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wakeAt: number | undefined;
  let stopped = false;
  const keeper = deps.leases && createLeaseKeeper(cfg.id, deps.leases, cfg.breaker.probeLeaseMs);
  // A lease taken with no request in hand is short: see CLAIM_LEASE_MS.
  const claimMs = Math.min(CLAIM_LEASE_MS, cfg.breaker.probeLeaseMs);
  let lastAdmitAt = -Infinity;

  const ref: ActorRef<ProviderState, ProviderCommand, GatewayEvent> = spawn(cfg.id, decider, {
    publish: deps.publish,
    onCrash: deps.onCrash,
  });

  const schedule = () => {
    // A stopped actor ignores ticks, so a re-armed timer would fire again and again, forever.
    if (stopped) return;
    // With shared leases a due half-open may stay unannounced (another replica's to make), so
    // only future moments are armed; what is already due waits for the next admit.
    const at = nextWakeAt(ref.state(), keeper ? deps.clock.now() : undefined);
    if (at === wakeAt) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    wakeAt = at;
    if (at === undefined) return;
    const t = setTimeout(() => {
      timer = undefined;
      wakeAt = undefined;
      // Timers round to whole milliseconds and may fire a fraction early; the moment armed for
      // has come, so wake at it at least. Otherwise the due half-open would be seen as not yet
      // due, and with shared leases (only future moments are armed) never woken for again.
      wake(Math.max(deps.clock.now(), at));
      queueMicrotask(schedule);
    }, Math.max(0, at - deps.clock.now()));
    // A pending wake-up must never keep the process alive.
    Deno.unrefTimer(t);
    timer = t;
  };

  /**
   * The timer's tick. With shared leases the half-open is announced only by the lease holder; a
   * replica that had traffic for this provider since just before it opened asks for the lease
   * as the open time ends, so its next request can probe at once. Idle replicas ask on demand.
   */
  const wake = (now: number) => {
    if (!keeper) return ref.tell({ kind: "tick", now });
    ref.tell({ kind: "tick", now, probeLease: keeper.heldSet(now) });
    const s = ref.state();
    const due = dueEpisodes(s, now).filter((episode) => !keeper.held(episode, now));
    if (due.length === 0) return;
    // Only a replica that had traffic for this provider since just before it opened asks.
    const openedAt = Math.max(
      s.breaker.openedAt,
      ...Object.values(s.models).map((h) => h.breaker.openedAt),
    );
    if (lastAdmitAt < openedAt - cfg.breaker.windowMs) return;
    for (const episode of due) {
      keeper.request(episode, now, claimMs).then((won) => {
        if (!won || stopped) return;
        ref.tell({
          kind: "tick",
          now: deps.clock.now(),
          probeLease: keeper.heldSet(deps.clock.now()),
        });
        queueMicrotask(schedule);
      });
    }
  };

  return {
    id: cfg.id,
    config: cfg,
    ask(command) {
      if (keeper && command.kind === "admit") {
        lastAdmitAt = command.now;
        const episode = probeEpisode(ref.state(), command.now, command.model);
        if (episode !== undefined) {
          const mine = keeper.held(episode, command.now);
          // Not ours (yet): skip now, and ask, so a later admit may be the probe.
          if (!mine) keeper.request(episode, command.now);
          command = { ...command, probeLease: mine };
        }
      }
      const events = ref.ask(command);
      if (events.length > 0) schedule();
      return events;
    },
    hydrate(events) {
      ref.hydrate(events);
      schedule();
    },
    async claimProbe() {
      const now = deps.clock.now();
      if (!keeper || stopped) return false;
      const episodes = dueEpisodes(ref.state(), now);
      if (episodes.length === 0) return false;
      const won = await Promise.all(
        episodes.map((e) => keeper.held(e, now) || keeper.request(e, now, claimMs)),
      );
      return won.some(Boolean);
    },
    state: ref.state,
    snapshot(now) {
      const s = ref.state();
      const iso = (t: number) => (t > now ? new Date(t).toISOString() : null);
      const limiter = (key: string, lc: LimiterConfig, l: LimiterState): LimiterSnapshot => {
        const r = refill(lc, l, now);
        return {
          key,
          requestsLeft: lc.rpm > 0 ? Math.floor(r.requests) : null,
          tokensLeft: lc.tpm > 0 ? Math.floor(r.tokens) : null,
          blockedUntil: iso(r.blockedUntil),
        };
      };
      const modelLimit = (m: string) => cfg.rateLimit.models?.[m] ?? { rpm: 0, tpm: 0 };
      const names = new Set(Object.keys(s.models));
      for (const byModel of Object.values(s.modelLimiters)) {
        for (const m of Object.keys(byModel)) names.add(m);
      }
      return {
        provider: cfg.id,
        breaker: breakerSnapshot(cfg.breaker, s.breaker, now),
        keys: cfg.keys.map((k) => limiter(k.id, cfg.rateLimit, s.limiters[k.id])),
        models: [...names].sort().map((model) => {
          const h = s.models[model];
          return {
            model,
            breaker: breakerSnapshot(cfg.breaker, h?.breaker ?? initialBreaker, now),
            unavailableUntil: iso(h?.unavailableUntil ?? 0),
            keys: Object.entries(s.modelLimiters).flatMap(([key, byModel]) =>
              byModel[model] ? [limiter(key, modelLimit(model), byModel[model])] : []
            ),
          };
        }),
        unavailableModels: Object.entries(s.models)
          .filter(([, h]) => h.unavailableUntil > now)
          .map(([model, h]) => ({ model, until: new Date(h.unavailableUntil).toISOString() })),
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
