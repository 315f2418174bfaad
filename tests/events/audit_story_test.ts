import assert from "node:assert/strict";
import { formatAudit, selectAudit } from "../../src/events/audit_story.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { type CloudEvent, toCloudEvent } from "../../src/events/envelope.ts";

const T = Date.UTC(2025, 0, 2, 3, 4, 5, 0);
let n = 0;
const ce = (e: GatewayEvent) => toCloudEvent(e, `id-${++n}`, "gw-1");
const att = (at: number, requestId: string, attempt: number, provider: string, model: string) => ({
  at: T + at,
  requestId,
  attempt,
  provider,
  model,
});

/**
 * req-1: openai fails twice (one retry), its breaker opens on the second failure, groq is skipped
 * (circuit open), anthropic serves it. Around it: another request, an unrelated provider, and a
 * provider event from before the request started.
 */
const STREAM: CloudEvent[] = [
  ce({ type: "breaker.closed", at: T - 500, provider: "openai" }), // before the window
  ce({
    type: "request.started",
    at: T,
    requestId: "req-1",
    model: "openai/gpt-4o",
    candidates: ["openai/gpt-4o", "groq/llama", "anthropic/claude"],
    stream: false,
  }),
  ce({
    ...att(1, "req-1", 1, "openai", "gpt-4o"),
    type: "attempt.started",
    key: "openai-0",
    probe: false,
    reservedTokens: 0,
  }),
  ce({
    ...att(13, "req-1", 1, "openai", "gpt-4o"),
    type: "attempt.failed",
    key: "openai-0",
    probe: false,
    status: 503,
    errorType: "transient",
    message: "Mock upstream error 503.",
    latencyMs: 12.06,
    counted: true,
  }),
  ce({
    ...att(13, "req-1", 1, "openai", "gpt-4o"),
    type: "attempt.retrying",
    errorType: "transient",
    delayMs: 40,
  }),
  ce({
    type: "request.started",
    at: T + 20,
    requestId: "req-2",
    model: "anthropic/claude",
    candidates: ["anthropic/claude"],
    stream: true,
  }),
  ce({
    ...att(21, "req-2", 1, "anthropic", "claude"),
    type: "attempt.failed",
    key: "anthropic-0",
    probe: false,
    status: 429,
    errorType: "rate_limit",
    message: "slow down",
    latencyMs: 3,
    retryAfterMs: 2_000,
    counted: true,
  }),
  ce({
    type: "ratelimit.blocked",
    at: T + 21,
    provider: "anthropic",
    key: "anthropic-0",
    reason: "retry_after",
    until: T + 2_021,
  }),
  ce({
    type: "breaker.opened",
    at: T + 30,
    provider: "mistral",
    reason: "failure_rate",
    openMs: 30_000,
    until: T + 30_030,
    failureRate: 1,
    samples: 5,
    reopenCount: 0,
  }),
  ce({
    ...att(54, "req-1", 2, "openai", "gpt-4o"),
    type: "attempt.started",
    key: "openai-0",
    probe: false,
    reservedTokens: 0,
  }),
  ce({
    ...att(60, "req-1", 2, "openai", "gpt-4o"),
    type: "attempt.failed",
    key: "openai-0",
    probe: false,
    status: 503,
    errorType: "transient",
    message: "Mock upstream error 503.",
    latencyMs: 6,
    counted: true,
  }),
  ce({
    type: "breaker.opened",
    at: T + 60,
    provider: "openai",
    reason: "failure_rate",
    openMs: 10_000,
    until: T + 10_060,
    failureRate: 1,
    samples: 2,
    reopenCount: 0,
  }),
  ce({
    type: "fallback.taken",
    at: T + 61,
    requestId: "req-1",
    provider: "groq",
    model: "llama",
    fallbackIndex: 1,
    fromProvider: "openai",
    fromModel: "gpt-4o",
    reason: "transient",
  }),
  ce({
    ...att(61, "req-1", 3, "groq", "llama"),
    type: "attempt.skipped",
    reason: "circuit_open",
    retryAfterMs: 4_000,
  }),
  ce({
    type: "fallback.taken",
    at: T + 62,
    requestId: "req-1",
    provider: "anthropic",
    model: "claude",
    fallbackIndex: 2,
    fromProvider: "groq",
    fromModel: "llama",
    reason: "circuit_open",
  }),
  ce({
    ...att(62, "req-1", 3, "anthropic", "claude"),
    type: "attempt.started",
    key: "anthropic-1",
    probe: false,
    reservedTokens: 0,
  }),
  ce({
    ...att(80, "req-1", 3, "anthropic", "claude"),
    type: "attempt.succeeded",
    key: "anthropic-1",
    probe: false,
    status: 200,
    latencyMs: 18,
    reservedTokens: 0,
    usage: { promptTokens: 12, completionTokens: 30 },
  }),
  ce({
    type: "request.completed",
    at: T + 81,
    requestId: "req-1",
    provider: "anthropic",
    model: "claude",
    fallbackIndex: 2,
    attempts: 3,
    latencyMs: 81.4,
    upstreamLatencyMs: 36,
  }),
  ce({ type: "breaker.half_opened", at: T + 10_060, provider: "openai", probes: 1 }), // after it
];

Deno.test("selection: the request's events, plus its providers' events inside its window only", () => {
  const sel = selectAudit("req-1", STREAM)!;
  const types = sel.entries.map((e) =>
    `${e.event.type.slice(8)}${
      (e.event.data as { requestId?: string }).requestId
        ? ""
        : ` ${(e.event.data as { provider: string }).provider}`
    }`
  );
  assert.deepEqual(types, [
    "request.started",
    "attempt.started",
    "attempt.failed",
    "attempt.retrying",
    "ratelimit.blocked anthropic",
    "attempt.started",
    "attempt.failed",
    "breaker.opened openai",
    "fallback.taken",
    "attempt.skipped",
    "fallback.taken",
    "attempt.started",
    "attempt.succeeded",
    "request.completed",
  ]);
  assert.deepEqual(sel.providers.sort(), ["anthropic", "groq", "openai"]);
  // Other requests' own events never leak in.
  assert.ok(
    sel.entries.every((e) => (e.event.data as { requestId?: string }).requestId !== "req-2"),
  );
});

Deno.test("selection: a provider event names the attempt whose outcome produced it", () => {
  const sel = selectAudit("req-1", STREAM)!;
  const opened = sel.entries.find((e) => e.event.type === "gateway.breaker.opened")!;
  assert.deepEqual(opened.cause, { requestId: "req-1", attempt: 2 });
  const blocked = sel.entries.find((e) => e.event.type === "gateway.ratelimit.blocked")!;
  assert.deepEqual(blocked.cause, { requestId: "req-2", attempt: 1 });
});

Deno.test("the story: request line, attempts, retry, breaker it tripped, skip, fallbacks, outcome", () => {
  assert.equal(
    formatAudit(selectAudit("req-1", STREAM)!),
    [
      "Request req-1  (/gateway/gw-1)",
      "  model       openai/gpt-4o",
      "  candidates  openai/gpt-4o → groq/llama → anthropic/claude",
      "  stream      no",
      "  started     2025-01-02T03:04:05.000Z",
      "",
      "Timeline",
      "  03:04:05.000       +0ms  request started: openai/gpt-4o",
      "  03:04:05.001       +1ms  attempt #1 → openai/gpt-4o  key openai-0",
      '  03:04:05.013      +13ms    ✗ #1 openai/gpt-4o failed  transient  status 503  12.1ms  "Mock upstream error 503."',
      "  03:04:05.013      +13ms    ↻ retrying openai/gpt-4o in 40ms after transient",
      "  03:04:05.021      +21ms  [anthropic] key anthropic-0 blocked until 03:04:07.021 (retry_after)  ← caused by request req-2 (attempt #1)",
      "  03:04:05.054      +54ms  attempt #2 → openai/gpt-4o  key openai-0",
      '  03:04:05.060      +60ms    ✗ #2 openai/gpt-4o failed  transient  status 503  6ms  "Mock upstream error 503."',
      "  03:04:05.060      +60ms  [openai] breaker opened: failure_rate, 100% of 2 samples; open 10s until 03:04:15.060  ← caused by attempt #2 of this request",
      "  03:04:05.061      +61ms  fallback #1 → groq/llama  because openai/gpt-4o: transient",
      "  03:04:05.061      +61ms  skipped groq/llama: circuit_open (its circuit breaker is open), back in 4.0s",
      "  03:04:05.062      +62ms  fallback #2 → anthropic/claude  because groq/llama: circuit_open",
      "  03:04:05.062      +62ms  attempt #3 → anthropic/claude  key anthropic-1",
      "  03:04:05.080      +80ms    ✓ #3 anthropic/claude succeeded  status 200  18ms  tokens 12 in / 30 out",
      "  03:04:05.081      +81ms  completed by anthropic/claude",
      "",
      "Outcome  completed: served by anthropic/claude (fallback #2) after 3 attempts",
      "Latency  total 81.4ms, upstream 36ms (the serving attempt)",
      "Counts   3 attempts, 1 retry, 2 fallbacks, 1 skip",
    ].join("\n"),
  );
});

Deno.test("a failed request shows status, error type, retry-after and the message", () => {
  const events = [
    ce({
      type: "request.started",
      at: T,
      requestId: "r",
      model: "a/m",
      candidates: ["a/m"],
      stream: true,
    }),
    ce({
      ...att(1, "r", 1, "a", "m"),
      type: "attempt.skipped",
      reason: "rate_limited",
      retryAfterMs: 12_000,
    }),
    ce({
      type: "request.failed",
      at: T + 2,
      requestId: "r",
      status: 429,
      errorType: "rate_limit",
      message: "every candidate is rate-limited",
      attempts: 1,
      retryAfterMs: 12_000,
    }),
  ];
  const text = formatAudit(selectAudit("r", events)!);
  assert.match(text, /stream {6}yes/);
  assert.match(text, /skipped a\/m: rate_limited \(every key is rate-limited\), back in 12s/);
  assert.match(
    text,
    /Outcome {2}failed: 429 rate_limit after 1 attempt, retry after 12s\n {9}"every candidate is rate-limited"/,
  );
  assert.match(text, /Counts {3}0 attempts, 0 retries, 0 fallbacks, 1 skip$/);
});

Deno.test("a request still running, or started before the window, says so instead of guessing", () => {
  const events = [
    ce({
      ...att(0, "r", 1, "a", "m"),
      type: "attempt.started",
      key: "k",
      probe: true,
      reservedTokens: 0,
    }),
  ];
  const text = formatAudit(selectAudit("r", events)!);
  assert.match(
    text,
    /started {5}before the window read \(request\.started not found; try a longer --since\)/,
  );
  assert.match(text, /attempt #1 → a\/m {2}key k {2}\(half-open probe\)/);
  assert.match(text, /Outcome {2}unknown: no request\.completed or request\.failed/);
});

Deno.test("an unknown request id selects nothing", () => {
  assert.equal(selectAudit("nope", STREAM), undefined);
  assert.equal(selectAudit("req-1", []), undefined);
});
