// The admin operations through the governor: what is stored, and what they refuse.
import assert from "node:assert/strict";
import { created, fields, setup } from "./_governor.ts";

Deno.test("the store holds a salted digest, never the secret", async () => {
  const { g, store } = setup();
  const a = await created(g);
  const b = await created(g, { name: "team-b" });
  const stored = JSON.stringify([...await store.list("")]);
  for (const { secret } of [a, b]) {
    assert.ok(!stored.includes(secret));
    assert.ok(!stored.includes(secret.slice(secret.lastIndexOf("-") + 1)));
  }
  const records = [...(await store.list("key.")).values()].map((e) =>
    e.value as { salt: string; hash: string }
  );
  assert.equal(records.length, 2);
  assert.notEqual(records[0].salt, records[1].salt, "a salt per key");
  for (const r of records) assert.match(r.hash, /^[0-9a-f]{64}$/);
});

Deno.test("admin operations refuse what they cannot do", async () => {
  const { g } = setup({ declared: true });
  const bad = await g.createKey(fields({ providers: [{ provider: "nope", weight: 1 }] }) as never);
  assert.ok(!bad.ok && bad.status === 400 && bad.code === "unknown_provider");
  assert.deepEqual(await g.getKey("nope").then((r) => !r.ok && r.status), 404);
  assert.deepEqual(await g.updateKey("nope", { name: "x" }).then((r) => !r.ok && r.status), 404);
  assert.deepEqual(await g.revokeKey("nope").then((r) => !r.ok && r.status), 404);
  assert.deepEqual(await g.revokeKey("cfg-batch").then((r) => !r.ok && r.status), 409);
  assert.deepEqual(
    await g.updateKey("cfg-batch", { name: "x" }).then((r) => !r.ok && r.status),
    409,
  );
  const { view } = await created(g);
  await g.revokeKey(view.id);
  const again = await g.revokeKey(view.id);
  assert.ok(again.ok && again.value.revoked, "revoking twice is fine");
  assert.deepEqual(
    await g.updateKey(view.id, { name: "x" }).then((r) => !r.ok && r.code),
    "key_revoked",
  );
  const list = await g.listKeys();
  assert.deepEqual(list.map((k) => [k.id, k.source, k.revoked]), [
    ["cfg-batch", "config", false],
    [view.id, "admin", true],
  ]);
});
