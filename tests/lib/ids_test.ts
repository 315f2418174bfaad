import assert from "node:assert/strict";
import { createIdGen } from "../../src/lib/ids.ts";

Deno.test("ids are unique over 10k and sort in creation order", () => {
  const ids = createIdGen();
  const made = Array.from({ length: 10_000 }, () => ids.next());
  assert.equal(new Set(made).size, made.length);
  assert.deepEqual([...made].sort(), made);
});

Deno.test("an id starts with its creation time in milliseconds", () => {
  const before = Date.now();
  const id = createIdGen().next();
  const after = Date.now();
  assert.match(id, /^[0-9a-f]{26}$/);
  const ms = parseInt(id.slice(0, 12), 16);
  assert.ok(ms >= before && ms <= after, `${ms} not within ${before}…${after}`);
});

Deno.test("ids made later sort later, across generators too", async () => {
  const a = createIdGen();
  const b = createIdGen();
  const first = a.next();
  await new Promise((r) => setTimeout(r, 5));
  const second = b.next();
  assert.ok(second > first, `${second} <= ${first}`);
});

Deno.test("two generators (two replicas) in the same millisecond never collide", () => {
  const a = createIdGen();
  const b = createIdGen();
  const seen = new Set<string>();
  for (let i = 0; i < 2_000; i++) {
    seen.add(a.next());
    seen.add(b.next());
  }
  assert.equal(seen.size, 4_000);
});

Deno.test("a prefix is kept in front of the time-ordered part", () => {
  const id = createIdGen("req_").next();
  assert.match(id, /^req_[0-9a-f]{26}$/);
});
