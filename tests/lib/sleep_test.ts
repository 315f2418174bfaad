import assert from "node:assert/strict";
import { sleep } from "../../src/lib/sleep.ts";

Deno.test("sleep resolves after the delay", async () => {
  const t0 = performance.now();
  await sleep(30);
  assert.ok(performance.now() - t0 >= 29);
});

Deno.test("an abort rejects early with the signal's reason", async () => {
  const ctl = new AbortController();
  const t0 = performance.now();
  const reason = new Error("client left");
  setTimeout(() => ctl.abort(reason), 10);
  await assert.rejects(sleep(10_000, ctl.signal), (e) => e === reason);
  assert.ok(performance.now() - t0 < 1_000, "did not stop early");
});

Deno.test("an already aborted signal rejects at once", async () => {
  const t0 = performance.now();
  await assert.rejects(sleep(10_000, AbortSignal.abort(new Error("gone"))), /gone/);
  assert.ok(performance.now() - t0 < 100);
});

Deno.test("sleep with a live signal still resolves on time", async () => {
  const ctl = new AbortController();
  const t0 = performance.now();
  await sleep(20, ctl.signal);
  const took = performance.now() - t0;
  assert.ok(took >= 19 && took < 1_000, `slept ${took} ms`);
  // Aborting afterwards is harmless: nothing rejects, nothing leaks.
  ctl.abort();
});
