import assert from "node:assert/strict";
import { createDeadlines } from "../../src/lib/deadlines.ts";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("a deadline fires once, never before its time", async () => {
  const d = createDeadlines(10);
  const t0 = performance.now();
  let fired: number[] = [];
  d.after(30, () => fired.push(performance.now() - t0));
  await wait(80);
  assert.equal(fired.length, 1);
  assert.ok(fired[0] >= 29, `fired after ${fired[0]} ms`);
  fired = [];
  await wait(30);
  assert.deepEqual(fired, []);
});

Deno.test("deadlines in one slot share a timer; cancelling one leaves the others armed", async () => {
  const d = createDeadlines(50);
  const fired: string[] = [];
  const cancelA = d.after(5, () => fired.push("a"));
  d.after(6, () => fired.push("b"));
  cancelA();
  await wait(120);
  assert.deepEqual(fired, ["b"]);
});

Deno.test("cancelling every deadline clears the timer (no timer outlives the test)", () => {
  // Deno.test's sanitizer fails this test if a timer were still pending when it returns.
  const d = createDeadlines(20);
  const cancels = [d.after(1_000, () => {}), d.after(1_001, () => {}), d.after(5_000, () => {})];
  for (const c of cancels) c();
  cancels[0](); // a second cancel is harmless
});

Deno.test("the same function armed twice is two deadlines, and a late cancel is a no-op", async () => {
  const d = createDeadlines(10);
  let n = 0;
  const f = () => n++;
  const c1 = d.after(5, f);
  d.after(5, f);
  await wait(60);
  assert.equal(n, 2);
  c1();
  assert.equal(n, 2);
});
