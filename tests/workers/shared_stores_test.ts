import assert from "node:assert/strict";
import { casUpdate } from "../../src/governance/mod.ts";
import {
  sharedCacheStore,
  sharedKeyStore,
  sharedLeases,
  sharedResponseStore,
} from "../../src/workers/mod.ts";
import type { StoredResponse } from "../../src/responses/mod.ts";
import { settle, wireWorkers } from "../_support/worker_wiring.ts";

Deno.test("sharedKeyStore: two workers' counters add up in one store; a stale write loses", async () => {
  const { links } = wireWorkers(2);
  const [a, b] = links.map(sharedKeyStore);
  // Both count the same key's usage concurrently, as two workers admitting requests would.
  const bump = (s: typeof a) =>
    casUpdate(s, "usage.k1", (cur) => ({ write: ((cur as number) ?? 0) + 1, result: undefined }));
  await Promise.all(Array.from({ length: 10 }, (_, i) => bump(i % 2 ? a : b)));
  assert.equal((await a.get("usage.k1"))?.value, 10);
  assert.equal((await b.get("usage.k1"))?.value, 10);
  const cur = await a.get("usage.k1");
  assert.ok(await b.put("usage.k1", 11, cur!.revision));
  assert.equal(await a.put("usage.k1", 99, cur!.revision), undefined, "stale revision refused");
  assert.deepEqual([...(await b.list("usage.")).keys()], ["usage.k1"]);
});

Deno.test("sharedKeyStore: a watch on one worker sees the other's writes, and stops", async () => {
  const { links } = wireWorkers(2);
  const [a, b] = links.map(sharedKeyStore);
  const seen: string[] = [];
  const stop = await b.watch("keys.", (key, entry) => seen.push(`${key}=${entry?.value}`));
  await a.put("keys.x", "one", 0);
  await a.put("other.y", "ignored", 0);
  await settle();
  assert.deepEqual(seen, ["keys.x=one"]);
  stop();
  await settle();
  await a.put("keys.z", "two", 0);
  await settle();
  assert.deepEqual(seen, ["keys.x=one"], "nothing after stop");
});

Deno.test("sharedCacheStore: an answer stored by one worker is a hit on the other", async () => {
  const { links } = wireWorkers(2);
  const [a, b] = links.map((l) => sharedCacheStore(l, "cache", 10, 60_000));
  const entry = {
    response: { status: 200, headers: {}, body: { id: "x" } },
    provider: "openai",
    model: "m",
  } as unknown as Parameters<typeof a.set>[1];
  assert.equal(await b.get("k", 1_000), undefined);
  await a.set("k", entry, 1_000);
  const hit = await b.get("k", 1_500);
  assert.deepEqual(hit, { entry, ageMs: 500 });
  assert.equal(await b.get("k", 1_000 + 60_001), undefined, "past the TTL");
});

Deno.test("sharedResponseStore: a response stored on one worker is found and deleted on the other", async () => {
  const { links } = wireWorkers(2);
  const [a, b] = links.map(sharedResponseStore);
  const r = {
    id: "resp_1",
    history: [],
    input: [],
    response: { id: "resp_1", output: [] },
  } as unknown as StoredResponse;
  await a.put(r);
  assert.equal((await b.get("resp_1"))?.id, "resp_1");
  assert.equal(await b.delete("resp_1"), true);
  assert.equal(await a.get("resp_1"), undefined);
});

Deno.test("sharedLeases: one worker wins a probe lease; the other waits until it ends", async () => {
  let now = 10_000;
  const { links } = wireWorkers(2, { now: () => now });
  const a = sharedLeases(links[0], "gw-w0");
  const b = sharedLeases(links[1], "gw-w1");
  assert.deepEqual(await a.acquire("openai.123", 5_000), { won: true, until: 15_000 });
  assert.deepEqual(await b.acquire("openai.123", 5_000), { won: false, until: 15_000 });
  assert.deepEqual(
    await a.acquire("openai.123", 5_000),
    { won: true, until: 15_000 },
    "still mine",
  );
  now = 15_001;
  assert.deepEqual(await b.acquire("openai.123", 5_000), { won: true, until: 20_001 });
});
