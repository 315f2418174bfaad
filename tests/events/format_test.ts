import assert from "node:assert/strict";
import { type CloudEvent, toCloudEvent } from "../../src/events/envelope.ts";
import { formatEventLine } from "../../src/events/format.ts";
import { SAMPLES } from "./_samples.ts";

const line = (e: Parameters<typeof toCloudEvent>[0]) => formatEventLine(toCloudEvent(e, "id", "i"));

Deno.test("attempt.failed shows error type, status, retry-after and the message", () => {
  assert.equal(
    line(SAMPLES["attempt.failed"]),
    "03:04:05.678  attempt.failed       openai      req=req-1  #2  model=gpt-4o  error=rate_limit" +
      '  status=429  latency=95ms  retry_after=20s  "Rate limit reached"',
  );
});

Deno.test("fallback.taken shows from → to and why", () => {
  assert.equal(
    line(SAMPLES["fallback.taken"]),
    "03:04:05.678  fallback.taken       anthropic   req=req-1" +
      "  openai/gpt-4o → anthropic/claude-sonnet  fallback=1  reason=rate_limit",
  );
});

Deno.test("breaker.opened shows until when, and why", () => {
  assert.equal(
    line(SAMPLES["breaker.opened"]),
    "03:04:05.678  breaker.opened       openai      reason=failure_rate  until=03:04:35.678" +
      "  open=30s  failure_rate=60%  samples=20",
  );
  assert.match(line({ ...SAMPLES["breaker.opened"], reopenCount: 3 }), /samples=20 {2}reopen=3$/);
});

Deno.test("request-level events show - for provider and no trailing blanks", () => {
  assert.equal(
    line(SAMPLES["request.started"]),
    "03:04:05.678  request.started      -           req=req-1  model=openai/gpt-4o" +
      "  candidates=openai/gpt-4o,anthropic/claude-sonnet  stream",
  );
  assert.equal(line(SAMPLES["breaker.closed"]), "03:04:05.678  breaker.closed       openai");
});

Deno.test("every event type renders as one line with time, type and provider", () => {
  for (const event of Object.values(SAMPLES)) {
    const text = line(event);
    assert.ok(!text.includes("\n"), text);
    assert.ok(text.startsWith(`03:04:05.678  ${event.type} `), text);
    if ("provider" in event) assert.match(text, new RegExp(` ${event.provider}( |$)`));
  }
});

Deno.test("an attempt not counted against the breaker says so", () => {
  assert.match(line({ ...SAMPLES["attempt.failed"], counted: false }), / not-counted /);
});

Deno.test("long messages are cut so a line stays a line", () => {
  const text = line({ ...SAMPLES["attempt.failed"], message: "x".repeat(500) + "\nsecond" });
  assert.ok(!text.includes("\n"));
  assert.ok(text.length < 300, `${text.length}`);
});

Deno.test("unknown types from a newer gateway print their data instead of failing", () => {
  const ce = {
    ...toCloudEvent(SAMPLES["breaker.closed"], "id", "i"),
    type: "gateway.cache.hit",
    data: { provider: "openai", hits: 3 },
  } as unknown as CloudEvent;
  assert.equal(
    formatEventLine(ce),
    '03:04:05.678  cache.hit            openai      {"provider":"openai","hits":3}',
  );
});

Deno.test("something that is not a gateway event gets a marker, not an exception", () => {
  assert.match(formatEventLine({ type: "other" } as unknown as CloudEvent), /not a gateway event/);
});
