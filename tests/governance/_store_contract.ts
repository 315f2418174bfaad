// The KeyStore contract, run against every implementation (memory and NATS KV): revisions,
// create-only writes, compare-and-set, prefix listing, watching, and casUpdate under contention.
import assert from "node:assert/strict";
import { casUpdate, type KeyStore } from "../../src/governance/store.ts";

export interface StoreFixture {
  store: KeyStore;
  /** A second handle on the same data (another replica), when the implementation has one. */
  other?: KeyStore;
  close(): Promise<void>;
}

export function storeContract(name: string, open: () => Promise<StoreFixture>): void {
  const test = (what: string, fn: (f: StoreFixture) => Promise<void>) =>
    Deno.test(`${name} KeyStore: ${what}`, async () => {
      const f = await open();
      try {
        await fn(f);
      } finally {
        await f.close();
      }
    });

  test("revision 0 creates once; a second create loses", async ({ store }) => {
    assert.equal(await store.get("key.a"), undefined);
    const r1 = await store.put("key.a", { n: 1 }, 0);
    assert.ok(r1 !== undefined && r1 > 0);
    assert.equal(await store.put("key.a", { n: 2 }, 0), undefined);
    assert.deepEqual(await store.get("key.a"), { value: { n: 1 }, revision: r1 });
  });

  test("compare-and-set: a stale revision loses, the current one wins", async ({ store }) => {
    const r1 = (await store.put("usage.a", { n: 1 }, 0))!;
    const r2 = await store.put("usage.a", { n: 2 }, r1);
    assert.ok(r2 !== undefined && r2 > r1);
    assert.equal(await store.put("usage.a", { n: 3 }, r1), undefined);
    assert.deepEqual((await store.get("usage.a"))!.value, { n: 2 });
  });

  test("list returns the entries under a prefix only", async ({ store }) => {
    await store.put("key.a", { id: "a" }, 0);
    await store.put("key.b", { id: "b" }, 0);
    await store.put("usage.a", { n: 1 }, 0);
    const keys = await store.list("key.");
    assert.deepEqual([...keys.keys()].sort(), ["key.a", "key.b"]);
    assert.deepEqual(keys.get("key.b")!.value, { id: "b" });
    assert.equal((await store.list("nothing.")).size, 0);
  });

  test("watch sees later writes under its prefix until stopped", async (f) => {
    const seen: string[] = [];
    const stop = await f.store.watch(
      "key.",
      (k, e) => seen.push(`${k}=${JSON.stringify(e?.value)}`),
    );
    const writer = f.other ?? f.store;
    await writer.put("key.a", { v: 1 }, 0);
    await writer.put("usage.a", { v: 2 }, 0);
    const deadline = Date.now() + 5_000;
    while (seen.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, ['key.a={"v":1}']);
    stop();
    await writer.put("key.b", { v: 3 }, 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen, ['key.a={"v":1}']);
  });

  test("what a caller gets is a copy: changing it changes nothing stored", async ({ store }) => {
    const value = { list: [1] };
    await store.put("key.a", value, 0);
    value.list.push(2);
    const got = (await store.get("key.a"))!.value as { list: number[] };
    got.list.push(3);
    assert.deepEqual((await store.get("key.a"))!.value, { list: [1] });
  });

  test("casUpdate: concurrent increments (from two handles when there are two) all count", async (f) => {
    const handles = [f.store, f.other ?? f.store];
    const inc = (s: KeyStore) =>
      casUpdate(s, "usage.n", (cur) => {
        const n = ((cur as { n?: number } | undefined)?.n ?? 0) + 1;
        return { write: { n }, result: n };
      }, 64);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => inc(handles[i % 2])));
    assert.deepEqual(
      [...results].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.deepEqual((await f.store.get("usage.n"))!.value, { n: 20 });
  });
}
