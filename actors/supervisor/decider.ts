// The supervisor decider: one per request. It walks the candidate chain (model, then fallbacks),
// folds what the provider actors report about each attempt, and decides the next step:
// done, retry the same model after a backoff (never sooner than the provider asked), fall over,
// or give up. The request's budget (timeouts.requestMs) bounds it all: no attempt starts and no
// retry wait ends past it.
import type { EventOf, FailureKind, GatewayEvent } from "../../src/events/catalogue.ts";
import type { Decider } from "../runtime/mod.ts";

export interface Candidate {
  provider: string;
  model: string;
}

/** A plugin ending the chain: no further fallback, the client gets `reason` with `status`. */
export interface ChainStop {
  plugin: string;
  reason: string;
  status: number;
  errorType: string;
}

/** Who failed mid-stream, and how the current attempt continues that answer. */
export interface ContinuedInfo {
  fromProvider: string;
  fromModel: string;
  mode: "prefill" | "continue";
  /** Characters of answer text the client had when the stream failed. */
  sentChars: number;
  /** The failure kind that ended the first stream. */
  reason: string;
}

export interface SupervisorConfig {
  /** Same-model retries of transient/unknown failures (`retries.max`). */
  maxRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * Longest wait a rate limit may ask for and still get the same model retried (once) after it;
   * a longer one falls over at once (`retries.maxRetryAfterMs`, default 3000).
   */
  maxRetryAfterMs?: number;
  /**
   * The whole-call budget (`timeouts.requestMs`): no attempt starts and no retry wait ends later
   * than this after the request started. Absent: unbounded.
   */
  requestMs?: number;
}

export const DEFAULT_MAX_RETRY_AFTER_MS = 3_000;

/** Verdicts that say no candidate could serve the request at all, budget or not. */
const UNSERVABLE: ReadonlySet<string> = new Set(["capability", "unsupported"]);

/** However the retry rules combine, one model gets at most this many calls per request. */
export const MAX_CALLS_PER_MODEL = 3;

/** One line of `extra_fields.attempts` / `x-gateway-attempts`. */
export interface AttemptSummary {
  provider: string;
  model: string;
  status: number | null;
  error_type: string | null;
  latency_ms: number;
}

type Last =
  | { type: "succeeded"; latencyMs: number }
  | { type: "aborted" }
  | { type: "skipped"; reason: string; retryAfterMs?: number; message?: string }
  | {
    type: "failed";
    /** When the attempt failed, to measure its Retry-After from. */
    at: number;
    kind: FailureKind;
    status?: number;
    message: string;
    retryAfterMs?: number;
    /** The upstream's error code (e.g. context_length_exceeded), when it sent one. */
    code?: string;
  };

export interface SupervisorState {
  phase: "new" | "running" | "done" | "failed";
  requestId: string;
  startedAt: number;
  candidates: readonly Candidate[];
  index: number;
  attempt: number;
  /** Retries of the current candidate (any kind), and of those the rate-limit ones. */
  retries: number;
  rateLimitRetries: number;
  /** The current candidate's (key, model) is blocked until then (ratelimit.blocked, Retry-After). */
  blockedUntil: number;
  /** Calls made to each "provider/model" in this request (attempts with an outcome). */
  calls: Readonly<Record<string, number>>;
  /** Time spent in retry backoff, so overhead figures can leave it out. */
  waitedMs: number;
  last?: Last;
  attempts: readonly AttemptSummary[];
  /** Every miss so far, for the final error and Retry-After. */
  misses: readonly Exclude<Last, { type: "succeeded" } | { type: "aborted" }>[];
  outcome?: EventOf<"request.completed"> | EventOf<"request.failed">;
}

export type SupervisorCommand =
  | {
    kind: "start";
    now: number;
    requestId: string;
    model: string;
    candidates: Candidate[];
    stream: boolean;
  }
  /**
   * Decide after the current attempt's events were folded. `committed`: a stream already reached
   * the client. `continuable`: the answer may be continued by another attempt (mid-stream
   * continuation), so a committed failure, or a continuation attempt's own refusal, runs on.
   */
  | { kind: "next"; now: number; rand: number; committed: boolean; continuable?: boolean }
  /** A continuation attempt's stream has taken over the answer. */
  | ({ kind: "continued"; now: number } & ContinuedInfo)
  /** The client went away between attempts. */
  | { kind: "abort"; now: number }
  /** The current candidate cannot serve this request at all (e.g. an unsupported parameter). */
  | { kind: "skip"; now: number; message: string }
  /** A plugin ends the chain after the current attempt (its outcome was already folded). */
  | ({ kind: "stop"; now: number } & ChainStop);

export const initialSupervisor: SupervisorState = {
  phase: "new",
  requestId: "",
  startedAt: 0,
  candidates: [],
  index: 0,
  attempt: 0,
  retries: 0,
  rateLimitRetries: 0,
  blockedUntil: 0,
  calls: {},
  waitedMs: 0,
  attempts: [],
  misses: [],
};

export function createSupervisorDecider(
  cfg: SupervisorConfig,
): Decider<SupervisorState, SupervisorCommand, GatewayEvent> {
  return {
    initialState: initialSupervisor,
    decide(s, c) {
      if (c.kind === "start") {
        return [{
          type: "request.started",
          at: c.now,
          requestId: c.requestId,
          model: c.model,
          candidates: c.candidates.map((x) => `${x.provider}/${x.model}`),
          stream: c.stream,
        }];
      }
      if (c.kind === "skip") {
        const current = s.candidates[s.index];
        if (s.phase !== "running" || !current) return [];
        return [{
          type: "attempt.skipped",
          at: c.now,
          requestId: s.requestId,
          attempt: s.attempt,
          provider: current.provider,
          model: current.model,
          reason: "unsupported",
          retryAfterMs: 0,
          message: c.message,
        }];
      }
      if (c.kind === "abort") {
        return s.phase === "running"
          ? [
            fail(
              { at: c.now, requestId: s.requestId },
              s,
              499,
              "client_abort",
              "The client closed the request.",
            ),
          ]
          : [];
      }
      if (c.kind === "continued") {
        const current = s.candidates[s.index];
        if (s.phase !== "running" || !current) return [];
        const { kind: _, now, ...info } = c;
        return [{
          type: "stream.continued",
          at: now,
          requestId: s.requestId,
          attempt: s.attempt,
          provider: current.provider,
          model: current.model,
          ...info,
        }];
      }
      if (c.kind === "stop") {
        const current = s.candidates[s.index];
        if (s.phase !== "running" || !current) return [];
        const base = { at: c.now, requestId: s.requestId };
        return [
          {
            type: "plugin.stopped",
            ...base,
            plugin: c.plugin,
            reason: c.reason,
            status: c.status,
            attempt: s.attempt,
            provider: current.provider,
            model: current.model,
          },
          fail(base, s, c.status, c.errorType, c.reason),
        ];
      }
      return next(cfg, s, c);
    },
    evolve,
  };
}

function next(
  cfg: SupervisorConfig,
  s: SupervisorState,
  c: Extract<SupervisorCommand, { kind: "next" }>,
): GatewayEvent[] {
  const last = s.last;
  const base = { at: c.now, requestId: s.requestId };
  const current = s.candidates[s.index];
  if (s.phase !== "running" || !last) return [];
  if (last.type === "succeeded") {
    return [{
      type: "request.completed",
      ...base,
      provider: current.provider,
      model: current.model,
      fallbackIndex: s.index,
      attempts: s.attempts.length,
      latencyMs: c.now - s.startedAt,
      upstreamLatencyMs: last.latencyMs,
    }];
  }
  if (last.type === "aborted") {
    return [fail(base, s, 499, "client_abort", "The client closed the request.")];
  }
  const deadline = s.startedAt + (cfg.requestMs ?? Infinity);
  if (last.type === "failed") {
    // While continuing an answer the client already has, a refusal (e.g. of the continuation's
    // prefill) is that candidate's, not the caller's: the next candidate may still continue.
    if (last.kind === "caller_fault" && !c.continuable) {
      return [
        fail(base, s, last.status ?? 400, "caller_fault", last.message, undefined, last.code),
      ];
    }
    if (c.committed && !c.continuable) {
      return [
        fail(base, s, 502, last.kind, `${current.provider} failed mid-stream: ${last.message}`),
      ];
    }
    const delayMs = retryDelay(cfg, s, last, c);
    // A wait that would end past the budget is no retry: fall over at once instead.
    if (delayMs !== undefined && c.now + delayMs < deadline) {
      return [{
        type: "attempt.retrying",
        ...base,
        attempt: s.attempt,
        provider: current.provider,
        model: current.model,
        errorType: last.kind,
        delayMs,
      }];
    }
  }
  const reason = last.type === "failed" ? last.kind : last.reason;
  const to = s.candidates[s.index + 1];
  if (!to) {
    // Out of candidates and out of time: the budget is what ended it, unless no candidate
    // could have served the request anyway (that 400 tells the client more).
    const exhaustedVerdict = exhausted(base, s);
    const verdict = c.now >= deadline && !UNSERVABLE.has(exhaustedVerdict.errorType)
      ? outOfTime(base, s, cfg.requestMs!)
      : exhaustedVerdict;
    // A continued answer is already a 200 stream: what ends it is the upstreams' failure.
    return [c.continuable && verdict.status < 500 ? { ...verdict, status: 502 } : verdict];
  }
  if (c.now >= deadline) return [outOfTime(base, s, cfg.requestMs!)];
  return [{
    type: "fallback.taken",
    ...base,
    provider: to.provider,
    model: to.model,
    fallbackIndex: s.index + 1,
    fromProvider: current.provider,
    fromModel: current.model,
    reason,
  }];
}

/**
 * How long to wait before calling the same model again, or undefined to fall over at once:
 * - `transient` / `unknown`: up to `maxRetries` retries, full jitter (as before);
 * - `rate_limit` with a Retry-After up to `maxRetryAfterMs`: one retry once it has passed;
 *   a longer one: fall over;
 * - `rate_limit` without one: backoff with jitter, never before the (key, model) block the
 *   provider actor set (ratelimit.blocked);
 * - everything else (`timeout`: a silent route is not retried; `capability`, `auth`, `quota`,
 *   `model_unavailable`): fall over.
 * Never sooner than a Retry-After, never more than MAX_CALLS_PER_MODEL calls to one model.
 */
function retryDelay(
  cfg: SupervisorConfig,
  s: SupervisorState,
  last: Extract<Last, { type: "failed" }>,
  c: Extract<SupervisorCommand, { kind: "next" }>,
): number | undefined {
  const current = s.candidates[s.index];
  if ((s.calls[refOf(current)] ?? 0) >= MAX_CALLS_PER_MODEL) return undefined;
  const maxWait = cfg.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  if (last.retryAfterMs !== undefined && last.retryAfterMs > maxWait) return undefined;
  // What the provider asked for (Retry-After from the failure, the actor's block) is a floor.
  const asked = Math.max(
    0,
    last.retryAfterMs === undefined ? 0 : last.at + last.retryAfterMs - c.now,
    last.kind === "rate_limit" ? s.blockedUntil - c.now : 0,
  );
  const backoff = (n: number) => Math.min(cfg.backoffMaxMs, cfg.backoffBaseMs * 2 ** n);
  switch (last.kind) {
    case "transient":
    case "unknown":
      if (s.retries >= cfg.maxRetries) return undefined;
      return Math.max(Math.ceil(asked), Math.round(c.rand * backoff(s.retries))); // full jitter
    case "rate_limit": {
      if (last.retryAfterMs !== undefined) {
        return s.rateLimitRetries === 0 ? Math.ceil(asked) : undefined;
      }
      // No Retry-After: half the backoff fixed, half jitter, so no retry is ever immediate.
      const cap = backoff(s.rateLimitRetries);
      const delay = Math.max(Math.ceil(asked), Math.round(cap / 2 + (c.rand * cap) / 2));
      return delay <= maxWait ? delay : undefined;
    }
    default:
      return undefined;
  }
}

const refOf = (c: { provider: string; model: string }) => `${c.provider}/${c.model}`;

function fail(
  base: { at: number; requestId: string },
  s: SupervisorState,
  status: number,
  errorType: string,
  message: string,
  retryAfterMs?: number,
  code?: string,
): EventOf<"request.failed"> {
  const e: EventOf<"request.failed"> = {
    type: "request.failed",
    ...base,
    status,
    errorType,
    message,
    attempts: s.attempts.length,
    retryAfterMs,
  };
  if (code !== undefined) e.code = code;
  return e;
}

const storyOf = (s: SupervisorState) =>
  s.attempts
    .map((a) => `${a.provider}/${a.model}: ${a.error_type}${a.status ? ` ${a.status}` : ""}`)
    .join("; ");

/** The request's budget ran out: 504, naming the budget and the last miss. */
function outOfTime(base: { at: number; requestId: string }, s: SupervisorState, requestMs: number) {
  const last = s.last?.type === "failed" || s.last?.type === "skipped" ? s.last.message : undefined;
  return fail(
    base,
    s,
    504,
    "timeout",
    `The request ran out of its time budget (timeouts.requestMs = ${requestMs} ms) after ${s.attempts.length} attempt(s) (${
      storyOf(s)
    }).${last ? ` Last error: ${last}` : ""}`,
  );
}

/** Every candidate was tried or skipped: pick the status that tells the client most. */
function exhausted(base: { at: number; requestId: string }, s: SupervisorState) {
  const waits = s.misses.map((m) => m.retryAfterMs).filter((x): x is number => x !== undefined);
  const retryAfterMs = waits.length ? Math.min(...waits) : undefined;
  const story = storyOf(s);
  const failures = s.misses.filter((m) => m.type === "failed");
  const unsupported = s.misses.filter((m) => m.type === "skipped" && m.reason === "unsupported");
  const capability = failures.filter((f) => f.kind === "capability");
  if (capability.length > 0 && capability.length + unsupported.length === s.misses.length) {
    // No candidate can take this request (context too long everywhere, …): the provider's own
    // 4xx, message and code, as if the client had called it directly.
    const last = capability[capability.length - 1];
    const status = last.status !== undefined && last.status >= 400 && last.status < 500
      ? last.status
      : 400;
    return fail(base, s, status, "capability", last.message, undefined, last.code);
  }
  if (unsupported.length === s.misses.length) {
    // Waiting would not help: the request itself asks for what no candidate can do.
    const why = unsupported.map((m) => (m.type === "skipped" ? m.message : "")).join("; ");
    return fail(base, s, 400, "unsupported", `No candidate can serve this request: ${why}`);
  }
  if (failures.length === 0) {
    const allLimited = s.misses.every((m) => m.type === "skipped" && m.reason === "rate_limited");
    return fail(
      base,
      s,
      allLimited ? 429 : 503,
      allLimited ? "rate_limit" : "unavailable",
      `No provider is available right now (${story}). Retry after the Retry-After delay.`,
      retryAfterMs,
    );
  }
  const lastFailure = failures[failures.length - 1];
  const status = lastFailure.kind === "rate_limit" || lastFailure.kind === "quota"
    ? 429
    : lastFailure.kind === "timeout"
    ? 504
    : failures.every((f) => f.kind === "model_unavailable")
    ? 404
    : 502;
  return fail(
    base,
    s,
    status,
    lastFailure.kind,
    `All candidates failed (${story}). Last error: ${lastFailure.message}`,
    retryAfterMs,
  );
}

function evolve(s: SupervisorState, e: GatewayEvent): SupervisorState {
  if ("requestId" in e && s.requestId !== "" && e.requestId !== s.requestId) return s;
  switch (e.type) {
    case "request.started":
      return {
        ...initialSupervisor,
        phase: "running",
        requestId: e.requestId,
        startedAt: e.at,
        candidates: e.candidates.map(parseCandidate),
        attempt: 1,
      };
    case "attempt.succeeded":
      return {
        ...s,
        last: { type: "succeeded", latencyMs: e.latencyMs },
        attempts: [...s.attempts, summary(e, e.status, null)],
        calls: called(s, e),
      };
    case "attempt.aborted":
      return {
        ...s,
        last: { type: "aborted" },
        attempts: [...s.attempts, summary(e, null, "client_abort")],
        calls: called(s, e),
      };
    case "attempt.skipped": {
      const last = {
        type: "skipped" as const,
        reason: e.reason,
        // An unsupported candidate will not recover by waiting: no Retry-After from it.
        retryAfterMs: e.reason === "unsupported" ? undefined : e.retryAfterMs,
        message: e.message,
      };
      return {
        ...s,
        last,
        misses: [...s.misses, last],
        attempts: [...s.attempts, { ...summary(e, null, e.reason), latency_ms: 0 }],
      };
    }
    case "attempt.failed": {
      const last: Extract<Last, { type: "failed" }> = {
        type: "failed" as const,
        at: e.at,
        kind: e.errorType,
        status: e.status,
        message: e.message,
        retryAfterMs: e.retryAfterMs,
      };
      if (e.code !== undefined) last.code = e.code;
      return {
        ...s,
        last,
        misses: [...s.misses, last],
        attempts: [...s.attempts, summary(e, e.status ?? null, e.errorType)],
        calls: called(s, e),
      };
    }
    case "ratelimit.blocked": {
      // The provider actor blocked the (key, model) this attempt used: a retry waits for it.
      const current = s.candidates[s.index];
      const last = s.last;
      if (
        e.reason === "quota" && current && e.provider === current.provider &&
        last?.type === "failed" && last.kind === "quota" && last.retryAfterMs === undefined
      ) {
        // Out of quota without a hint: the key's block says when to come back.
        const hinted = { ...last, retryAfterMs: Math.max(0, e.until - e.at) };
        return { ...s, last: hinted, misses: [...s.misses.slice(0, -1), hinted] };
      }
      if (
        s.phase !== "running" || !current || e.reason !== "retry_after" ||
        e.provider !== current.provider || (e.model !== undefined && e.model !== current.model)
      ) return s;
      return e.until > s.blockedUntil ? { ...s, blockedUntil: e.until } : s;
    }
    case "attempt.retrying":
      return {
        ...s,
        retries: s.retries + 1,
        rateLimitRetries: s.rateLimitRetries + (e.errorType === "rate_limit" ? 1 : 0),
        attempt: s.attempt + 1,
        waitedMs: s.waitedMs + e.delayMs,
        last: undefined,
      };
    case "fallback.taken":
      return {
        ...s,
        index: s.index + 1,
        retries: 0,
        rateLimitRetries: 0,
        blockedUntil: 0,
        attempt: s.attempt + 1,
        last: undefined,
      };
    case "request.completed":
      return { ...s, phase: "done", outcome: e };
    case "request.failed":
      return { ...s, phase: "failed", outcome: e };
    default:
      return s;
  }
}

function called(s: SupervisorState, e: { provider: string; model: string }) {
  const ref = refOf(e);
  return { ...s.calls, [ref]: (s.calls[ref] ?? 0) + 1 };
}

function summary(
  e: { provider: string; model: string; latencyMs?: number },
  status: number | null,
  errorType: string | null,
): AttemptSummary {
  return {
    provider: e.provider,
    model: e.model,
    status,
    error_type: errorType,
    latency_ms: e.latencyMs ?? 0,
  };
}

export function parseCandidate(ref: string): Candidate {
  const i = ref.indexOf("/");
  return { provider: ref.slice(0, i), model: ref.slice(i + 1) };
}
