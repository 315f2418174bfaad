import assert from "node:assert/strict";
import { buildConfig } from "../src/config.ts";
import { resolveCandidates } from "../src/routing.ts";

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
  assert.deepEqual(resolveCandidates(config, "openai/gpt-4o-mini"), {
    ok: true,
    candidates: [{ provider: "openai", model: "gpt-4o-mini" }],
  });
  assert.deepEqual(resolveCandidates(config, "groq/meta-llama/Llama-3.3-70B-Instruct"), {
    ok: true,
    candidates: [{ provider: "groq", model: "meta-llama/Llama-3.3-70B-Instruct" }],
  });
});

Deno.test("fallbacks follow the model in the order given", () => {
  const r = resolveCandidates(config, "openai/gpt-4o", ["claude/claude-3-5-haiku", "groq/a/b"]);
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
  assert.deepEqual(resolveCandidates(config, "fast"), {
    ok: true,
    candidates: [
      { provider: "groq", model: "llama-3.1-8b-instant" },
      { provider: "openai", model: "gpt-4o-mini" },
    ],
  });
  assert.deepEqual(resolveCandidates(config, "smart", ["openai/gpt-4o"]), {
    ok: true,
    candidates: [
      { provider: "claude", model: "claude-sonnet-4-5" },
      { provider: "openai", model: "gpt-4o" },
    ],
  });
});

Deno.test("an unknown provider is unknown_provider, naming the param and the known ones", () => {
  const inModel = resolveCandidates(config, "mistral/large");
  assert.equal(inModel.ok, false);
  if (inModel.ok) return;
  assert.equal(inModel.code, "unknown_provider");
  assert.equal(inModel.param, "model");
  assert.match(inModel.message, /^model: unknown provider "mistral"/);
  assert.match(inModel.message, /Configured providers: openai, groq, claude/);

  const inFallback = resolveCandidates(config, "openai/gpt-4o", ["groq/x", "mistral/large"]);
  assert.equal(inFallback.ok, false);
  if (inFallback.ok) return;
  assert.equal(inFallback.code, "unknown_provider");
  assert.equal(inFallback.param, "fallbacks[1]");
  assert.match(inFallback.message, /^fallbacks\[1\]: unknown provider "mistral"/);
});

Deno.test("with no providers at all the error says how to add one", () => {
  const r = resolveCandidates(none, "openai/gpt-4o");
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, "unknown_provider");
  assert.match(r.message, /none \(set OPENAI_API_KEY \/ ANTHROPIC_API_KEY or GATEWAY_CONFIG\)/);
});

Deno.test("a bare model that is no alias is invalid_model, listing the aliases", () => {
  const r = resolveCandidates(config, "gpt-4o");
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.code, "invalid_model");
  assert.equal(r.param, "model");
  assert.match(r.message, /"gpt-4o" must be "provider\/model"/);
  assert.match(r.message, /route aliases: fast, smart/);

  const noAliases = resolveCandidates(bare, "gpt-4o");
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
    const r = resolveCandidates(config, model, fallbacks);
    assert.equal(r.ok, false, model);
    if (r.ok) return;
    assert.equal(r.code, "invalid_model");
    assert.equal(r.param, param);
  }
});

Deno.test("inherited object property names are neither aliases nor providers", () => {
  for (const model of ["constructor", "toString", "__proto__"]) {
    const r = resolveCandidates(config, model);
    assert.equal(r.ok, false, model);
    if (!r.ok) assert.equal(r.code, "invalid_model");
  }
  for (const model of ["constructor/x", "__proto__/x", "hasOwnProperty/x"]) {
    const r = resolveCandidates(config, model);
    assert.equal(r.ok, false, model);
    if (!r.ok) assert.equal(r.code, "unknown_provider");
  }
});

Deno.test("a route's order can be chosen per request; fallbacks still follow it", () => {
  const r = resolveCandidates(
    config,
    "fast",
    ["claude/x"],
    (alias) => alias === "fast" ? ["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"] : undefined,
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
  resolveCandidates(config, "openai/gpt-4o", [], () => {
    asked = true;
    return undefined;
  });
  assert.equal(asked, false);
});
