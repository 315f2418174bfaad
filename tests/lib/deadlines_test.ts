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

Deno.test("watch fires once after a quiet period, never before it", async () => {
  const d = createDeadlines(5);
  const t0 = performance.now();
  const fired: number[] = [];
  d.watch(30, () => fired.push(performance.now() - t0));
  await wait(90);
  assert.equal(fired.length, 1, "once, not again every period");
  assert.ok(fired[0] >= 29, `fired after ${fired[0]} ms`);
});

Deno.test("watch: each touch restarts the quiet period; cancel stops it for good", async () => {
  const d = createDeadlines(5);
  let fired = 0;
  const w = d.watch(40, () => fired++);
  for (let i = 0; i < 5; i++) {
    await wait(15);
    w.touch(); // 75 ms in all, never 40 quiet
  }
  assert.equal(fired, 0, "touched in time: no stall");
  await wait(80);
  assert.equal(fired, 1, "quiet for 40 ms after the last touch");
  const w2 = d.watch(20, () => fired++);
  w2.cancel();
  w2.cancel();
  await wait(50);
  assert.equal(fired, 1, "a cancelled watch never fires");
});

Deno.test("watch: touches create no timers (one deadline armed per quiet period)", () => {
  const real = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return real(...args);
  }) as typeof setTimeout;
  try {
    const d = createDeadlines(20);
    const w = d.watch(1_000, () => {});
    for (let i = 0; i < 10_000; i++) w.touch();
    assert.equal(timers, 1, "one timer for the watch, none per touch");
    w.cancel(); // the sanitizer fails the test if a timer were left behind
  } finally {
    globalThis.setTimeout = real;
  }
});
