// The response store on a real nats-server's KV bucket: what one store puts, another (a second
// replica) reads; deletes are seen; an unreachable server fails fast as ResponseStoreUnavailable.
import assert from "node:assert/strict";
import { silentLogger } from "../../src/lib/logger.ts";
import {
  createNatsResponseStore,
  ResponseStoreUnavailable,
  type StoredResponse,
} from "../../src/responses/mod.ts";
import { startNatsServer } from "../_support/nats_server.ts";

const stored: StoredResponse = {
  id: "resp_nats1",
  caller: "key-a",
  history: [{ type: "message", role: "user", content: "before" }],
  input: [{ type: "message", id: "msg_1", role: "user", content: "hi" }],
  response: { id: "resp_nats1", object: "response", output: [{ type: "message", id: "msg_2" }] },
};

Deno.test("NATS response store: another replica reads what one put; delete is seen", async () => {
  const nats = await startNatsServer();
  const opts = {
    access: { servers: [nats.wsUrl] },
    bucket: "TEST_RESPONSES",
    ttlMs: 60_000,
    logger: silentLogger,
  };
  const a = createNatsResponseStore(opts);
  const b = createNatsResponseStore(opts);
  try {
    await a.put(stored);
    assert.deepEqual(await b.get("resp_nats1"), stored);
    assert.equal(await b.get("resp_other"), undefined);
    assert.equal(await b.delete("resp_nats1"), true);
    assert.equal(await a.get("resp_nats1"), undefined);
    assert.equal(await a.delete("resp_nats1"), false);
  } finally {
    await a.close();
    await b.close();
    await nats.stop();
  }
});

Deno.test("NATS response store: an unreachable server is ResponseStoreUnavailable, fast", async () => {
  const s = createNatsResponseStore({
    access: { servers: ["ws://127.0.0.1:1"] },
    bucket: "X",
    ttlMs: 1_000,
    logger: silentLogger,
    timeoutMs: 300,
  });
  try {
    const t0 = Date.now();
    await assert.rejects(() => s.get("resp_x"), ResponseStoreUnavailable);
    assert.ok(Date.now() - t0 < 3_000);
  } finally {
    await s.close();
  }
});
