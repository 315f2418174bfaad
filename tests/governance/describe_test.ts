// The start-up lines about keys and the admin API.
import assert from "node:assert/strict";
import { describeKeys } from "../../src/governance/describe.ts";
import { CONFIG_SECRET, created, setup } from "./_governor.ts";

Deno.test("start-up lines: open, required, and the admin API's state", async () => {
  const open = setup({ admin: false });
  assert.deepEqual(open.g.describe(), [
    "virtual keys: none — the gateway is open; set GATEWAY_ADMIN_KEY and POST /admin/keys to require keys",
    "admin API: off (set GATEWAY_ADMIN_KEY to manage virtual keys over HTTP)",
  ]);
  const declared = setup({ declared: true });
  await declared.g.loaded();
  await created(declared.g);
  assert.deepEqual(declared.g.describe(), [
    "virtual keys: required — 1 from config (batch), 1 in in-process store (NATS_URL not set)",
    "admin API: /admin/keys (Authorization: Bearer $GATEWAY_ADMIN_KEY)",
  ]);
  assert.ok(!declared.g.describe().join(" ").includes(CONFIG_SECRET));
});

Deno.test("start-up lines while stored keys are still loading", () => {
  const cache = (declared: { name: string }[]) => ({
    declared: declared as never,
    synced: () => false,
    size: () => 0,
    required: () => declared.length > 0,
  });
  const store = { kind: "nats" as const, describe: "NATS KV bucket GATEWAY_KEYS" };
  assert.deepEqual(describeKeys({ adminKey: undefined, cache: cache([]), store }), [
    "virtual keys: none in config; loading stored keys from NATS KV bucket GATEWAY_KEYS (requests wait for it; the gateway stays open if there are none)",
    "admin API: off (set GATEWAY_ADMIN_KEY to manage virtual keys over HTTP)",
  ]);
  assert.deepEqual(describeKeys({ adminKey: "adm", cache: cache([{ name: "batch" }]), store }), [
    "virtual keys: required — 1 from config (batch), stored keys loading from NATS KV bucket GATEWAY_KEYS",
    "admin API: /admin/keys (Authorization: Bearer $GATEWAY_ADMIN_KEY)",
  ]);
});
