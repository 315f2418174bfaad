import assert from "node:assert/strict";
import { answeredState, withUpstreamHeaders } from "../../src/plugins/around_attempts.ts";
import { openaiAdapter } from "../../src/providers/mod.ts";
import type { ProviderTarget } from "../../src/providers/execute.ts";

const target: ProviderTarget = {
  adapter: openaiAdapter,
  baseUrl: "http://127.0.0.1:1/v1",
  timeouts: { firstTokenMs: 1_000, totalMs: 2_000 },
  secrets: new Map(),
  settings: { headers: { "x-title": "from config" } },
};

Deno.test("forwarded headers join the target's static headers; the configured ones win", () => {
  const t = withUpstreamHeaders(target, { "x-trace-id": "t-1", "x-title": "from client" });
  assert.deepEqual(t.settings.headers, { "x-trace-id": "t-1", "x-title": "from config" });
  assert.deepEqual(
    target.settings.headers,
    { "x-title": "from config" },
    "shared target untouched",
  );
  assert.equal(withUpstreamHeaders(target, {}), target, "no headers: the same target");
});

Deno.test("an answered request's state: done, no attempts, fallback index 0", () => {
  const s = answeredState("req-1", 5, [{ provider: "a", model: "m" }]);
  assert.deepEqual(
    [s.phase, s.requestId, s.startedAt, s.index, s.attempts.length, s.waitedMs],
    ["done", "req-1", 5, 0, 0, 0],
  );
});
