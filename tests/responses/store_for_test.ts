// Which response store a gateway gets: in memory without NATS (with the configured TTL and the
// injected clock), the NATS KV bucket with it (named by the config, connecting only when used).
import assert from "node:assert/strict";
import type { Config } from "../../src/config.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { ResponseStoreUnavailable, type StoredResponse } from "../../src/responses/store.ts";
import { responseStoreFor } from "../../src/responses/store_for.ts";

const stored = (id: string): StoredResponse => ({
  id,
  history: [],
  input: [{ type: "message", id: "msg_1", role: "user", content: "hi" }],
  response: { id, object: "response", output: [] },
});

const configWith = (url: string | undefined): Pick<Config, "nats" | "responses"> => ({
  nats: { url, servers: url ? [url] : [] } as unknown as Config["nats"],
  responses: { ttlMs: 5_000, bucket: "TEST_RESPONSES" },
});

Deno.test("responseStoreFor: without a NATS url, in memory with the configured TTL", async () => {
  let now = 1_000;
  const s = responseStoreFor(configWith(undefined), {
    logger: silentLogger,
    clock: { now: () => now },
  });
  assert.equal(s.describe, "in memory (TTL 5000 ms)");
  await s.put(stored("resp_a"));
  now = 5_999;
  assert.equal((await s.get("resp_a"))?.id, "resp_a");
  now = 6_000;
  assert.equal(await s.get("resp_a"), undefined, "the injected clock ends it after ttlMs");
  await s.close();
});

Deno.test("responseStoreFor: an empty NATS url is no NATS", () => {
  const s = responseStoreFor(configWith(""), { logger: silentLogger, clock: { now: () => 0 } });
  assert.equal(s.describe, "in memory (TTL 5000 ms)");
});

Deno.test("responseStoreFor: with a NATS url, the configured KV bucket, not connected until used", async () => {
  const s = responseStoreFor(configWith("ws://127.0.0.1:1"), {
    logger: silentLogger,
    clock: { now: () => 0 },
  });
  assert.equal(s.describe, "NATS KV bucket TEST_RESPONSES (TTL 5000 ms)");
  // Closed before any use: no connection was ever opened, and the store says it is closed.
  await s.close();
  await assert.rejects(
    () => s.get("resp_a"),
    (e: unknown) => e instanceof ResponseStoreUnavailable && /closed/.test(e.message),
  );
});
