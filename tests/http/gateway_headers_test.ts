import assert from "node:assert/strict";
import {
  type AttemptSummary,
  initialSupervisor,
  type SupervisorState,
} from "../../actors/supervisor/mod.ts";
import { extraFields, gatewayHeaders, type Served } from "../../src/http/gateway_headers.ts";

const ok = (provider: string, model: string, latency = 120.5): AttemptSummary => ({
  provider,
  model,
  status: 200,
  error_type: null,
  latency_ms: latency,
});
const failed = (provider: string, model: string, status: number | null, type: string) => ({
  provider,
  model,
  status,
  error_type: type,
  latency_ms: 30,
});

function state(attempts: AttemptSummary[], index: number): SupervisorState {
  return { ...initialSupervisor, phase: "done", requestId: "r1", index, attempts };
}

Deno.test("a first-try success names provider, model, index 0 and one attempt, no errors", () => {
  const h = gatewayHeaders({
    requestId: "r1",
    requested: "openai/gpt-4o-mini",
    candidate: { provider: "openai", model: "gpt-4o-mini" },
    state: state([ok("openai", "gpt-4o-mini")], 0),
    overheadMs: 0.4567,
  });
  assert.deepEqual(h, {
    "x-request-id": "r1",
    "x-gateway-provider": "openai",
    "x-gateway-model": "gpt-4o-mini",
    "x-gateway-fallback-index": "0",
    "x-gateway-attempts": "1",
    "x-gateway-overhead-ms": "0.457",
  });
});

Deno.test("after failures, x-gateway-fallback-errors lists each failed attempt compactly", () => {
  const h = gatewayHeaders({
    requestId: "r2",
    requested: "fast",
    candidate: { provider: "claude", model: "haiku" },
    state: state([
      failed("openai", "gpt-4o", 503, "transient"),
      failed("groq", "llama", null, "circuit_open"),
      ok("claude", "haiku"),
    ], 2),
    overheadMs: 1,
  });
  assert.equal(h["x-gateway-fallback-index"], "2");
  assert.equal(h["x-gateway-attempts"], "3");
  assert.equal(
    h["x-gateway-fallback-errors"],
    '[{"provider":"openai","model":"gpt-4o","status":503,"error_type":"transient"},' +
      '{"provider":"groq","model":"llama","status":null,"error_type":"circuit_open"}]',
  );
  assert.doesNotMatch(h["x-gateway-fallback-errors"], /\s/);
});

Deno.test("a failed request has no provider headers but still the id, attempts and errors", () => {
  const h = gatewayHeaders({
    requestId: "r3",
    requested: "openai/gpt-4o",
    state: { ...state([failed("openai", "gpt-4o", 500, "transient")], 0), phase: "failed" },
    overheadMs: 2,
  });
  assert.equal(h["x-request-id"], "r3");
  assert.equal(h["x-gateway-attempts"], "1");
  assert.equal(h["x-gateway-overhead-ms"], "2.000");
  assert.equal(h["x-gateway-provider"], undefined);
  assert.equal(h["x-gateway-model"], undefined);
  assert.equal(h["x-gateway-fallback-index"], undefined);
  assert.deepEqual(JSON.parse(h["x-gateway-fallback-errors"]), [
    { provider: "openai", model: "gpt-4o", status: 500, error_type: "transient" },
  ]);
});

Deno.test("extra_fields tells what was asked, what served it and how long it took", () => {
  const attempts = [failed("openai", "gpt-4o", 429, "rate_limit"), ok("claude", "haiku")];
  const s: Served & { candidate: { provider: string; model: string } } = {
    requestId: "r4",
    requested: "smart",
    candidate: { provider: "claude", model: "haiku" },
    state: state(attempts, 1),
    overheadMs: 0.2,
  };
  assert.deepEqual(extraFields(s, 151.23456, 120.50049), {
    provider: "claude",
    model: "haiku",
    model_requested: "smart",
    fallback_index: 1,
    attempts,
    latency_ms: 151.235,
    upstream_latency_ms: 120.5,
  });
});
