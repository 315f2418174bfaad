import assert from "node:assert/strict";
import {
  applyPatch,
  KeyFieldsSchema,
  KeyPatchSchema,
  type KeyRecord,
  keyView,
  parseRecord,
  unknownProviders,
} from "../../src/governance/keys.ts";

const record: KeyRecord = {
  id: "0123456789abcdef",
  name: "team-a",
  providers: [{ provider: "openai", weight: 1 }],
  limits: { rpm: 10 },
  budget: { usd: 5, period: "1w" },
  createdAt: Date.UTC(2025, 0, 2),
  updatedAt: Date.UTC(2025, 0, 2),
  salt: "00ff",
  hash: "ab".repeat(32),
};

Deno.test("key fields: weights default to 1, models are optional, bad values name the field", () => {
  const ok = KeyFieldsSchema.parse({ name: " team ", providers: [{ provider: "openai" }] });
  assert.deepEqual(ok, { name: "team", providers: [{ provider: "openai", weight: 1 }] });
  const bad: [unknown, string][] = [
    [{ name: "", providers: [{ provider: "openai" }] }, "name"],
    [{ name: "x", providers: [] }, "providers"],
    [{ name: "x", providers: [{ provider: "OpenAI" }] }, "providers.0.provider"],
    [{ name: "x", providers: [{ provider: "openai", weight: -1 }] }, "providers.0.weight"],
    [{ name: "x", providers: [{ provider: "openai", models: [] }] }, "providers.0.models"],
    [{ name: "x", providers: [{ provider: "openai" }], limits: { rpm: 0 } }, "limits.rpm"],
    [
      { name: "x", providers: [{ provider: "openai" }], budget: { usd: 1, period: "1y" } },
      "budget.period",
    ],
    [{ name: "x", providers: [{ provider: "openai" }], secret: "mine" }, ""],
  ];
  for (const [input, path] of bad) {
    const r = KeyFieldsSchema.safeParse(input);
    assert.ok(!r.success, JSON.stringify(input));
    assert.equal(r.error.issues[0].path.join("."), path, JSON.stringify(input));
  }
});

Deno.test("a patch changes what it names; null removes limits or budget", () => {
  const later = Date.UTC(2025, 0, 3);
  const renamed = applyPatch(record, KeyPatchSchema.parse({ name: "team-b" }), later);
  assert.equal(renamed.name, "team-b");
  assert.deepEqual(renamed.limits, { rpm: 10 });
  assert.equal(renamed.updatedAt, later);
  assert.equal(renamed.hash, record.hash);
  const unlimited = applyPatch(record, KeyPatchSchema.parse({ limits: null, budget: null }), later);
  assert.equal(unlimited.limits, undefined);
  assert.equal(unlimited.budget, undefined);
  const rebudgeted = applyPatch(record, { budget: { usd: 9, period: "1d" } }, later);
  assert.deepEqual(rebudgeted.budget, { usd: 9, period: "1d" });
  assert.deepEqual(record.limits, { rpm: 10 }, "the original is untouched");
});

Deno.test("the view never shows the salt or the digest", () => {
  const view = keyView(record, "admin");
  const text = JSON.stringify(view);
  assert.ok(!text.includes(record.hash) && !text.includes('"salt"') && !text.includes('"hash"'));
  assert.equal(view.created_at, "2025-01-02T00:00:00.000Z");
  assert.equal(view.revoked, false);
  assert.equal(
    keyView({ ...record, revokedAt: Date.UTC(2025, 0, 4) }, "admin").revoked_at,
    "2025-01-04T00:00:00.000Z",
  );
  assert.deepEqual(keyView({ id: "cfg-x", name: "x", providers: [] }, "config").limits, null);
});

Deno.test("providers the gateway does not have are named with their index", () => {
  assert.deepEqual(
    unknownProviders([{ provider: "openai", weight: 1 }, { provider: "nope", weight: 1 }], {
      openai: {},
    }),
    ['providers[1].provider: unknown provider "nope". Configured providers: openai.'],
  );
  assert.deepEqual(unknownProviders([{ provider: "openai", weight: 1 }], { openai: {} }), []);
});

Deno.test("parseRecord accepts records and refuses anything else", () => {
  assert.deepEqual(parseRecord(JSON.parse(JSON.stringify(record))), record);
  assert.equal(parseRecord({ id: "x" }), undefined);
  assert.equal(parseRecord(null), undefined);
  assert.equal(parseRecord("key"), undefined);
});
