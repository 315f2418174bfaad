import assert from "node:assert/strict";
import { TtlLru } from "../../src/lib/ttl_lru.ts";

Deno.test("an entry is served until its TTL has passed, with its age", () => {
  const m = new TtlLru<string, string>(10, 1_000);
  m.set("a", "x", 5_000);
  assert.deepEqual(m.lookup("a", 5_400), { value: "x", ageMs: 400 });
  assert.equal(m.get("a", 5_999), "x");
  assert.equal(m.get("a", 6_000), undefined);
  assert.equal(m.size, 0, "an expired entry is dropped when found");
});

Deno.test("writing again refreshes the TTL; a per-entry TTL overrides the default", () => {
  const m = new TtlLru<string, number>(10, 1_000);
  m.set("a", 1, 0);
  m.set("a", 2, 900);
  assert.equal(m.get("a", 1_500), 2);
  m.set("b", 3, 0, 50);
  assert.equal(m.get("b", 49), 3);
  assert.equal(m.get("b", 50), undefined);
});

Deno.test("when full, the least recently used entry is evicted (reads count as use)", () => {
  const m = new TtlLru<string, number>(2, 60_000);
  m.set("a", 1, 0);
  m.set("b", 2, 0);
  assert.equal(m.get("a", 1), 1); // a is now the most recent
  m.set("c", 3, 2);
  assert.equal(m.size, 2);
  assert.equal(m.get("b", 3), undefined);
  assert.equal(m.get("a", 3), 1);
  assert.equal(m.get("c", 3), 3);
});

Deno.test("bad bounds are refused", () => {
  assert.throws(() => new TtlLru(0, 1), RangeError);
  assert.throws(() => new TtlLru(1, 0), RangeError);
});
