import assert from "node:assert/strict";
import { createLeaseTable } from "../../src/workers/mod.ts";

Deno.test("lease table: first asker holds a lease until it ends; then whoever asks takes it", () => {
  let now = 0;
  const t = createLeaseTable({ now: () => now });
  assert.deepEqual(t.acquire("w0", "p.1", 100), { won: true, until: 100 });
  assert.deepEqual(t.acquire("w1", "p.1", 100), { won: false, until: 100 });
  assert.deepEqual(t.acquire("w1", "p.2", 100), { won: true, until: 100 }, "another opening");
  now = 100;
  assert.deepEqual(t.acquire("w1", "p.1", 100), { won: true, until: 200 }, "ended: taken over");
  assert.deepEqual(t.acquire("w0", "p.1", 100), { won: false, until: 200 });
});

Deno.test("lease table: ended leases are swept as the table grows", () => {
  let now = 0;
  const t = createLeaseTable({ now: () => now });
  for (let i = 0; i < 1_001; i++) t.acquire("w0", `p.${i}`, 10);
  now = 50;
  t.acquire("w0", "fresh", 10);
  assert.equal(t.size, 1);
});
