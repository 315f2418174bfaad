// The supervisor decider: one per request. It walks the candidate chain (model, then fallbacks),
// folds what the provider actors report about each attempt, and decides the next step:
// done, retry the same provider after a full-jitter backoff, fall over, or give up.
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
  maxRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

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
  | { type: "failed"; kind: FailureKind; status?: number; message: string; retryAfterMs?: number };

export interface SupervisorState {
  phase: "new" | "running" | "done" | "failed";
  requestId: string;
  startedAt: number;
  candidates: readonly Candidate[];
  index: number;
  attempt: number;
  retries: number;
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

const RETRYABLE: ReadonlySet<FailureKind> = new Set(["transient", "timeout", "unknown"]);

export const initialSupervisor: SupervisorState = {
  phase: "new",
  requestId: "",
  startedAt: 0,
  candidates: [],
  index: 0,
  attempt: 0,
  retries: 0,
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
  if (last.type === "failed") {
    // While continuing an answer the client already has, a refusal (e.g. of the continuation's
    // prefill) is that candidate's, not the caller's: the next candidate may still continue.
    if (last.kind === "caller_fault" && !c.continuable) {
      return [fail(base, s, last.status ?? 400, "caller_fault", last.message)];
    }
    if (c.committed && !c.continuable) {
      return [
        fail(base, s, 502, last.kind, `${current.provider} failed mid-stream: ${last.message}`),
      ];
    }
    if (RETRYABLE.has(last.kind) && s.retries < cfg.maxRetries) {
      const cap = Math.min(cfg.backoffMaxMs, cfg.backoffBaseMs * 2 ** s.retries);
      return [{
        type: "attempt.retrying",
        ...base,
        attempt: s.attempt,
        provider: current.provider,
        model: current.model,
        errorType: last.kind,
        delayMs: Math.round(c.rand * cap), // full jitter
      }];
    }
  }
  const reason = last.type === "failed" ? last.kind : last.reason;
  const to = s.candidates[s.index + 1];
  if (to) {
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
  const end = exhausted(base, s);
  // A continued answer is already a 200 stream: what ends it is the upstreams' failure.
  return [c.continuable && end.status < 500 ? { ...end, status: 502 } : end];
}

function fail(
  base: { at: number; requestId: string },
  s: SupervisorState,
  status: number,
  errorType: string,
  message: string,
  retryAfterMs?: number,
): EventOf<"request.failed"> {
  return {
    type: "request.failed",
    ...base,
    status,
    errorType,
    message,
    attempts: s.attempts.length,
    retryAfterMs,
  };
}

/** Every candidate was tried or skipped: pick the status that tells the client most. */
function exhausted(base: { at: number; requestId: string }, s: SupervisorState) {
  const waits = s.misses.map((m) => m.retryAfterMs).filter((x): x is number => x !== undefined);
  const retryAfterMs = waits.length ? Math.min(...waits) : undefined;
  const story = s.attempts
    .map((a) => `${a.provider}/${a.model}: ${a.error_type}${a.status ? ` ${a.status}` : ""}`)
    .join("; ");
  const failures = s.misses.filter((m) => m.type === "failed");
  const unsupported = s.misses.filter((m) => m.type === "skipped" && m.reason === "unsupported");
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
  const status = lastFailure.kind === "rate_limit"
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
      };
    case "attempt.aborted":
      return {
        ...s,
        last: { type: "aborted" },
        attempts: [...s.attempts, summary(e, null, "client_abort")],
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
      const last = {
        type: "failed" as const,
        kind: e.errorType,
        status: e.status,
        message: e.message,
        retryAfterMs: e.retryAfterMs,
      };
      return {
        ...s,
        last,
        misses: [...s.misses, last],
        attempts: [...s.attempts, summary(e, e.status ?? null, e.errorType)],
      };
    }
    case "attempt.retrying":
      return {
        ...s,
        retries: s.retries + 1,
        attempt: s.attempt + 1,
        waitedMs: s.waitedMs + e.delayMs,
        last: undefined,
      };
    case "fallback.taken":
      return { ...s, index: s.index + 1, retries: 0, attempt: s.attempt + 1, last: undefined };
    case "request.completed":
      return { ...s, phase: "done", outcome: e };
    case "request.failed":
      return { ...s, phase: "failed", outcome: e };
    default:
      return s;
  }
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
