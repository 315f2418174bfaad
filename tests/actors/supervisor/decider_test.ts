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
  f: { status?: number; retryAfterMs?: number; code?: string; message?: string } = {},
): GatewayEvent => ({
  type: "attempt.failed",
  ...attemptBase(i, attempt),
  key: "k",
  probe: false,
  status: "status" in f ? f.status : 500,
  errorType: kind,
  message: f.message ?? `${kind} from ${at(i).provider}`,
  latencyMs: 40,
  retryAfterMs: f.retryAfterMs,
  counted: ["transient", "timeout", "unknown", "auth"].includes(kind),
  ...(f.code !== undefined && { code: f.code }),
});
/** The provider actor's block on the (key, model) after a 429, as it comes with the report. */
const blocked = (
  i: number,
  until: number,
  model: string | undefined = at(i).model,
): GatewayEvent => ({
  type: "ratelimit.blocked",
  at: T,
  provider: at(i).provider,
  key: "k",
  ...(model !== undefined && { model }),
  reason: "retry_after",
  until,
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
const retrying = (
  i: number,
  attempt: number,
  delayMs = 10,
  errorType: FailureKind = "transient",
): GatewayEvent => ({
  type: "attempt.retrying",
  ...attemptBase(i, attempt),
  errorType,
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
const next = (rand = 0.5, committed = false, now = T + 1_000): SupervisorCommand => ({
  kind: "next",
  now,
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

Deno.test("transient/unknown with retries left → attempt.retrying after a full-jitter delay", () => {
  const cases: {
    kind: FailureKind;
    retries: number;
    rand: number;
    delayMs: number;
    maxMs?: number;
  }[] = [
    { kind: "transient", retries: 0, rand: 0.5, delayMs: 50 }, // cap 100
    { kind: "unknown", retries: 1, rand: 0.5, delayMs: 100 }, // cap 200
    { kind: "transient", retries: 1, rand: 0.75, delayMs: 150 },
    { kind: "transient", retries: 1, rand: 0.999, delayMs: 150, maxMs: 150 }, // never above the cap
    { kind: "transient", retries: 0, rand: 0, delayMs: 0 }, // full jitter reaches 0
  ];
  for (const c of cases) {
    const config = { maxRetries: 10, backoffBaseMs: 100, backoffMaxMs: c.maxMs ?? 1_000 };
    const given = [requestStarted()];
    for (let r = 0; r < c.retries; r++) given.push(failed(0, r + 1, c.kind), retrying(0, r + 1));
    given.push(failed(0, c.retries + 1, c.kind));
    const e = only(when(given, next(c.rand), config), "attempt.retrying");
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
  const there = [...given, e, failed(1, 4, "transient")];
  assert.equal(only(when(there, next()), "attempt.retrying").provider, "anthropic");
});

Deno.test("no model gets more than 3 calls in a request, whatever retries.max says", () => {
  const config = { ...cfg, maxRetries: 5 };
  const given = [requestStarted()];
  for (let n = 1; n <= 2; n++) given.push(failed(0, n, "transient"), retrying(0, n));
  given.push(failed(0, 3, "transient"));
  const e = only(when(given, next(), config), "fallback.taken");
  assert.equal(e.provider, "anthropic", "the third failed call falls over");
  const two = given.slice(0, 3).concat(failed(0, 2, "unknown"));
  assert.equal(only(when(two, next(), config), "attempt.retrying").attempt, 2);
});

Deno.test("failures a retry cannot fix fall over straight away, even with retries left", () => {
  // timeout: a silent route is not retried. capability: this model cannot take the request.
  for (
    const kind of [
      "timeout",
      "capability",
      "rate_limit",
      "quota",
      "auth",
      "model_unavailable",
    ] as const
  ) {
    const given = [
      requestStarted(),
      failed(0, 1, kind, { retryAfterMs: kind === "rate_limit" ? 60_000 : undefined }),
    ];
    const e = only(when(given, next()), "fallback.taken");
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
      status: 429,
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
    // With no retries, every kind goes straight to the verdict.
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

// ---- rate limits: retries that respect the provider -------------------------------------------

Deno.test("429 with a short Retry-After → one retry of the same model, never sooner", () => {
  // failed at T+10; the block the provider actor set comes with the report.
  const cases: {
    name: string;
    retryAfterMs: number;
    until?: number;
    now: number;
    delayMs: number;
  }[] = [
    { name: "decided at once", retryAfterMs: 2_000, until: T + 2_010, now: T + 10, delayMs: 2_000 },
    { name: "decided later: only the rest", retryAfterMs: 2_000, now: T + 510, delayMs: 1_500 },
    {
      name: "the block is later still",
      retryAfterMs: 1_000,
      until: T + 2_500,
      now: T + 10,
      delayMs: 2_490,
    },
    { name: "exactly the maximum", retryAfterMs: 3_000, now: T + 10, delayMs: 3_000 },
    { name: "zero", retryAfterMs: 0, now: T + 10, delayMs: 0 },
  ];
  for (const c of cases) {
    const given = [
      requestStarted(),
      failed(0, 1, "rate_limit", { status: 429, retryAfterMs: c.retryAfterMs }),
      ...(c.until ? [blocked(0, c.until)] : []),
    ];
    const e = only(when(given, next(0.5, false, c.now)), "attempt.retrying");
    assert.deepEqual(
      [e.provider, e.errorType, e.delayMs],
      ["openai", "rate_limit", c.delayMs],
      c.name,
    );
  }
});

Deno.test("429 asking for longer than maxRetryAfterMs → fall over at once; a second 429 too", () => {
  const long = [requestStarted(), failed(0, 1, "rate_limit", { status: 429, retryAfterMs: 3_001 })];
  assert.equal(only(when(long, next()), "fallback.taken").reason, "rate_limit");
  const roomier = { ...cfg, maxRetryAfterMs: 10_000 };
  assert.equal(only(when(long, next(), roomier), "attempt.retrying").delayMs, 2_011);
  const again = [
    requestStarted(),
    failed(0, 1, "rate_limit", { status: 429, retryAfterMs: 500 }),
    retrying(0, 1, 500, "rate_limit"),
    failed(0, 2, "rate_limit", { status: 429, retryAfterMs: 500 }),
  ];
  assert.equal(only(when(again, next()), "fallback.taken").provider, "anthropic", "once only");
});

Deno.test("429 without Retry-After → jittered backoff, never before the block, at most 3 calls", () => {
  const rl = (attempt: number) => failed(0, attempt, "rate_limit", { status: 429 });
  const cases: { name: string; given: GatewayEvent[]; rand: number; delayMs: number }[] = [
    // backoff cap 100 → 50..100; the actor's block (until) is the floor.
    { name: "block dominates", given: [rl(1), blocked(0, T + 1_700)], rand: 0.5, delayMs: 700 },
    { name: "backoff dominates", given: [rl(1), blocked(0, T + 1_010)], rand: 1, delayMs: 100 },
    { name: "never immediate", given: [rl(1)], rand: 0, delayMs: 50 },
    {
      name: "second retry backs off further (cap 200 → 100..200)",
      given: [rl(1), retrying(0, 1, 600, "rate_limit"), rl(2), blocked(0, T + 1_050)],
      rand: 0.5,
      delayMs: 150,
    },
    {
      name: "a block on the whole key (no model) counts too",
      given: [rl(1), blocked(0, T + 1_900, undefined)],
      rand: 0,
      delayMs: 900,
    },
    {
      name: "a block on another model or provider does not",
      given: [rl(1), blocked(0, T + 9_000, "gpt-4o-mini"), { ...blocked(1, T + 9_000) }],
      rand: 0,
      delayMs: 50,
    },
  ];
  for (const c of cases) {
    const e = only(when([requestStarted(), ...c.given], next(c.rand)), "attempt.retrying");
    assert.deepEqual([e.errorType, e.delayMs], ["rate_limit", c.delayMs], c.name);
  }
  const third = [
    requestStarted(),
    rl(1),
    retrying(0, 1, 600, "rate_limit"),
    rl(2),
    retrying(0, 2, 600, "rate_limit"),
    rl(3),
  ];
  assert.equal(
    only(when(third, next()), "fallback.taken").reason,
    "rate_limit",
    "3 calls, then over",
  );
  const farBlock = [requestStarted(), rl(1), blocked(0, T + 1_000 + 3_001)];
  assert.equal(
    only(when(farBlock, next()), "fallback.taken").provider,
    "anthropic",
    "a block longer than maxRetryAfterMs is not waited for",
  );
});

Deno.test("a fallback starts the rate-limit bookkeeping afresh", () => {
  const given = [
    requestStarted(),
    failed(0, 1, "rate_limit", { status: 429, retryAfterMs: 100 }),
    blocked(0, T + 5_000),
    fallback(1, "rate_limit"),
    failed(1, 2, "rate_limit", { status: 429, retryAfterMs: 100 }),
  ];
  const e = only(when(given, next(0.5, false, T + 20)), "attempt.retrying");
  assert.deepEqual(
    [e.provider, e.delayMs],
    ["anthropic", 100],
    "openai's block is not anthropic's",
  );
  assert.equal(replay(decider, given).blockedUntil, 0);
});

Deno.test("a transient failure's Retry-After is respected: a floor, or a fallover when long", () => {
  const short = [requestStarted(), failed(0, 1, "transient", { status: 503, retryAfterMs: 1_500 })];
  assert.equal(only(when(short, next(0)), "attempt.retrying").delayMs, 510);
  const long = [requestStarted(), failed(0, 1, "transient", { status: 503, retryAfterMs: 60_000 })];
  assert.equal(only(when(long, next(0)), "fallback.taken").reason, "transient");
});

// ---- capability: no candidate can serve it → the provider's 400 -------------------------------

Deno.test("capability everywhere → the provider's 4xx with its message and code", () => {
  const ctx = {
    status: 400,
    code: "context_length_exceeded",
    message: "This model's maximum context length is 128000 tokens.",
  };
  const cases: {
    name: string;
    misses: GatewayEvent[];
    status: number;
    code?: string;
    message: string;
  }[] = [
    {
      name: "one candidate",
      misses: [failed(0, 1, "capability", ctx)],
      status: 400,
      code: ctx.code,
      message: ctx.message,
    },
    {
      name: "two, the last one speaks",
      misses: [
        failed(0, 1, "capability", ctx),
        fallback(1, "capability"),
        failed(1, 2, "capability", {
          status: 413,
          message: "prompt is too long: 250000 tokens > 200000 maximum",
        }),
      ],
      status: 413,
      message: "prompt is too long: 250000 tokens > 200000 maximum",
    },
    {
      name: "with an unsupported skip",
      misses: [
        failed(0, 1, "capability", ctx),
        fallback(1, "capability"),
        {
          ...skipped(1, 2, "unsupported", 0),
          message: "anthropic (anthropic): logprobs",
        } as GatewayEvent,
      ],
      status: 400,
      code: ctx.code,
      message: ctx.message,
    },
    {
      name: "an in-stream error without a status",
      misses: [failed(0, 1, "capability", { status: undefined, message: "input is too long" })],
      status: 400,
      message: "input is too long",
    },
  ];
  for (const c of cases) {
    const candidates = c.misses.some((e) => e.type === "fallback.taken")
      ? CANDIDATES.slice(0, 2)
      : ["openai/gpt-4o"];
    const e = only(when([requestStarted(candidates), ...c.misses], next()), "request.failed");
    assert.deepEqual(
      [e.status, e.errorType, e.message, e.code],
      [c.status, "capability", c.message, c.code],
      c.name,
    );
  }
});

Deno.test("capability somewhere, another failure elsewhere → the ordinary verdict", () => {
  const given = [
    requestStarted(CANDIDATES.slice(0, 2)),
    failed(0, 1, "capability", { status: 400, code: "context_length_exceeded" }),
    fallback(1, "capability"),
    failed(1, 2, "transient", { status: 503 }),
  ];
  const e = only(when(given, next(), { ...cfg, maxRetries: 0 }), "request.failed");
  assert.deepEqual([e.status, e.errorType], [502, "transient"]);
  assert.match(e.message, /openai\/gpt-4o: capability 400; anthropic\/claude: transient 503/);
});

Deno.test("a caller fault (content policy included) carries the upstream's code; no fallback", () => {
  const given = [
    requestStarted(),
    failed(0, 1, "caller_fault", {
      status: 400,
      code: "content_policy_violation",
      message: "Your request was rejected as a result of our safety system.",
    }),
  ];
  const e = only(when(given, next()), "request.failed");
  assert.deepEqual([e.status, e.errorType, e.code], [
    400,
    "caller_fault",
    "content_policy_violation",
  ]);
});

// ---- the request's budget (timeouts.requestMs) ------------------------------------------------

Deno.test("the request budget: no retry wait or attempt past it; when it runs out, 504 naming it", () => {
  const budget = { ...cfg, requestMs: 5_000 };
  const transient = [requestStarted(), failed(0, 1, "transient")];
  const cases: { name: string; given: GatewayEvent[]; now: number; rand?: number; want: string }[] =
    [
      {
        name: "a retry that fits",
        given: transient,
        now: T + 4_000,
        rand: 0.5,
        want: "attempt.retrying",
      },
      {
        name: "a wait past it: fall over instead",
        given: transient,
        now: T + 4_960,
        rand: 0.5,
        want: "fallback.taken",
      },
      {
        name: "a Retry-After past it: fall over",
        given: [
          requestStarted(),
          { ...failed(0, 1, "rate_limit", { status: 429, retryAfterMs: 2_000 }), at: T + 3_400 },
        ],
        now: T + 3_500,
        want: "fallback.taken",
      },
      {
        name: "no time left, candidates left",
        given: transient,
        now: T + 5_000,
        want: "request.failed",
      },
      {
        name: "a skip past it",
        given: [requestStarted(), skipped(0, 1, "circuit_open", 1_000)],
        now: T + 6_000,
        want: "request.failed",
      },
      {
        name: "a success past it still counts",
        given: [requestStarted(), succeeded(0, 1)],
        now: T + 9_000,
        want: "request.completed",
      },
    ];
  for (const c of cases) {
    const events = when(c.given, next(c.rand ?? 0.5, false, c.now), budget);
    const e = only(events, c.want as GatewayEvent["type"]);
    if (e.type === "request.failed") {
      assert.deepEqual([e.status, e.errorType], [504, "timeout"], c.name);
      assert.match(e.message, /time budget \(timeouts\.requestMs = 5000 ms\)/, c.name);
    }
  }
  // The last candidate out of time: the budget ended it, whatever the failure was…
  const lastOne = (kind: FailureKind, message: string) => [
    requestStarted(["openai/gpt-4o"]),
    failed(0, 1, kind, { status: 503, message }),
  ];
  const e = only(
    when(lastOne("transient", "upstream connect error"), next(0.5, false, T + 5_001), budget),
    "request.failed",
  );
  assert.deepEqual([e.status, e.errorType], [504, "timeout"]);
  assert.match(e.message, /timeouts\.requestMs = 5000 ms.*Last error: upstream connect error/);
  // …with time left, a retry that does not fit leaves the ordinary verdict…
  const early = when(lastOne("transient", "x"), next(0.5, false, T + 4_990), budget);
  assert.equal(only(early, "request.failed").status, 502);
  // …and a request no candidate can serve is still the provider's 400.
  const cap = only(
    when(lastOne("capability", "prompt is too long"), next(0.5, false, T + 6_000), budget),
    "request.failed",
  );
  assert.deepEqual([cap.status, cap.errorType], [400, "capability"]);
});

Deno.test("evolve counts calls per model and the rate-limit retries of the current candidate", () => {
  const s = replay(decider, [
    requestStarted(),
    failed(0, 1, "rate_limit", { status: 429, retryAfterMs: 100 }),
    blocked(0, T + 110),
    retrying(0, 1, 100, "rate_limit"),
    failed(0, 2, "transient"),
    retrying(0, 2),
    succeeded(0, 3),
  ]);
  assert.deepEqual(s.calls, { "openai/gpt-4o": 3 });
  assert.deepEqual([s.retries, s.rateLimitRetries, s.blockedUntil], [2, 1, T + 110]);
});
