// The NATS KV KeyStore against a real nats-server: the shared contract with two handles (two
// replicas on one bucket), and failing fast when NATS cannot be reached.
import assert from "node:assert/strict";
import { createNatsKeyStore } from "../../src/governance/nats_store.ts";
import { StoreUnavailable } from "../../src/governance/store.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { startNatsServer } from "../_support/nats_server.ts";
import { storeContract } from "./_store_contract.ts";

storeContract("nats", async () => {
  const nats = await startNatsServer();
  // A generous first-connect wait: the contract is under test here, not the timeout (below), and
  // the parallel suite can keep a fresh nats-server busy for more than the default 2 s (once,
  // under CI's load, for more than 10 s).
  const open = (instance: string) =>
    createNatsKeyStore({
      access: { servers: [nats.wsUrl] },
      instance,
      logger: silentLogger,
      timeoutMs: 30_000,
    });
  const store = open("a");
  const other = open("b");
  return {
    store,
    other,
    async close() {
      await store.close();
      await other.close();
      await nats.stop();
    },
  };
});

Deno.test("nats KeyStore: unreachable NATS fails fast with StoreUnavailable", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const store = createNatsKeyStore({
    access: { servers: [`ws://127.0.0.1:${port}`] },
    instance: "t",
    logger: silentLogger,
    timeoutMs: 200,
    retryMs: 50,
  });
  try {
    const t0 = Date.now();
    await assert.rejects(() => store.get("key.a"), StoreUnavailable);
    await assert.rejects(() => store.put("key.a", {}, 0), StoreUnavailable);
    assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
    assert.match(store.describe, /NATS KV bucket GATEWAY_KEYS/);
  } finally {
    await store.close();
  }
});

Deno.test("nats KeyStore: a killed server makes calls fail fast; a restart brings them back", async () => {
  const nats = await startNatsServer();
  const store = createNatsKeyStore({
    access: { servers: [nats.wsUrl] },
    instance: "t",
    logger: silentLogger,
    timeoutMs: 500,
    retryMs: 50,
  });
  try {
    await store.put("key.a", { v: 1 }, 0);
    await nats.kill();
    const deadline = Date.now() + 5_000;
    let failed: unknown;
    while (!failed && Date.now() < deadline) {
      failed = await store.get("key.a").then(() => undefined, (e) => e);
      if (!failed) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(failed instanceof StoreUnavailable, String(failed));
    await nats.restart();
    let back: unknown;
    while (back === undefined && Date.now() < deadline + 10_000) {
      back = await store.get("key.a").then((e) => e?.value, () => undefined);
      if (back === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(back, { v: 1 }, "file storage keeps the entry across the restart");
  } finally {
    await store.close();
    await nats.stop();
  }
});
