// Catalogue types through the real config loader: a type's documented base URL and API-key
// variable are what a user gets from `"type": "groq"` in gateway.json or from the environment.
import assert from "node:assert/strict";
import { buildConfig, ConfigError, configFromEnv } from "../../src/config.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("a groq provider in gateway.json gets Groq's base URL and the key from env", () => {
  const c = buildConfig(
    { providers: { groq: { type: "groq", keys: [{ value: "env:GROQ_API_KEY" }] } } },
    envOf({ GROQ_API_KEY: "gsk-test" }),
    "gateway.json",
  );
  assert.equal(c.providers.groq.type, "groq");
  assert.equal(c.providers.groq.baseUrl, "https://api.groq.com/openai/v1");
  assert.deepEqual(c.providers.groq.keys, [
    { id: "groq-0", weight: 1, secret: "gsk-test", env: "GROQ_API_KEY" },
  ]);
});

Deno.test("any provider id may use a catalogue type, and an explicit baseUrl wins", () => {
  const c = buildConfig(
    {
      providers: {
        "fast-llama": { type: "cerebras", keys: [{ value: "env:CEREBRAS_API_KEY" }] },
        eu: { type: "mistral", baseUrl: "https://proxy.example.eu/mistral/v1/" },
        or: { type: "openrouter", headers: { "HTTP-Referer": "https://app.example" } },
      },
    },
    envOf({ CEREBRAS_API_KEY: "csk" }),
    "gateway.json",
  );
  assert.equal(c.providers["fast-llama"].baseUrl, "https://api.cerebras.ai/v1");
  assert.equal(c.providers.eu.baseUrl, "https://proxy.example.eu/mistral/v1");
  assert.equal(c.providers.or.baseUrl, "https://openrouter.ai/api/v1");
  assert.deepEqual(c.providers.or.headers, { "HTTP-Referer": "https://app.example" });
});

Deno.test("local servers need no key and default to their documented ports", () => {
  const c = buildConfig(
    {
      providers: { ollama: { type: "ollama" }, vllm: { type: "vllm" }, lms: { type: "lmstudio" } },
    },
    envOf({}),
    "gateway.json",
  );
  assert.equal(c.providers.ollama.baseUrl, "http://localhost:11434/v1");
  assert.equal(c.providers.vllm.baseUrl, "http://localhost:8000/v1");
  assert.equal(c.providers.lms.baseUrl, "http://localhost:1234/v1");
  assert.deepEqual(c.providers.ollama.keys, []);
});

Deno.test("with no config file, GROQ_API_KEY alone makes a groq provider on Groq's URL", () => {
  const c = configFromEnv(envOf({ GROQ_API_KEY: "gsk-env" }));
  assert.deepEqual(Object.keys(c.providers), ["groq"]);
  assert.equal(c.providers.groq.type, "groq");
  assert.equal(c.providers.groq.baseUrl, "https://api.groq.com/openai/v1");
  assert.equal(c.providers.groq.keys[0].secret, "gsk-env");
  assert.equal(c.providers.groq.keys[0].env, "GROQ_API_KEY");
});

Deno.test("with no config file, each vendor key found makes its provider", () => {
  const c = configFromEnv(envOf({
    MISTRAL_API_KEY: "m",
    DEEPSEEK_API_KEY: "d",
    OPENROUTER_API_KEY: "o",
    CO_API_KEY: "c",
    PORT: "0",
  }));
  assert.deepEqual(Object.keys(c.providers).sort(), [
    "cohere",
    "deepseek",
    "mistral",
    "openrouter",
  ]);
  assert.equal(c.providers.deepseek.baseUrl, "https://api.deepseek.com");
  assert.equal(c.providers.cohere.baseUrl, "https://api.cohere.com/v2");
  assert.equal(c.providers.cohere.keys[0].env, "CO_API_KEY");
});

Deno.test("azure in gateway.json needs a baseUrl, and says so naming the field", () => {
  assert.throws(
    () =>
      buildConfig(
        { providers: { az: { type: "azure", keys: [{ value: "env:AZURE_OPENAI_API_KEY" }] } } },
        envOf({ AZURE_OPENAI_API_KEY: "k" }),
        "gateway.json",
      ),
    (e) =>
      e instanceof ConfigError &&
      /providers\.az\.baseUrl: required for type "azure"/.test(e.message),
  );
  const c = buildConfig(
    {
      providers: {
        az: {
          type: "azure",
          baseUrl: "https://contoso.openai.azure.com/",
          apiVersion: "2024-10-21",
          deployments: { "gpt-4o": "prod-4o" },
          keys: [{ value: "env:AZURE_OPENAI_API_KEY" }],
        },
      },
    },
    envOf({ AZURE_OPENAI_API_KEY: "k" }),
    "gateway.json",
  );
  assert.equal(c.providers.az.baseUrl, "https://contoso.openai.azure.com");
  assert.equal(c.providers.az.apiVersion, "2024-10-21");
  assert.deepEqual(c.providers.az.deployments, { "gpt-4o": "prod-4o" });
});

Deno.test("with no config file, azure needs both its key and AZURE_OPENAI_ENDPOINT", () => {
  const both = configFromEnv(envOf({
    AZURE_OPENAI_API_KEY: "k",
    AZURE_OPENAI_ENDPOINT: "https://contoso.openai.azure.com/",
  }));
  assert.equal(both.providers.azure.type, "azure");
  assert.equal(both.providers.azure.baseUrl, "https://contoso.openai.azure.com");
  assert.equal(both.providers.azure.keys[0].env, "AZURE_OPENAI_API_KEY");
  // A key without its endpoint serves nothing: skipped, and start-up still works.
  const keyOnly = configFromEnv(envOf({ AZURE_OPENAI_API_KEY: "k", OPENAI_API_KEY: "sk" }));
  assert.deepEqual(Object.keys(keyOnly.providers), ["openai"]);
  // An endpoint that is not a URL is reported like any bad baseUrl.
  assert.throws(
    () => configFromEnv(envOf({ AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_ENDPOINT: "contoso" })),
    (e) => e instanceof ConfigError && /providers\.azure\.baseUrl/.test(e.message),
  );
});

Deno.test("a type the catalogue does not know stops start-up naming the field", () => {
  assert.throws(
    () => buildConfig({ providers: { x: { type: "grok" } } }, envOf({}), "gateway.json"),
    (e) => e instanceof ConfigError && /providers\.x\.type/.test(e.message),
  );
});
