import assert from "node:assert/strict";
import { systemClock } from "../../src/lib/clock.ts";

Deno.test("systemClock reads epoch milliseconds close to the wall clock", () => {
  const before = Date.now();
  const now = systemClock.now();
  const after = Date.now();
  // performance.timeOrigin may be off from Date.now() by a little, never by much.
  assert.ok(now > before - 1_000 && now < after + 1_000, `${now} vs ${before}…${after}`);
});

Deno.test("systemClock never goes backwards and measures elapsed time", async () => {
  let last = systemClock.now();
  const start = last;
  for (let i = 0; i < 10_000; i++) {
    const t = systemClock.now();
    assert.ok(t >= last, `clock went back from ${last} to ${t}`);
    last = t;
  }
  await new Promise((r) => setTimeout(r, 30));
  const elapsed = systemClock.now() - start;
  assert.ok(elapsed >= 25 && elapsed < 5_000, `elapsed ${elapsed} ms`);
});

Deno.test("systemClock resolves below one millisecond (overhead figures need it)", () => {
  const fractional = Array.from({ length: 200 }, () => systemClock.now())
    .some((t) => !Number.isInteger(t));
  assert.ok(fractional, "every reading was a whole millisecond");
});
