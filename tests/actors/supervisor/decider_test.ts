import assert from "node:assert/strict";
import type {
  EventOf,
  FailureKind,
  GatewayEvent,
  SkipReason,
} from "../../../src/events/catalogue.ts";
import { replay } from "../../../actors/runtime/mod.ts";
import {
  createSupervisorDecider,
  parseCandidate,
  type SupervisorCommand,
  type SupervisorConfig,
} from "../../../actors/supervisor/mod.ts";

const T = 1_700_000_000_000;
const cfg: SupervisorConfig = { maxRetries: 2, backoffBaseMs: 100, backoffMaxMs: 1_000 };
const CANDIDATES = ["openai/gpt-4o", "anthropic/claude", "groq/llama"];
const at = (i: number) => parseCandidate(CANDIDATES[i]);

// ---- given: the events a request accumulates --------------------------------------------------

const requestStarted = (candidates = CANDIDATES): GatewayEvent => ({
  type: "request.started",
  at: T,
  requestId: "req",
  model: "gpt-4o",
  candidates,
  stream: false,
});
const attemptBase = (i: number, attempt: number) => ({
  at: T + 10 * attempt,
  requestId: "req",
  attempt,
  ...at(i),
});
const failed = (
  i: number,
  attempt: number,
  kind: FailureKind,
  f: { status?: number; retryAfterMs?: number } = {},
): GatewayEvent => ({
  type: "attempt.failed",
  ...attemptBase(i, attempt),
  key: "k",
  probe: false,
  status: "status" in f ? f.status : 500,
  errorType: kind,
  message: `${kind} from ${at(i).provider}`,
  latencyMs: 40,
  retryAfterMs: f.retryAfterMs,
  counted: ["transient", "timeout", "unknown", "auth"].includes(kind),
});
const succeeded = (i: number, attempt: number, latencyMs = 300): GatewayEvent => ({
  type: "attempt.succeeded",
  ...attemptBase(i, attempt),
  key: "k",
  probe: false,
  status: 200,
  latencyMs,
  reservedTokens: 0,
});
const skipped = (
  i: number,
  attempt: number,
  reason: SkipReason,
  retryAfterMs: number,
): GatewayEvent => ({
  type: "attempt.skipped",
  ...attemptBase(i, attempt),
  reason,
  retryAfterMs,
});
const aborted = (i: number, attempt: number): GatewayEvent => ({
  type: "attempt.aborted",
  ...attemptBase(i, attempt),
  key: "k",
  probe: false,
  latencyMs: 5,
});
const retrying = (i: number, attempt: number, delayMs = 10): GatewayEvent => ({
  type: "attempt.retrying",
  ...attemptBase(i, attempt),
  errorType: "transient",
  delayMs,
});
const fallback = (to: number, reason = "transient"): GatewayEvent => ({
  type: "fallback.taken",
  at: T,
  requestId: "req",
  ...at(to),
  fallbackIndex: to,
  fromProvider: at(to - 1).provider,
  fromModel: at(to - 1).model,
  reason,
});

// ---- when / then ------------------------------------------------------------------------------

const decider = createSupervisorDecider(cfg);
function when(given: GatewayEvent[], command: SupervisorCommand, config = cfg) {
  const d = config === cfg ? decider : createSupervisorDecider(config);
  return d.decide(replay(d, given), command);
}
const next = (rand = 0.5, committed = false): SupervisorCommand => ({
  kind: "next",
  now: T + 1_000,
  rand,
  committed,
});
const only = <K extends GatewayEvent["type"]>(events: GatewayEvent[], type: K): EventOf<K> => {
  assert.equal(events.length, 1, `one event, got ${events.map((e) => e.type)}`);
  assert.equal(events[0].type, type);
  return events[0] as EventOf<K>;
};

Deno.test("start announces the request and its candidate chain", () => {
  const events = when([], {
    kind: "start",
    now: T,
    requestId: "req",
    model: "gpt-4o",
    candidates: CANDIDATES.map(parseCandidate),
    stream: true,
  });
  assert.deepEqual(events, [{ ...requestStarted(), stream: true }]);
  const s = replay(decider, events);
  assert.deepEqual([s.phase, s.index, s.attempt, s.candidates[2]], ["running", 0, 1, at(2)]);
});

Deno.test("success → request.completed with the fallback index and the attempt count", () => {
  const cases: {
    name: string;
    given: GatewayEvent[];
    provider: string;
    index: number;
    attempts: number;
  }[] = [
    { name: "first try", given: [succeeded(0, 1, 250)], provider: "openai", index: 0, attempts: 1 },
    {
      name: "after a retry and a fallback",
      given: [
        failed(0, 1, "transient"),
        retrying(0, 1),
        failed(0, 2, "auth"),
        fallback(1),
        succeeded(1, 3, 250),
      ],
      provider: "anthropic",
      index: 1,
      attempts: 3,
    },
    {
      name: "after a skip",
      given: [
        skipped(0, 1, "circuit_open", 5_000),
        fallback(1, "circuit_open"),
        succeeded(1, 2, 250),
      ],
      provider: "anthropic",
      index: 1,
      attempts: 2,
    },
  ];
  for (const c of cases) {
    const done = only(when([requestStarted(), ...c.given], next()), "request.completed");
    assert.deepEqual(done, {
      type: "request.completed",
      at: T + 1_000,
      requestId: "req",
      provider: c.provider,
      model: c.provider === "openai" ? "gpt-4o" : "claude",
      fallbackIndex: c.index,
      attempts: c.attempts,
      latencyMs: 1_000,
      upstreamLatencyMs: 250,
    }, c.name);
  }
});

Deno.test("retryable failure with retries left → attempt.retrying after a full-jitter delay", () => {
  const big = { maxRetries: 10, backoffBaseMs: 100, backoffMaxMs: 1_000 };
  const cases: { kind: FailureKind; retries: number; rand: number; delayMs: number }[] = [
    { kind: "transient", retries: 0, rand: 0.5, delayMs: 50 }, // cap 100
    { kind: "timeout", retries: 1, rand: 0.5, delayMs: 100 }, // cap 200
    { kind: "unknown", retries: 2, rand: 0.75, delayMs: 300 }, // cap 400
    { kind: "transient", retries: 3, rand: 0.999, delayMs: 799 }, // cap 800
    { kind: "transient", retries: 4, rand: 0.5, delayMs: 500 }, // 1600 capped at 1000
    { kind: "transient", retries: 8, rand: 0.999, delayMs: 999 }, // never above the cap
    { kind: "timeout", retries: 0, rand: 0, delayMs: 0 }, // full jitter reaches 0
  ];
  for (const c of cases) {
    const given = [requestStarted()];
    for (let r = 0; r < c.retries; r++) given.push(failed(0, r + 1, c.kind), retrying(0, r + 1));
    given.push(failed(0, c.retries + 1, c.kind));
    const e = only(when(given, next(c.rand), big), "attempt.retrying");
    assert.deepEqual(e, {
      type: "attempt.retrying",
      at: T + 1_000,
      requestId: "req",
      attempt: c.retries + 1,
      provider: "openai",
      model: "gpt-4o",
      errorType: c.kind,
      delayMs: c.delayMs,
    }, `${c.kind} after ${c.retries} retries, rand ${c.rand}`);
  }
});

Deno.test("retries used up → fall over to the next candidate; the count resets there", () => {
  const given = [
    requestStarted(),
    failed(0, 1, "transient"),
    retrying(0, 1),
    failed(0, 2, "transient"),
    retrying(0, 2),
    failed(0, 3, "transient"),
  ];
  const e = only(when(given, next()), "fallback.taken");
  assert.deepEqual([e.provider, e.fallbackIndex, e.reason], ["anthropic", 1, "transient"]);
  const there = [...given, e, failed(1, 4, "timeout")];
  assert.equal(only(when(there, next()), "attempt.retrying").provider, "anthropic");
});

Deno.test("non-retryable provider failures fall over straight away, even with retries left", () => {
  for (const kind of ["rate_limit", "quota", "auth", "model_unavailable"] as const) {
    const e = only(when([requestStarted(), failed(0, 1, kind)], next()), "fallback.taken");
    assert.deepEqual(e, {
      type: "fallback.taken",
      at: T + 1_000,
      requestId: "req",
      provider: "anthropic",
      model: "claude",
      fallbackIndex: 1,
      fromProvider: "openai",
      fromModel: "gpt-4o",
      reason: kind,
    }, kind);
  }
});

Deno.test("caller fault → request.failed with the upstream status; no retry, no fallback", () => {
  const cases: { status?: number; want: number }[] = [
    { status: 400, want: 400 },
    { status: 413, want: 413 },
    { status: 422, want: 422 },
    { status: undefined, want: 400 },
  ];
  for (const c of cases) {
    const given = [requestStarted(), failed(0, 1, "caller_fault", { status: c.status })];
    const e = only(when(given, next()), "request.failed");
    assert.deepEqual(e, {
      type: "request.failed",
      at: T + 1_000,
      requestId: "req",
      status: c.want,
      errorType: "caller_fault",
      message: "caller_fault from openai",
      attempts: 1,
      retryAfterMs: undefined,
    }, `status ${c.status}`);
  }
});

Deno.test("a stream that already reached the client fails with 502: no retry, no fallback", () => {
  for (const kind of ["transient", "timeout", "rate_limit", "unknown"] as const) {
    const e = only(when([requestStarted(), failed(0, 1, kind)], next(0.5, true)), "request.failed");
    assert.equal(e.status, 502, kind);
    assert.equal(e.errorType, kind);
    assert.match(e.message, /openai failed mid-stream/);
  }
});

Deno.test("a skipped candidate → fall over, with the skip reason", () => {
  for (const reason of ["circuit_open", "rate_limited", "model_unavailable"] as const) {
    const e = only(
      when([requestStarted(), skipped(0, 1, reason, 9_000)], next()),
      "fallback.taken",
    );
    assert.deepEqual([e.provider, e.fallbackIndex, e.reason], ["anthropic", 1, reason]);
  }
});

Deno.test("every candidate skipped → 503 (429 if all rate-limited) with the soonest Retry-After", () => {
  const cases: {
    name: string;
    reasons: [SkipReason, number][];
    status: number;
    type: string;
    retry: number;
  }[] = [
    {
      name: "all rate-limited",
      reasons: [["rate_limited", 9_000], ["rate_limited", 2_000], ["rate_limited", 5_000]],
      status: 429,
      type: "rate_limit",
      retry: 2_000,
    },
    {
      name: "circuits open",
      reasons: [["circuit_open", 30_000], ["circuit_open", 12_000], ["circuit_open", 60_000]],
      status: 503,
      type: "unavailable",
      retry: 12_000,
    },
    {
      name: "mixed",
      reasons: [["rate_limited", 4_000], ["circuit_open", 8_000], ["model_unavailable", 3_000]],
      status: 503,
      type: "unavailable",
      retry: 3_000,
    },
  ];
  for (const c of cases) {
    const given: GatewayEvent[] = [requestStarted()];
    c.reasons.forEach(([reason, ms], i) => {
      if (i > 0) given.push(fallback(i, c.reasons[i - 1][0]));
      given.push(skipped(i, i + 1, reason, ms));
    });
    const e = only(when(given, next()), "request.failed");
    assert.deepEqual(
      [e.status, e.errorType, e.retryAfterMs, e.attempts],
      [c.status, c.type, c.retry, 3],
      c.name,
    );
  }
});

Deno.test("every candidate tried and failed → the status that fits the last failure", () => {
  const one = ["openai/gpt-4o"];
  const cases: {
    name: string;
    misses: GatewayEvent[];
    status: number;
    type: string;
    retry?: number;
  }[] = [
    {
      name: "rate limited",
      misses: [failed(0, 1, "rate_limit", { status: 429, retryAfterMs: 7_000 })],
      status: 429,
      type: "rate_limit",
      retry: 7_000,
    },
    {
      name: "timed out",
      misses: [failed(0, 1, "timeout", { status: undefined })],
      status: 504,
      type: "timeout",
    },
    {
      name: "model gone",
      misses: [failed(0, 1, "model_unavailable", { status: 404 })],
      status: 404,
      type: "model_unavailable",
    },
    { name: "auth", misses: [failed(0, 1, "auth", { status: 401 })], status: 502, type: "auth" },
    {
      name: "quota",
      misses: [failed(0, 1, "quota", { status: 429, retryAfterMs: 60_000 })],
      status: 502,
      type: "quota",
      retry: 60_000,
    },
    {
      name: "skip then failure: the failure speaks, the skip's wait still counts",
      misses: [
        skipped(0, 1, "circuit_open", 4_000),
        fallback(1, "circuit_open"),
        failed(1, 2, "auth", { status: 403 }),
      ],
      status: 502,
      type: "auth",
      retry: 4_000,
    },
    {
      name: "404 after a 5xx elsewhere: not every failure was a missing model",
      misses: [
        failed(0, 1, "quota"),
        fallback(1, "quota"),
        failed(1, 2, "model_unavailable", { status: 404 }),
      ],
      status: 502,
      type: "model_unavailable",
    },
  ];
  for (const c of cases) {
    const candidates = c.misses.some((e) => e.type === "fallback.taken")
      ? CANDIDATES.slice(0, 2)
      : one;
    const given = [requestStarted(candidates), ...c.misses];
    // Non-retryable kinds go straight to the verdict; timeouts get retried first.
    const cfgNoRetry = { ...cfg, maxRetries: 0 };
    const e = only(when(given, next(), cfgNoRetry), "request.failed");
    assert.deepEqual([e.status, e.errorType, e.retryAfterMs], [c.status, c.type, c.retry], c.name);
    assert.match(e.message, /All candidates failed/, c.name);
  }
});

Deno.test("client abort → 499, whether reported by the attempt or between attempts", () => {
  const viaAttempt = only(when([requestStarted(), aborted(0, 1)], next()), "request.failed");
  assert.deepEqual([viaAttempt.status, viaAttempt.errorType], [499, "client_abort"]);
  const between = when([requestStarted(), failed(0, 1, "transient"), retrying(0, 1)], {
    kind: "abort",
    now: T + 50,
  });
  const e = only(between, "request.failed");
  assert.deepEqual([e.status, e.errorType, e.attempts, e.at], [499, "client_abort", 1, T + 50]);
});

Deno.test("a finished request decides nothing more", () => {
  const done = [requestStarted(), succeeded(0, 1)];
  const completed = when(done, next());
  const finished = [...done, ...completed];
  assert.deepEqual(when(finished, next()), []);
  assert.deepEqual(when(finished, { kind: "abort", now: T + 2_000 }), [], "too late to abort");
  assert.deepEqual(when([], next()), [], "not started");
  assert.deepEqual(when([], { kind: "abort", now: T }), []);
  const s = replay(decider, finished);
  assert.equal(s.phase, "done");
  assert.deepEqual(s.outcome, completed[0]);
});

Deno.test("events of another request do not leak into this one", () => {
  const foreign: GatewayEvent = {
    ...failed(0, 1, "caller_fault"),
    requestId: "other",
  } as GatewayEvent;
  const s = replay(decider, [requestStarted(), foreign]);
  assert.equal(s.last, undefined);
  assert.deepEqual(s.attempts, []);
  assert.deepEqual(when([requestStarted(), foreign, succeeded(0, 1)], next()).map((e) => e.type), [
    "request.completed",
  ]);
});

Deno.test("the attempt summary lists every try, skip and failure in order", () => {
  const s = replay(decider, [
    requestStarted(),
    failed(0, 1, "transient", { status: 503 }),
    retrying(0, 1, 120),
    skipped(0, 2, "circuit_open", 1_000),
    fallback(1, "circuit_open"),
    succeeded(1, 3, 320),
  ]);
  assert.deepEqual(s.attempts, [
    { provider: "openai", model: "gpt-4o", status: 503, error_type: "transient", latency_ms: 40 },
    {
      provider: "openai",
      model: "gpt-4o",
      status: null,
      error_type: "circuit_open",
      latency_ms: 0,
    },
    { provider: "anthropic", model: "claude", status: 200, error_type: null, latency_ms: 320 },
  ]);
  assert.equal(s.waitedMs, 120, "backoff time is tracked apart");
});

Deno.test("stop (a plugin ends the chain): plugin.stopped then request.failed, no fallback", () => {
  const events = when([requestStarted(), failed(0, 1, "transient", { status: 503 })], {
    kind: "stop",
    now: T + 1_000,
    plugin: "no_fallover",
    reason: "fallbacks are disabled for this tenant",
    status: 503,
    errorType: "plugin_stopped",
  });
  assert.deepEqual(events.map((e) => e.type), ["plugin.stopped", "request.failed"]);
  assert.deepEqual(events[0], {
    type: "plugin.stopped",
    at: T + 1_000,
    requestId: "req",
    plugin: "no_fallover",
    reason: "fallbacks are disabled for this tenant",
    status: 503,
    attempt: 1,
    ...at(0),
  });
  const f = events[1] as EventOf<"request.failed">;
  assert.deepEqual([f.status, f.errorType, f.message, f.attempts], [
    503,
    "plugin_stopped",
    "fallbacks are disabled for this tenant",
    1,
  ]);
  assert.equal(replay(decider, [requestStarted(), ...events]).phase, "failed");
});

Deno.test("stop after the request ended decides nothing", () => {
  const done = [requestStarted(), succeeded(0, 1)];
  const finished = [...done, ...when(done, next())];
  const stop: SupervisorCommand = {
    kind: "stop",
    now: T + 2_000,
    plugin: "p",
    reason: "late",
    status: 400,
    errorType: "invalid_request_error",
  };
  assert.deepEqual(when(finished, stop), []);
});
