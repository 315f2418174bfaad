// The one planner, for requests without a virtual key: "provider/model", route aliases (in the
// balancer's order when it gives one) and fallbacks, and the 400s that name the field at fault.
// With a virtual key: the key narrows and weights that plan, and a bare model is its own chain.
import assert from "node:assert/strict";
import { buildConfig } from "../../src/config.ts";
import type { KeyScope, KeyTarget } from "../../src/routing/key_scope.ts";
import { createPlanner, type Plan, type PlannerDeps } from "../../src/routing/plan.ts";
import { seededRandom } from "../_support/seeded_random.ts";

/** The plan without its `served` hook, so that it compares as data. */
function planned(
  config: PlannerDeps["config"],
  model: string,
  fallbacks: readonly string[] = [],
  order?: (alias: string) => readonly string[] | undefined,
) {
  const plan = createPlanner({
    config,
    random: () => 0,
    choose: order && ((alias) => {
      const targets = order(alias);
      return targets && { targets: [...targets], served: () => {} };
    }),
  })({ model, fallbacks });
  if (!plan.ok) return plan;
  return { ok: true as const, candidates: plan.candidates };
}

const config = buildConfig(
  {
    providers: {
      openai: { type: "openai" },
      groq: { type: "openai", baseUrl: "https://api.groq.com/openai/v1" },
      claude: { type: "anthropic" },
    },
    routes: {
      fast: ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"],
      smart: ["claude/claude-sonnet-4-5"],
    },
  },
  () => undefined,
  "test",
);
const bare = buildConfig({ providers: { openai: { type: "openai" } } }, () => undefined, "test");
const none = buildConfig({}, () => undefined, "test");

Deno.test("provider/model splits at the first slash; the model keeps the rest", () => {
  assert.deepEqual(planned(config, "openai/gpt-4o-mini"), {
    ok: true,
    candidates: [{ provider: "openai", model: "gpt-4o-mini" }],
  });
  assert.deepEqual(planned(config, "groq/meta-llama/Llama-3.3-70B-Instruct"), {
    ok: true,
    candidates: [{ provider: "groq", model: "meta-llama/Llama-3.3-70B-Instruct" }],
  });
});

Deno.test("fallbacks follow the model in the order given", () => {
  const r = planned(config, "openai/gpt-4o", ["claude/claude-3-5-haiku", "groq/a/b"]);
  assert.deepEqual(r, {
    ok: true,
    candidates: [
      { provider: "openai", model: "gpt-4o" },
      { provider: "claude", model: "claude-3-5-haiku" },
      { provider: "groq", model: "a/b" },
    ],
  });
});

Deno.test("a route alias expands to its chain, then the request's fallbacks are appended", () => {
  assert.deepEqual(planned(config, "fast"), {
    ok: true,
    candidates: [
      { provider: "groq", model: "llama-3.1-8b-instant" },
      { provider: "openai", model: "gpt-4o-mini" },
    ],
  });
  assert.deepEqual(planned(config, "smart", ["openai/gpt-4o"]), {
    ok: true,
    candidates: [
      { provider: "claude", model: "claude-sonnet-4-5" },
      { provider: "openai", model: "gpt-4o" },
    ],
  });
});

Deno.test("an unknown provider is unknown_provider, naming the param and the known ones", () => {
  const inModel = planned(config, "mistral/large");
  assert.equal(inModel.ok, false);
  if (inModel.ok) return;
  assert.equal(inModel.code, "unknown_provider");
  assert.equal(inModel.param, "model");
  assert.match(inModel.message, /^model: unknown provider "mistral"/);
  assert.match(inModel.message, /Configured providers: openai, groq, claude/);

  const inFallback = planned(config, "openai/gpt-4o", ["groq/x", "mistral/large"]);
  assert.equal(inFallback.ok, false);
  if (inFallback.ok) return;
  assert.equal(inFallback.code, "unknown_provider");
  assert.equal(inFallback.param, "fallbacks[1]");
  assert.match(inFallback.message, /^fallbacks\[1\]: unknown provider "mistral"/);
});

Deno.test("with no providers at all the error says how to add one", () => {
  const r = planned(none, "openai/gpt-4o");
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, "unknown_provider");
  assert.match(r.message, /none \(set OPENAI_API_KEY \/ ANTHROPIC_API_KEY or GATEWAY_CONFIG\)/);
});

Deno.test("a bare model that is no alias is invalid_model, listing the aliases", () => {
  const r = planned(config, "gpt-4o");
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, "invalid_model");
  assert.equal(r.param, "model");
  assert.match(r.message, /"gpt-4o" must be "provider\/model"/);
  assert.match(r.message, /route aliases: fast, smart/);

  const noAliases = planned(bare, "gpt-4o");
  assert.equal(noAliases.ok, false);
  if (noAliases.ok) return;
  assert.doesNotMatch(noAliases.message, /alias/);
});

Deno.test("an empty provider or model part is invalid_model", () => {
  for (
    const [model, fallbacks, param] of [
      ["/gpt-4o", [], "model"],
      ["openai/", [], "model"],
      ["openai/gpt-4o", ["claude"], "fallbacks[0]"],
    ] as const
  ) {
    const r = planned(config, model, fallbacks);
    assert.equal(r.ok, false, model);
    if (r.ok) return;
    assert.equal(r.code, "invalid_model");
    assert.equal(r.param, param);
  }
});

Deno.test("inherited object property names are neither aliases nor providers", () => {
  for (const model of ["constructor", "toString", "__proto__"]) {
    const r = planned(config, model);
    assert.equal(r.ok, false, model);
    if (!r.ok) assert.equal(r.code, "invalid_model");
  }
  for (const model of ["constructor/x", "__proto__/x", "hasOwnProperty/x"]) {
    const r = planned(config, model);
    assert.equal(r.ok, false, model);
    if (!r.ok) assert.equal(r.code, "unknown_provider");
  }
});

Deno.test("a route's order can be chosen per request; fallbacks still follow it", () => {
  const r = planned(
    config,
    "fast",
    ["claude/x"],
    (alias: string) =>
      alias === "fast" ? ["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"] : undefined,
  );
  assert.deepEqual(r, {
    ok: true,
    candidates: [
      { provider: "openai", model: "gpt-4o-mini" },
      { provider: "groq", model: "llama-3.1-8b-instant" },
      { provider: "claude", model: "x" },
    ],
  });
  // A model that is no alias is never handed to the balancer.
  let asked = false;
  planned(config, "openai/gpt-4o", [], () => {
    asked = true;
    return undefined;
  });
  assert.equal(asked, false);
});

// ---------------------------------------------------------------------------------------------
// With a virtual key

const keyed = {
  providers: { openai: {}, azure: {}, anthropic: {}, groq: {} },
  routes: { fast: ["groq/llama", "openai/gpt-4o-mini"] },
};

const key = (providers: KeyTarget[]): KeyScope => ({ name: "team", providers });
const mini: KeyTarget[] = [
  { provider: "openai", models: ["gpt-4o-mini"], weight: 3 },
  { provider: "azure", models: ["gpt-4o-mini"], weight: 1 },
  { provider: "anthropic", models: ["claude-3-5-haiku-latest"], weight: 5 },
];
const refs = (r: Plan) =>
  r.ok ? r.candidates.map((c) => `${c.provider}/${c.model}`) : `${r.status} ${r.param}`;

/** A keyed plan with `draw` as the one random draw (a bare model's weighted primary). */
const keyedPlan = (
  config: PlannerDeps["config"],
  k: KeyScope,
  model: string,
  fallbacks: readonly string[] | undefined,
  draw: number,
) => createPlanner({ config, random: () => draw })({ model, fallbacks }, k);

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
      refs(keyedPlan(keyed, key(c.targets), c.model, c.fallbacks, c.draw ?? 0)),
      c.want,
      c.name,
    );
  }
});

Deno.test("the 403 says what the key may use; the 400 names the field", () => {
  const r = keyedPlan(keyed, key(mini), "openai/gpt-4o", undefined, 0);
  assert.ok(!r.ok);
  assert.equal(r.code, "model_not_allowed");
  assert.equal(
    r.message,
    'model: the key "team" may not use "openai/gpt-4o". It may use: openai/gpt-4o-mini, ' +
      "azure/gpt-4o-mini, anthropic/claude-3-5-haiku-latest.",
  );
  const bad = keyedPlan(keyed, key(mini), "gpt-4o-mini", ["nope/x"], 0);
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
  const plan = createPlanner({ config: keyed, random: seededRandom(42) });
  const counts: Record<string, number> = {};
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const r = plan({ model: "gpt-4o-mini" }, key(targets));
    assert.ok(r.ok);
    counts[r.candidates[0].provider] = (counts[r.candidates[0].provider] ?? 0) + 1;
    assert.equal(r.candidates.length, 3);
  }
  for (const [p, share] of [["openai", 0.6], ["azure", 0.3], ["anthropic", 0.1]] as const) {
    const got = counts[p] / n;
    assert.ok(Math.abs(got - share) < 0.015, `${p}: ${got} vs ${share}`);
  }
});

Deno.test("a key narrows the route's order as drawn for this request; the draw's pin follows", () => {
  const config = { ...keyed, routes: { r: ["openai/a", "azure/b", "groq/c", "anthropic/d"] } };
  const pinned: string[] = [];
  const plan = createPlanner({
    config,
    random: () => 0,
    choose: (alias, headers) => ({
      targets: ["groq/c", "anthropic/d", "azure/b", "openai/a"],
      served: (c) => pinned.push(`${alias} ${headers?.get("x-session-id")} ${c.provider}`),
    }),
  });
  const headers = new Headers({ "x-session-id": "s1" });
  const open = plan({ model: "r", headers });
  const narrowed = plan(
    { model: "r", headers },
    key([{ provider: "openai", weight: 1 }, {
      provider: "groq",
      weight: 9,
    }]),
  );
  assert.deepEqual(refs(open), ["groq/c", "anthropic/d", "azure/b", "openai/a"]);
  assert.deepEqual(
    refs(narrowed),
    ["groq/c", "openai/a"],
    "the drawn order, not the key's weights",
  );
  assert.ok(narrowed.ok);
  narrowed.served(narrowed.candidates[0]);
  assert.deepEqual(pinned, ["r s1 groq"]);
});

Deno.test("a weighted route splits the same with and without a key", () => {
  const config = { ...keyed, routes: { r: ["openai/m", "azure/m"] } };
  // The balancer's weighted draw, 1:99, from the same seeded source for both.
  const split = (k?: KeyScope) => {
    const random = seededRandom(7);
    const plan = createPlanner({
      config,
      random,
      choose: () => ({
        targets: random() < 0.01 ? ["openai/m", "azure/m"] : ["azure/m", "openai/m"],
        served: () => {},
      }),
    });
    const firsts: string[] = [];
    for (let i = 0; i < 50; i++) {
      const r = plan({ model: "r" }, k);
      assert.ok(r.ok);
      firsts.push(r.candidates[0].provider);
    }
    return firsts;
  };
  const open = split();
  assert.ok(open.filter((p) => p === "azure").length >= 47, open.join());
  assert.deepEqual(
    split(key([{ provider: "openai", weight: 1 }, { provider: "azure", weight: 1 }])),
    open,
  );
});
