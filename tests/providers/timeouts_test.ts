import assert from "node:assert/strict";
import {
  DEFAULT_TIMEOUTS,
  resolveTimeouts,
  timeoutsLookup,
  withDefaultTimeouts,
} from "../../src/providers/timeouts.ts";

Deno.test("resolveTimeouts: each field from the most specific layer that sets it", () => {
  assert.deepEqual(resolveTimeouts(), DEFAULT_TIMEOUTS);
  assert.deepEqual(
    resolveTimeouts({ firstTokenMs: 90_000 }, { firstTokenMs: 5_000, idleMs: 4_000 }, undefined),
    { headersMs: 30_000, firstTokenMs: 90_000, idleMs: 4_000, totalMs: 120_000 },
  );
});

Deno.test("timeoutsLookup: a model's own entry, else the provider's; the same object every call", () => {
  const base = resolveTimeouts({ totalMs: 60_000 });
  const o3 = resolveTimeouts({ firstTokenMs: 120_000 }, base);
  const lookup = timeoutsLookup(base, { o3 });
  assert.equal(lookup("o3"), o3);
  assert.equal(lookup("gpt-4o"), base);
  assert.equal(lookup("constructor"), base, "an inherited property name is no model");
  assert.equal(timeoutsLookup(base)("anything"), base);
});

Deno.test("withDefaultTimeouts fills a partial set once per object", () => {
  const partial = { firstTokenMs: 2_000, totalMs: 10_000 };
  const t = withDefaultTimeouts(partial);
  assert.deepEqual(t, { headersMs: 30_000, firstTokenMs: 2_000, idleMs: 10_000, totalMs: 10_000 });
  assert.equal(withDefaultTimeouts(partial), t, "cached: no allocation on the next attempt");
});
