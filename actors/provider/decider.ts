// The provider decider: one per configured provider. Composes the breaker, one limiter per key
// and a per-model cooldown. It admits attempts (choosing a key by weight among those the limiter
// lets through) and turns reported outcomes into facts about the provider's health.
import type { EventOf, FailureKind, GatewayEvent, UsageFacts } from "../../src/events/catalogue.ts";
import type { Decider } from "../runtime/mod.ts";
import {
  type BreakerConfig,
  type BreakerState,
  evolveBreaker,
  type Gate,
  gate,
  initialBreaker,
  judge,
  tick as breakerTick,
} from "../breaker/mod.ts";
import {
  evolveLimiter,
  initialLimiter,
  type LimiterConfig,
  limiterGate,
  type LimiterState,
  limiterTick,
} from "../rate_limiter/mod.ts";

export interface ProviderActorConfig {
  id: string;
  keys: readonly { id: string; weight: number }[];
  breaker: BreakerConfig;
  /** Per key; `models` adds limits per (key, model) for the models named. */
  rateLimit: LimiterConfig & { models?: Readonly<Record<string, LimiterConfig>> };
  /** How long a model the upstream called gone/not allowed is skipped. */
  modelCooldownMs: number;
  /** Block time for a 429 that came without any retry-after hint (jittered down to half). */
  defaultRetryAfterMs: number;
  /** How long a key the upstream called out of quota or credit is skipped, without a hint. */
  quotaCooldownMs: number;
}

/** What one model of the provider has shown: its own breaker and cooldown. */
export interface ModelHealth {
  breaker: BreakerState;
  /** The upstream said the model is gone or not allowed: skipped until then (0 = not). */
  unavailableUntil: number;
}

export interface ProviderState {
  /** Provider-wide breaker: only failures that break every model (refused, DNS/TLS, auth). */
  breaker: BreakerState;
  /** Per key: configured RPM/TPM and key-wide blocks (quota). */
  limiters: Readonly<Record<string, LimiterState>>;
  /** Per model: its breaker (5xx, timeouts, overload) and its cooldown (model gone). */
  models: Readonly<Record<string, ModelHealth>>;
  /** key → model → limiter: per-model RPM/TPM and the 429 blocks the upstream sent for it. */
  modelLimiters: Readonly<Record<string, Readonly<Record<string, LimiterState>>>>;
}

/** What the classifier concluded about a failed attempt (structural, see src/providers). */
export interface FailureFacts {
  kind: FailureKind;
  status?: number;
  message: string;
  retryAfterMs?: number;
  /**
   * "provider": it breaks every model (refused connection, DNS/TLS, a rejected key). "gateway":
   * the gateway itself caused it (overloaded, its own deadline ran out while it was stalled), so
   * it says nothing about the provider's health and is never counted.
   */
  scope?: "provider" | "model" | "gateway";
  /** The upstream's error code, when it sent one. */
  code?: string;
}

export type Outcome =
  | {
    type: "success";
    status: number;
    latencyMs: number;
    usage?: UsageFacts;
    ttftMs?: number;
    /** Streams: malformed events skipped along the way. */
    skippedEvents?: number;
  }
  | { type: "failure"; failure: FailureFacts; latencyMs: number }
  | { type: "aborted"; latencyMs: number };

export interface AttemptRef {
  requestId: string;
  attempt: number;
  model: string;
}

/**
 * Replicas on NATS share half-open probe slots through leases (./probe_leases.ts): a boolean answers
 * for the one opening a command concerns, a set names every opening (see `probeEpisode`) this
 * replica holds. Absent for a lone gateway, which always may probe.
 */
export type ProbeLease = boolean | ReadonlySet<string>;

export type ProviderCommand =
  | (AttemptRef & {
    kind: "admit";
    now: number;
    estTokens: number;
    rand: number;
    /** False when another replica holds the lease of the opening this admit would probe. */
    probeLease?: boolean;
  })
  | (AttemptRef & {
    kind: "report";
    now: number;
    key: string;
    probe: boolean;
    reservedTokens: number;
    outcome: Outcome;
    rand: number;
  })
  | {
    kind: "tick";
    now: number;
    /** As for admit: leave the half-open transitions of openings not held to their holder. */
    probeLease?: ProbeLease;
  };

export type Admission = EventOf<"attempt.started"> | EventOf<"attempt.skipped">;

/** Retry-After for a probe left to another replica: about one probe's round trip. */
export const PROBE_ELSEWHERE_RETRY_MS = 1_000;

/** Failures that say something about health (which breaker: the failure's scope). */
const COUNTED: ReadonlySet<FailureKind> = new Set(["transient", "timeout", "unknown", "auth"]);

const UNLIMITED: LimiterConfig = { rpm: 0, tpm: 0 };

/** Tracked models beyond which idle ones (closed, nothing recent, nothing blocked) are dropped. */
const MAX_IDLE_MODELS = 256;

const CLOSED_GATE: Gate = { ok: true, probe: false };

/** Configured buckets to keep (else a limiter only holds an upstream block). */
const limited = (l: LimiterConfig) => l.rpm > 0 || l.tpm > 0;

export function createProviderDecider(
  cfg: ProviderActorConfig,
): Decider<ProviderState, ProviderCommand, GatewayEvent> {
  const provider = cfg.id;
  const limiters: Record<string, LimiterState> = {};
  for (const k of cfg.keys) limiters[k.id] = initialLimiter(cfg.rateLimit);
  const initialState: ProviderState = {
    breaker: initialBreaker,
    limiters,
    models: {},
    modelLimiters: {},
  };
  const modelLimit = (model: string) => cfg.rateLimit.models?.[model] ?? UNLIMITED;
  const modelScope = (model: string) => ({ provider, model });

  const withModel = (s: ProviderState, model: string, h: ModelHealth): ProviderState => {
    const models = { ...s.models, [model]: h };
    return {
      ...s,
      models: Object.keys(models).length > MAX_IDLE_MODELS ? prune(models, h) : models,
    };
  };

  /** Drops models whose state is as good as fresh, keeping `keep` (the one just written). */
  const prune = (models: Record<string, ModelHealth>, keep: ModelHealth) => {
    const newest = keep.breaker.window[keep.breaker.window.length - 1]?.start ?? 0;
    const out: Record<string, ModelHealth> = {};
    for (const [m, h] of Object.entries(models)) {
      const last = h.breaker.window[h.breaker.window.length - 1]?.start ?? -Infinity;
      const idle = h.breaker.status === "closed" && h.unavailableUntil <= newest &&
        last < newest - cfg.breaker.windowMs;
      if (h === keep || !idle) out[m] = h;
    }
    return out;
  };

  const withModelLimiter = (
    s: ProviderState,
    key: string,
    model: string,
    l: LimiterState | undefined,
  ): ProviderState => {
    const { [model]: _, ...rest } = s.modelLimiters[key] ?? {};
    const byModel = l ? { ...rest, [model]: l } : rest;
    return { ...s, modelLimiters: { ...s.modelLimiters, [key]: byModel } };
  };

  const evolveModelLimiter = (s: ProviderState, key: string, model: string, e: GatewayEvent) => {
    const lc = modelLimit(model);
    const current = s.modelLimiters[key]?.[model];
    if (!current && !limited(lc) && e.type !== "ratelimit.blocked") return s;
    // A refill announced before the latest block (another replica's, arriving late) is stale.
    if (e.type === "ratelimit.refilled" && current && e.at < current.blockedUntil) return s;
    const next = evolveLimiter(lc, current ?? initialLimiter(lc), e);
    // An unlimited model's limiter only holds a block: once refilled there is nothing to keep.
    if (e.type === "ratelimit.refilled" && !limited(lc)) {
      return withModelLimiter(s, key, model, undefined);
    }
    return next === current ? s : withModelLimiter(s, key, model, next);
  };

  const evolve = (s: ProviderState, e: GatewayEvent): ProviderState => {
    if (!("provider" in e) || e.provider !== provider) return s;
    switch (e.type) {
      case "breaker.opened":
      case "breaker.half_opened":
      case "breaker.closed": {
        if (e.model === undefined) {
          const breaker = evolveBreaker(cfg.breaker, s.breaker, e, "provider");
          return breaker === s.breaker ? s : { ...s, breaker };
        }
        const h = s.models[e.model] ?? { breaker: initialBreaker, unavailableUntil: 0 };
        const breaker = evolveBreaker(cfg.breaker, h.breaker, e, "model");
        return breaker === h.breaker ? s : withModel(s, e.model, { ...h, breaker });
      }
      case "attempt.started":
      case "attempt.succeeded":
      case "attempt.failed":
      case "attempt.aborted": {
        let next = s;
        const breaker = evolveBreaker(cfg.breaker, s.breaker, e, "provider");
        if (breaker !== s.breaker) next = { ...next, breaker };
        const h = next.models[e.model];
        // A model is tracked from its first outcome (started only matters to a half-open one).
        if (h || e.type !== "attempt.started") {
          const cur = h ?? { breaker: initialBreaker, unavailableUntil: 0 };
          const mb = evolveBreaker(cfg.breaker, cur.breaker, e, "model");
          if (mb !== cur.breaker || !h) next = withModel(next, e.model, { ...cur, breaker: mb });
        }
        if (e.type === "attempt.started" || e.type === "attempt.succeeded") {
          const l = next.limiters[e.key];
          if (l) {
            const nl = evolveLimiter(cfg.rateLimit, l, e);
            if (nl !== l) next = { ...next, limiters: { ...next.limiters, [e.key]: nl } };
          }
          next = evolveModelLimiter(next, e.key, e.model, e);
        }
        return next;
      }
      case "ratelimit.blocked":
      case "ratelimit.refilled": {
        if (e.model !== undefined) return evolveModelLimiter(s, e.key, e.model, e);
        const l = s.limiters[e.key];
        if (!l) return s;
        if (e.type === "ratelimit.refilled" && e.at < l.blockedUntil) return s;
        const nl = evolveLimiter(cfg.rateLimit, l, e);
        return nl === l ? s : { ...s, limiters: { ...s.limiters, [e.key]: nl } };
      }
      case "model.unavailable": {
        const h = s.models[e.model] ?? { breaker: initialBreaker, unavailableUntil: 0 };
        const until = Math.max(h.unavailableUntil, e.until);
        return until === h.unavailableUntil
          ? s
          : withModel(s, e.model, { ...h, unavailableUntil: until });
      }
      default:
        return s;
    }
  };

  // Written out rather than spread from a shared base: one admit per attempt, on the hot path.
  const skip = (
    c: Extract<ProviderCommand, { kind: "admit" }>,
    reason: EventOf<"attempt.skipped">["reason"],
    retryAfterMs: number,
  ): EventOf<"attempt.skipped"> => ({
    type: "attempt.skipped",
    at: c.now,
    requestId: c.requestId,
    attempt: c.attempt,
    provider,
    model: c.model,
    reason,
    retryAfterMs,
  });

  const admit = (s: ProviderState, c: Extract<ProviderCommand, { kind: "admit" }>) => {
    const g = admissionGates(cfg, s, c.model, c.now, c.estTokens);
    if (g.refused) return [skip(c, g.refused.reason, g.refused.retryAfterMs)];
    if (g.probe && c.probeLease === false) {
      return [skip(c, "circuit_open", PROBE_ELSEWHERE_RETRY_MS)];
    }
    const events = g.transitions;
    if (g.open.length === 0) return [...events, skip(c, "rate_limited", g.soonest)];
    events.push({
      type: "attempt.started",
      at: c.now,
      requestId: c.requestId,
      attempt: c.attempt,
      provider,
      model: c.model,
      key: pickWeighted(g.open, c.rand).id,
      probe: g.probe,
      reservedTokens: cfg.rateLimit.tpm > 0 || modelLimit(c.model).tpm > 0 ? c.estTokens : 0,
    });
    return events;
  };

  const report = (s: ProviderState, c: Extract<ProviderCommand, { kind: "report" }>) => {
    const base = {
      at: c.now,
      requestId: c.requestId,
      attempt: c.attempt,
      provider,
      model: c.model,
      key: c.key,
      probe: c.probe,
      latencyMs: c.outcome.latencyMs,
    };
    const o = c.outcome;
    const events: GatewayEvent[] = [];
    let verdict: { provider: Verdict; model: Verdict } = { provider: "neutral", model: "neutral" };
    if (o.type === "success") {
      verdict = { provider: "success", model: "success" };
      events.push({
        type: "attempt.succeeded",
        ...base,
        status: o.status,
        reservedTokens: c.reservedTokens,
        usage: o.usage,
        ...(o.ttftMs !== undefined && { ttftMs: o.ttftMs }),
        ...(o.skippedEvents ? { skippedEvents: o.skippedEvents } : {}),
      });
    } else if (o.type === "aborted") {
      events.push({ type: "attempt.aborted", ...base });
    } else {
      const f = o.failure;
      const counted = COUNTED.has(f.kind) && f.scope !== "gateway";
      const scope = f.scope === "provider" || f.kind === "auth" ? "provider" : "model";
      if (counted) verdict = { ...verdict, [scope]: "failure" };
      events.push({
        type: "attempt.failed",
        ...base,
        status: f.status,
        errorType: f.kind,
        message: f.message,
        retryAfterMs: f.retryAfterMs,
        counted,
        ...(counted && { scope }),
        ...(f.code !== undefined && { code: f.code }),
      });
      if (f.kind === "rate_limit") {
        // The upstream throttles this (key, model); the key's other models are not blocked.
        const wait = f.retryAfterMs ?? Math.round(cfg.defaultRetryAfterMs * (0.5 + c.rand / 2));
        events.push({
          type: "ratelimit.blocked",
          at: c.now,
          provider,
          key: c.key,
          model: c.model,
          reason: "retry_after",
          until: c.now + wait,
        });
      } else if (f.kind === "quota") {
        // Out of quota or credit: the whole key, whatever the model.
        events.push({
          type: "ratelimit.blocked",
          at: c.now,
          provider,
          key: c.key,
          reason: "quota",
          until: c.now + (f.retryAfterMs ?? cfg.quotaCooldownMs),
        });
      } else if (f.kind === "model_unavailable") {
        events.push({
          type: "model.unavailable",
          at: c.now,
          provider,
          model: c.model,
          until: c.now + cfg.modelCooldownMs,
          message: f.message,
        });
      }
    }
    // Judge on the state that already holds this outcome.
    let folded = s;
    for (const e of events) folded = evolve(folded, e);
    const judged = { now: c.now, probe: c.probe, rand: c.rand };
    events.push(
      ...judge(cfg.breaker, folded.breaker, provider, { ...judged, verdict: verdict.provider }),
    );
    const h = folded.models[c.model];
    if (h) {
      events.push(
        ...judge(cfg.breaker, h.breaker, modelScope(c.model), {
          ...judged,
          verdict: verdict.model,
        }),
      );
    }
    return events;
  };

  const tick = (s: ProviderState, now: number, lease?: ProbeLease): GatewayEvent[] => {
    const may = (episode: string) =>
      lease === undefined || lease === true || (lease !== false && lease.has(episode));
    const events: GatewayEvent[] = [];
    if (may(episodeKey(s.breaker.until))) {
      events.push(...breakerTick(cfg.breaker, s.breaker, provider, now));
    }
    for (const [model, h] of Object.entries(s.models)) {
      if (h.breaker.status === "open" && may(episodeKey(h.breaker.until, model))) {
        events.push(...breakerTick(cfg.breaker, h.breaker, modelScope(model), now));
      }
    }
    for (const k of cfg.keys) {
      events.push(...limiterTick(s.limiters[k.id], { provider, key: k.id }, now));
    }
    for (const [key, byModel] of Object.entries(s.modelLimiters)) {
      for (const [model, l] of Object.entries(byModel)) {
        events.push(...limiterTick(l, { provider, key, model }, now));
      }
    }
    return events;
  };

  return {
    initialState,
    evolve,
    decide(s, c) {
      switch (c.kind) {
        case "admit":
          return admit(s, c);
        case "report":
          return report(s, c);
        case "tick":
          return tick(s, c.now, c.probeLease);
      }
    },
  };
}

type Verdict = "success" | "failure" | "neutral";

/** What an admit for `model` at `now` finds, before it decides anything. */
export interface Gates {
  /** Refused before any key is looked at: the model's cooldown, or an open breaker. */
  refused?: { reason: "model_unavailable" | "circuit_open"; retryAfterMs: number };
  /** The attempt would be a half-open probe (provider-wide or the model's breaker). */
  probe: boolean;
  /** The transitions an admit publishes: half-opens, refills, rpm/tpm blocks. */
  transitions: GatewayEvent[];
  /** Keys open for this model (key-wide and (key, model) limiters both let it through). */
  open: { id: string; weight: number }[];
  /** When none is open: the soonest any key is back for this model. */
  soonest: number;
}

/**
 * The gates an admit runs, evaluated without deciding: the model's cooldown, both breakers (the
 * model is back only when both let it through), then each key's limiter and its (key, model)
 * limiter. `admit` decides from it; `availability` reads it.
 */
export function admissionGates(
  cfg: ProviderActorConfig,
  s: ProviderState,
  model: string,
  now: number,
  estTokens: number,
): Gates {
  const provider = cfg.id;
  const h = s.models[model];
  if (h && h.unavailableUntil > now) {
    return {
      probe: false,
      transitions: [],
      open: [],
      soonest: Infinity,
      refused: { reason: "model_unavailable", retryAfterMs: h.unavailableUntil - now },
    };
  }
  const pg = gate(cfg.breaker, s.breaker, provider, now);
  const mg = h ? gate(cfg.breaker, h.breaker, { provider, model }, now) : CLOSED_GATE;
  if (!pg.ok || !mg.ok) {
    const retryAfterMs = Math.max(pg.ok ? 0 : pg.retryAfterMs, mg.ok ? 0 : mg.retryAfterMs);
    return {
      probe: false,
      transitions: [],
      open: [],
      soonest: Infinity,
      refused: { reason: "circuit_open", retryAfterMs },
    };
  }
  const transitions: GatewayEvent[] = [];
  if (pg.transition) transitions.push(pg.transition);
  if (mg.transition) transitions.push(mg.transition);
  const lc = cfg.rateLimit.models?.[model] ?? UNLIMITED;
  const open: { id: string; weight: number }[] = [];
  let soonest = Infinity;
  for (const k of cfg.keys) {
    const kl = s.limiters[k.id];
    let wait = 0;
    // An unlimited key that is not blocked passes with nothing to announce: no gate to build.
    if (limited(cfg.rateLimit) || kl.blockedUntil !== 0) {
      const kg = limiterGate(cfg.rateLimit, kl, { provider, key: k.id }, now, estTokens);
      for (const t of kg.transitions) transitions.push(t);
      if (!kg.ok) wait = kg.retryAfterMs;
    }
    const ml = s.modelLimiters[k.id]?.[model];
    if (ml || limited(lc)) {
      const ids = { provider, key: k.id, model };
      const g = limiterGate(lc, ml ?? initialLimiter(lc), ids, now, estTokens);
      for (const t of g.transitions) transitions.push(t);
      if (!g.ok) wait = Math.max(wait, g.retryAfterMs);
    }
    if (wait === 0) open.push(k);
    else soonest = Math.min(soonest, wait);
  }
  return { probe: pg.probe || mg.probe, transitions, open, soonest };
}

/** Weighted choice with an injected draw in [0, 1). */
export function pickWeighted<T extends { weight: number }>(items: readonly T[], rand: number): T {
  const total = items.reduce((sum, i) => sum + Math.max(0, i.weight), 0);
  if (total <= 0) return items[Math.floor(rand * items.length)];
  let r = rand * total;
  for (const i of items) {
    r -= Math.max(0, i.weight);
    if (r < 0) return i;
  }
  return items[items.length - 1];
}

/**
 * The next time a timer tick could change something (an open time over, a block passed). With
 * `after`, only moments later than it: what is already due waits for the next admit.
 */
export function nextWakeAt(s: ProviderState, after = -Infinity): number | undefined {
  let next = Infinity;
  const consider = (t: number) => {
    if (t > after && t < next) next = t;
  };
  if (s.breaker.status === "open") consider(s.breaker.until);
  // for…in over own records (plain objects): no arrays built, as it runs after every message.
  for (const m in s.models) {
    const h = s.models[m];
    if (h.breaker.status === "open") consider(h.breaker.until);
  }
  for (const k in s.limiters) {
    const l = s.limiters[k];
    if (l.blockedUntil !== 0) consider(l.blockedUntil);
  }
  for (const k in s.modelLimiters) {
    const byModel = s.modelLimiters[k];
    for (const m in byModel) {
      const l = byModel[m];
      if (l.blockedUntil !== 0) consider(l.blockedUntil);
    }
  }
  return next === Infinity ? undefined : next;
}

/**
 * Names one opening of one breaker, the same on every replica that folded it: its `until`, and
 * the model for a model's breaker (encoded to letters, digits, "_", "-" and "=").
 */
export function episodeKey(until: number, model?: string): string {
  const at = String(Math.floor(until));
  if (model === undefined) return at;
  return `${at}.${model.replace(/[^A-Za-z0-9_-]/g, (c) => `=${c.charCodeAt(0).toString(16)}`)}`;
}

const due = (b: BreakerState, now: number) =>
  (b.status === "open" && now >= b.until) || b.status === "half_open";

/**
 * The opening whose half-open probe an admit for `model` at `now` would be (open with the open
 * time over, or half-open): the provider-wide breaker's first, else the model's. Undefined when
 * there is none.
 */
export function probeEpisode(s: ProviderState, now: number, model?: string): string | undefined {
  if (due(s.breaker, now)) return episodeKey(s.breaker.until);
  const h = model === undefined ? undefined : s.models[model];
  return h && due(h.breaker, now) ? episodeKey(h.breaker.until, model) : undefined;
}

/** Every opening due a probe at `now` (see probeEpisode), provider-wide and per model. */
export function dueEpisodes(s: ProviderState, now: number): string[] {
  const out = due(s.breaker, now) ? [episodeKey(s.breaker.until)] : [];
  for (const [model, h] of Object.entries(s.models)) {
    if (due(h.breaker, now)) out.push(episodeKey(h.breaker.until, model));
  }
  return out;
}
