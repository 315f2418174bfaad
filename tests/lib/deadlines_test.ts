import assert from "node:assert/strict";
import { createDeadlines, StallMeter, stillOwed } from "../../src/lib/deadlines.ts";

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

// ---------------------------------------------------------------------------------------------
// The gateway's own stalls, on an injected clock and timers (no waiting).

/**
 * Fake timers: `run(ms)` moves the clock forward firing every timer on time (a responsive loop);
 * `stall(ms)` moves it forward with the loop blocked, then fires whatever came due, late.
 */
function fakeLoop() {
  let t = 0;
  let next = 1;
  const timers = new Map<number, { at: number; fire: () => void; every?: number }>();
  const fireDue = (until: number) => {
    while (true) {
      let id = 0;
      let at = Infinity;
      for (const [i, x] of timers) if (x.at < at) [id, at] = [i, x.at];
      if (at > until) return;
      const x = timers.get(id)!;
      t = Math.max(t, at);
      if (x.every === undefined) timers.delete(id);
      else x.at = t + x.every;
      x.fire();
    }
  };
  return {
    now: () => t,
    timers: {
      setTimeout: (
        fire: () => void,
        ms: number,
      ) => (timers.set(next, { at: t + ms, fire }), next++),
      clearTimeout: (id: unknown) => void timers.delete(id as number),
      setInterval: (fire: () => void, ms: number) => (
        timers.set(next, { at: t + ms, fire, every: ms }), next++
      ),
      clearInterval: (id: unknown) => void timers.delete(id as number),
    },
    pending: () => timers.size,
    run(ms: number) {
      const end = t + ms;
      fireDue(end);
      t = end;
    },
    stall(ms: number) {
      t += ms;
      fireDue(t);
    },
  };
}

Deno.test("StallMeter: on-time ticks and jitter are no stall; a late tick's lateness is", () => {
  const m = new StallMeter(20, 0);
  for (let t = 20; t <= 1_000; t += 20) m.tick(t);
  assert.equal(m.stalledMs(1_000), 0);
  m.tick(1_035); // 15 ms late: jitter
  assert.equal(m.stalledMs(1_035), 0);
  m.tick(1_555); // 500 ms late
  assert.equal(m.stalledMs(1_555), 500);
  assert.equal(m.stalledMs(2_575), 1_500, "a stall still going on counts before the next tick");
  m.restart(10_000); // the ticker was off: that time is not stall
  assert.equal(m.stalledMs(10_010), 500);
});

Deno.test("stillOwed: responsive time counts, stalled time does not, the cap is hard", () => {
  assert.equal(stillOwed(10_000, 10_000, 0, Infinity), 0, "ran its course");
  assert.equal(stillOwed(10_000, 10_000, 6_000, Infinity), 6_000, "6 s of it stalled: 6 s more");
  assert.equal(stillOwed(10_000, 10_000, 6_000, 12_000), 2_000, "but not past the cap");
  assert.equal(stillOwed(10_000, 12_000, 6_000, 12_000), 0, "cap reached");
  assert.equal(stillOwed(10_000, 16_000, 6_000, Infinity), 0);
});

Deno.test("patient: fires after its time when the gateway is responsive", () => {
  const loop = fakeLoop();
  const d = createDeadlines(20, loop.now, loop.timers);
  const fired: [number, number, number][] = [];
  d.patient(10_000, (active, elapsed) => fired.push([loop.now(), active, elapsed]));
  loop.run(9_990);
  assert.deepEqual(fired, []);
  loop.run(30);
  assert.equal(fired.length, 1);
  assert.ok(fired[0][0] >= 10_000 && fired[0][0] <= 10_020, `at ${fired[0][0]}`);
  assert.ok(fired[0][1] >= 10_000, "all of it responsive");
  assert.equal(loop.pending(), 0, "no timer and no ticker left once nothing is armed");
});

Deno.test("patient: the gateway's own stall does not count against the wait", () => {
  const loop = fakeLoop();
  const d = createDeadlines(20, loop.now, loop.timers);
  let firedAt = -1;
  let active = -1;
  d.patient(10_000, (a) => [firedAt, active] = [loop.now(), a]);
  loop.run(1_000);
  loop.stall(6_000); // the loop blocked for 6 s (a burst of stream opens)
  loop.run(3_500);
  assert.equal(firedAt, -1, "10.5 s passed, only 4.5 s of them responsive");
  loop.run(6_000);
  assert.ok(firedAt >= 15_950 && firedAt <= 16_100, `fired at ${firedAt}`);
  assert.ok(active >= 10_000, `${active} ms responsive`);
});

Deno.test("patient: a cap cuts the wait in wall-clock time and says how much was responsive", () => {
  const loop = fakeLoop();
  const d = createDeadlines(20, loop.now, loop.timers);
  const fired: [number, number][] = [];
  d.patient(10_000, (a, e) => fired.push([a, e]), 12_000);
  loop.run(1_000);
  loop.stall(9_000);
  loop.run(3_000);
  assert.equal(fired.length, 1);
  const [a, e] = fired[0];
  assert.ok(e >= 12_000 && e <= 12_020, `elapsed ${e}`);
  assert.ok(a < 10_000 && a > 2_900, `active ${a}`);
});

Deno.test("patient: cancelled, it never fires, stall or not", () => {
  const loop = fakeLoop();
  const d = createDeadlines(20, loop.now, loop.timers);
  let fired = 0;
  const cancel = d.patient(1_000, () => fired++);
  loop.run(500);
  loop.stall(2_000);
  cancel();
  loop.run(5_000);
  assert.equal(fired, 0);
  assert.equal(loop.pending(), 0);
});

Deno.test("watch: a stall of the gateway's own loop is not a quiet upstream", () => {
  const loop = fakeLoop();
  const d = createDeadlines(20, loop.now, loop.timers);
  let firedAt = -1;
  d.watch(10_000, () => firedAt = loop.now());
  loop.run(2_000);
  loop.stall(15_000);
  loop.run(1_000);
  assert.equal(firedAt, -1, "3 s responsive");
  loop.run(7_100);
  assert.ok(firedAt >= 24_900, `fired at ${firedAt}: 10 s responsive after the watch began`);
});

Deno.test("after stays wall-clock time: a stall makes it fire (late), never later still", () => {
  const loop = fakeLoop();
  const d = createDeadlines(20, loop.now, loop.timers);
  let firedAt = -1;
  d.after(1_000, () => firedAt = loop.now());
  loop.stall(5_000);
  assert.equal(firedAt, 5_000);
  assert.ok(d.stalledMs() >= 4_900, `stalled ${d.stalledMs()}`);
});
