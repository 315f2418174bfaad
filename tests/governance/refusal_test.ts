// Refusals: every denial is a `key.denied` event with the reason and status (and Retry-After when
// there is one); a store that is down is a 503 without an event.
import assert from "node:assert/strict";
import type { GatewayEvent } from "../../src/events/mod.ts";
import { createDeny, storeDown, unauthorized } from "../../src/governance/refusal.ts";

const setup = () => {
  const events: GatewayEvent[] = [];
  const deny = createDeny({ clock: { now: () => 42 }, publish: (e) => events.push(e) });
  return { deny, events };
};

Deno.test("a denial publishes key.denied and returns the refusal", () => {
  const { deny, events } = setup();
  const r = deny("r1", "rate_limited", {
    status: 429,
    type: "rate_limit",
    code: "rate_limit_exceeded",
    message: "slow down",
    param: null,
    retryAfterMs: 1_500,
  }, { virtualKey: "k1", model: "m" });
  assert.deepEqual(r, {
    ok: false,
    status: 429,
    type: "rate_limit",
    code: "rate_limit_exceeded",
    message: "slow down",
    param: null,
    retryAfterMs: 1_500,
  });
  assert.deepEqual(events, [{
    type: "key.denied",
    at: 42,
    requestId: "r1",
    reason: "rate_limited",
    status: 429,
    virtualKey: "k1",
    model: "m",
    retryAfterMs: 1_500,
  }]);
});

Deno.test("a 401 asks for credentials; its event has no Retry-After", () => {
  const { deny, events } = setup();
  const r = unauthorized(deny, "r2", "unknown", "Unknown virtual key.", "invalid_api_key");
  assert.equal(r.status, 401);
  assert.equal(r.authenticate, true);
  assert.equal(r.code, "invalid_api_key");
  assert.deepEqual(events, [{
    type: "key.denied",
    at: 42,
    requestId: "r2",
    reason: "unknown",
    status: 401,
  }]);
});

Deno.test("a store that is down is a 503 to retry in a second", () => {
  const r = storeDown("the key store (X) is not reachable");
  assert.equal(r.status, 503);
  assert.equal(r.code, "key_store_unavailable");
  assert.equal(r.retryAfterMs, 1_000);
  assert.match(r.message, /\(the key store \(X\) is not reachable\); retry shortly/);
});
