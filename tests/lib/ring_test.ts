import assert from "node:assert/strict";
import { Ring } from "../../src/lib/ring.ts";

Deno.test("Ring keeps the newest items, oldest first, overwriting in place once full", () => {
  const r = new Ring<number>(3);
  assert.deepEqual(r.toArray(), []);
  r.push(1);
  r.push(2);
  assert.deepEqual(r.toArray(), [1, 2]);
  for (const n of [3, 4, 5]) r.push(n);
  assert.equal(r.size, 3);
  assert.deepEqual(r.toArray(), [3, 4, 5]);
  assert.equal(r.at(0), 3);
  assert.equal(r.at(2), 5);
  r.set(1, 40);
  assert.deepEqual(r.toArray(), [3, 40, 5]);
  r.push(6);
  assert.deepEqual(r.toArray(), [40, 5, 6]);
  r.clear();
  assert.equal(r.size, 0);
  r.push(7);
  assert.deepEqual(r.toArray(), [7]);
});

Deno.test("a zero-capacity Ring keeps nothing", () => {
  const r = new Ring<string>(0);
  r.push("a");
  assert.equal(r.size, 0);
  assert.deepEqual(r.toArray(), []);
});
