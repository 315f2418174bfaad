import assert from "node:assert/strict";
import { lazyKv } from "../../src/lib/lazy_kv.ts";
import { silentLogger } from "../../src/lib/logger.ts";

class Down extends Error {}

const unreachable = () =>
  lazyKv({
    access: { servers: ["ws://127.0.0.1:1"] },
    bucket: "X",
    ttlMs: 1_000,
    name: "gateway/test",
    label: "test store",
    logger: silentLogger,
    timeoutMs: 300,
    connectTimeoutMs: 300,
    retryMs: 60_000,
    unavailable: (m) => new Down(m),
  });

Deno.test("lazyKv: an unreachable server fails, then fails at once until retryMs passed", async () => {
  const kv = unreachable();
  try {
    await assert.rejects(() => kv.within(kv.open()));
    const t0 = Date.now();
    await assert.rejects(
      () => kv.open(),
      (e: unknown) =>
        e instanceof Down && /test store unavailable \(retrying later\)/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 100, "no second connection attempt inside retryMs");
  } finally {
    await kv.close();
  }
});

Deno.test("lazyKv: within gives the store's own error at its deadline; closed stays closed", async () => {
  const kv = unreachable();
  await assert.rejects(
    () => kv.within(new Promise(() => {})),
    (e: unknown) => e instanceof Down && /no answer in 300 ms/.test(e.message),
  );
  await kv.close();
  await assert.rejects(
    () => kv.open(),
    (e: unknown) => e instanceof Down && /closed/.test(e.message),
  );
});
