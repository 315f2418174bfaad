// Which candidates a key's request runs through: table cases, and the weighted primary's share
// over many draws from a seeded generator.
import assert from "node:assert/strict";
import {
  allowedList,
  allows,
  eligible,
  keyChain,
  pickWeighted,
} from "../../src/governance/chain.ts";
import type { KeyPolicy, KeyTarget } from "../../src/governance/keys.ts";

const config = {
  providers: { openai: {}, azure: {}, anthropic: {}, groq: {} },
  routes: { fast: ["groq/llama", "openai/gpt-4o-mini"] },
} as unknown as Parameters<typeof keyChain>[0];

const key = (providers: KeyTarget[]): KeyPolicy => ({ id: "k1", name: "team", providers });
const mini: KeyTarget[] = [
  { provider: "openai", models: ["gpt-4o-mini"], weight: 3 },
  { provider: "azure", models: ["gpt-4o-mini"], weight: 1 },
  { provider: "anthropic", models: ["claude-3-5-haiku-latest"], weight: 5 },
];
const refs = (r: ReturnType<typeof keyChain>) =>
  r.ok ? r.candidates.map((c) => `${c.provider}/${c.model}`) : `${r.status} ${r.param}`;

/** mulberry32: a small seeded generator, so the distribution test is repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("key resolution: which chain each request gets", () => {
  const cases: {
    name: string;
    targets: KeyTarget[];
    model: string;
    fallbacks?: string[];
    draw?: number;
    want: string[] | string;
  }[] = [
    {
      name: "bare model, low draw: the heavier provider first, the other as fallback",
      targets: mini,
      model: "gpt-4o-mini",
      draw: 0.1,
      want: ["openai/gpt-4o-mini", "azure/gpt-4o-mini"],
    },
    {
      name: "bare model, high draw: the lighter provider first, then the heavier",
      targets: mini,
      model: "gpt-4o-mini",
      draw: 0.9,
      want: ["azure/gpt-4o-mini", "openai/gpt-4o-mini"],
    },
    {
      name: "bare model with the request's own fallbacks: those, not the key's",
      targets: mini,
      model: "gpt-4o-mini",
      fallbacks: ["anthropic/claude-3-5-haiku-latest"],
      draw: 0.1,
      want: ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"],
    },
    {
      name: "provider/model without fallbacks: the others that allow the model follow by weight",
      targets: mini,
      model: "azure/gpt-4o-mini",
      want: ["azure/gpt-4o-mini", "openai/gpt-4o-mini"],
    },
    {
      name: "provider/model with fallbacks: exactly what was asked",
      targets: mini,
      model: "openai/gpt-4o-mini",
      fallbacks: ["anthropic/claude-3-5-haiku-latest"],
      want: ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"],
    },
    {
      name: "a provider without a model list allows any model",
      targets: [{ provider: "openai", weight: 1 }],
      model: "openai/o3",
      want: ["openai/o3"],
    },
    {
      name: "a route alias keeps the entries the key allows",
      targets: [{ provider: "openai", weight: 1 }],
      model: "fast",
      want: ["openai/gpt-4o-mini"],
    },
    {
      name: "weight 0 is never the primary, only a fallback",
      targets: [
        { provider: "openai", models: ["m"], weight: 0 },
        { provider: "azure", models: ["m"], weight: 2 },
      ],
      model: "m",
      draw: 0.999,
      want: ["azure/m", "openai/m"],
    },
    {
      name: "a provider the config no longer has is skipped",
      targets: [{ provider: "gone", weight: 9 }, { provider: "openai", weight: 1 }],
      model: "m",
      draw: 0,
      want: ["openai/m"],
    },
    {
      name: "a model the key does not allow: 403",
      targets: mini,
      model: "openai/gpt-4o",
      want: "403 model",
    },
    { name: "a bare model no provider allows: 403", targets: mini, model: "o3", want: "403 model" },
    {
      name: "a route with nothing allowed: 403",
      targets: [{ provider: "anthropic", weight: 1 }],
      model: "fast",
      want: "403 model",
    },
    {
      name: "a fallback the key does not allow: 403 naming it",
      targets: mini,
      model: "gpt-4o-mini",
      fallbacks: ["openai/gpt-4o-mini", "groq/llama"],
      want: "403 fallbacks[1]",
    },
    {
      name: "an unknown provider is still a 400",
      targets: mini,
      model: "nope/x",
      want: "400 model",
    },
    {
      name: "a malformed fallback is a 400 naming it",
      targets: mini,
      model: "gpt-4o-mini",
      fallbacks: ["nope/x"],
      want: "400 fallbacks[0]",
    },
  ];
  for (const c of cases) {
    assert.deepEqual(
      refs(keyChain(config, key(c.targets), c.model, c.fallbacks, c.draw ?? 0)),
      c.want,
      c.name,
    );
  }
});

Deno.test("the 403 says what the key may use; the 400 names the field", () => {
  const r = keyChain(config, key(mini), "openai/gpt-4o", undefined, 0);
  assert.ok(!r.ok);
  assert.equal(r.code, "model_not_allowed");
  assert.equal(
    r.message,
    'model: the key "team" may not use "openai/gpt-4o". It may use: openai/gpt-4o-mini, ' +
      "azure/gpt-4o-mini, anthropic/claude-3-5-haiku-latest.",
  );
  const bad = keyChain(config, key(mini), "gpt-4o-mini", ["nope/x"], 0);
  assert.ok(!bad.ok);
  assert.equal(bad.code, "unknown_provider");
  assert.match(bad.message, /^fallbacks\[0\]: unknown provider "nope"/);
});

Deno.test("the weighted primary's share matches the weights over many seeded draws", () => {
  const targets: KeyTarget[] = [
    { provider: "openai", weight: 6 },
    { provider: "azure", weight: 3 },
    { provider: "anthropic", weight: 1 },
  ];
  const random = seeded(42);
  const counts: Record<string, number> = {};
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const r = keyChain(config, key(targets), "gpt-4o-mini", undefined, random());
    assert.ok(r.ok);
    counts[r.candidates[0].provider] = (counts[r.candidates[0].provider] ?? 0) + 1;
    assert.equal(r.candidates.length, 3);
  }
  for (const [p, share] of [["openai", 0.6], ["azure", 0.3], ["anthropic", 0.1]] as const) {
    const got = counts[p] / n;
    assert.ok(Math.abs(got - share) < 0.015, `${p}: ${got} vs ${share}`);
  }
});

Deno.test("pickWeighted covers the whole draw range and falls back to the first when all are 0", () => {
  const entries: [string, number][] = [["a", 1], ["b", 0], ["c", 3]];
  assert.equal(pickWeighted(entries, 0), "a");
  assert.equal(pickWeighted(entries, 0.2499), "a");
  assert.equal(pickWeighted(entries, 0.25), "c");
  assert.equal(pickWeighted(entries, 0.999999), "c");
  assert.equal(pickWeighted([["x", 0], ["y", 0]], 0.7), "x");
});

Deno.test("allows, eligible and allowedList read the key's targets", () => {
  assert.equal(allows(mini, { provider: "openai", model: "gpt-4o-mini" }), true);
  assert.equal(allows(mini, { provider: "openai", model: "gpt-4o" }), false);
  assert.equal(allows(mini, { provider: "groq", model: "gpt-4o-mini" }), false);
  const twice: KeyTarget[] = [
    { provider: "openai", models: ["a"], weight: 1 },
    { provider: "openai", weight: 2 },
  ];
  assert.deepEqual([...eligible(twice, "a")], [["openai", 3]]);
  assert.deepEqual([...eligible(twice, "b")], [["openai", 2]]);
  assert.equal(allowedList(twice), "openai/a, openai/*");
});
