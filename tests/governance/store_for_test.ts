import assert from "node:assert/strict";
import { keyStoreFor } from "../../src/governance/store_for.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { startNatsServer } from "../_support/nats_server.ts";

Deno.test("without NATS the keys live in memory; with NATS in its KV bucket", async () => {
  const memory = keyStoreFor({ nats: { url: undefined } as never, instance: "t" }, silentLogger);
  assert.equal(memory.kind, "memory");
  await memory.close();
  const nats = await startNatsServer();
  const store = keyStoreFor({
    nats: { url: nats.wsUrl, servers: [nats.wsUrl] } as never,
    instance: "t",
  }, silentLogger);
  try {
    assert.equal(store.kind, "nats");
    assert.ok(await store.put("key.x", { ok: true }, 0));
  } finally {
    await store.close();
    await nats.stop();
  }
});
