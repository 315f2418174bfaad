import assert from "node:assert/strict";
import { createMemoryResponseStore } from "../../src/responses/mod.ts";
import type { StoredResponse } from "../../src/responses/mod.ts";

const stored = (id: string): StoredResponse => ({
  id,
  history: [],
  input: [{ type: "message", id: "msg_1", role: "user", content: "hi" }],
  response: { id, object: "response", output: [] },
});

Deno.test("memory store: put, get (a copy), delete, and expiry after the TTL", async () => {
  let now = 0;
  const s = createMemoryResponseStore({ ttlMs: 1_000, clock: { now: () => now } });
  await s.put(stored("resp_a"));
  const got = await s.get("resp_a");
  assert.deepEqual(got, stored("resp_a"));
  got!.input.push({ type: "message" });
  assert.equal((await s.get("resp_a"))!.input.length, 1, "callers get a copy");
  now = 999;
  assert.ok(await s.get("resp_a"));
  now = 1_000;
  assert.equal(await s.get("resp_a"), undefined);
  await s.put(stored("resp_b"));
  assert.equal(await s.delete("resp_b"), true);
  assert.equal(await s.delete("resp_b"), false);
  assert.equal(await s.get("resp_b"), undefined);
});
