import assert from "node:assert/strict";
import {
  buildConfig,
  type Config,
  ConfigError,
  configFromEnv,
  configJsonSchema,
  loadConfig,
} from "../src/config.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];
const noEnv = envOf({});

/** The ConfigError message for a config that must not load. */
function rejection(raw: unknown, env = noEnv): string {
  try {
    buildConfig(raw, env, "gateway.json");
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.message;
  }
  assert.fail(`config was accepted: ${JSON.stringify(raw)}`);
}

Deno.test("an empty config gets the documented defaults", () => {
  const c = buildConfig({}, noEnv, "gateway.json");
  assert.equal(c.port, 8080);
  assert.match(c.instance, /^gw-[0-9a-f]{8}$/);
  assert.deepEqual(c.providers, {});
  assert.deepEqual(c.routes, {});
  assert.deepEqual(c.retries, { max: 1, baseMs: 100, maxMs: 2_000, maxRetryAfterMs: 3_000 });
  assert.deepEqual(c.timeouts, {
    headersMs: 30_000,
    firstTokenMs: 10_000,
    idleMs: 10_000,
    totalMs: 120_000,
    requestMs: 180_000,
  });
  assert.deepEqual(c.limits, { maxBodyBytes: 4 * 1024 * 1024, maxInFlight: 1024 });
  assert.equal(c.nats.url, undefined);
  assert.equal(c.nats.stream, "GATEWAY_EVENTS");
  assert.equal(c.source, "gateway.json");
});

Deno.test("a provider gets breaker, rate limit, timeout and base URL defaults", () => {
  const c = buildConfig(
    { providers: { openai: { type: "openai" }, claude: { type: "anthropic" } } },
    noEnv,
    "gateway.json",
  );
  const p = c.providers.openai;
  assert.equal(p.id, "openai");
  assert.equal(p.baseUrl, "https://api.openai.com/v1");
  assert.equal(c.providers.claude.baseUrl, "https://api.anthropic.com/v1");
  assert.deepEqual(p.keys, []);
  assert.deepEqual(p.models, []);
  assert.deepEqual(p.breaker, {
    failureRateThreshold: 0.5,
    minimumRequests: 5,
    windowMs: 30_000,
    openMs: 10_000,
    maxOpenMs: 20_000,
    halfOpenProbes: 1,
  });
  assert.deepEqual(p.rateLimit, { rpm: 0, tpm: 0 });
  assert.deepEqual(p.timeouts, {
    headersMs: 30_000,
    firstTokenMs: 10_000,
    idleMs: 10_000,
    totalMs: 120_000,
    models: {},
  });
  assert.equal(p.modelCooldownMs, 300_000);
  assert.equal(p.quotaCooldownMs, 60_000);
});

Deno.test("partial sections keep the defaults of the fields left out", () => {
  const c = buildConfig(
    {
      providers: {
        local: {
          type: "openai",
          baseUrl: "http://localhost:8000/v1//",
          breaker: { openMs: 1_000 },
          timeouts: { firstTokenMs: 500 },
          rateLimit: { rpm: 60, models: { "gpt-4o": { tpm: 30_000 } } },
        },
      },
      retries: { max: 3 },
    },
    noEnv,
    "gateway.json",
  );
  const p = c.providers.local;
  assert.equal(p.baseUrl, "http://localhost:8000/v1", "trailing slashes are trimmed");
  assert.equal(p.breaker.openMs, 1_000);
  assert.equal(p.breaker.minimumRequests, 5);
  assert.deepEqual(p.timeouts, {
    headersMs: 30_000,
    firstTokenMs: 500,
    idleMs: 10_000,
    totalMs: 120_000,
    models: {},
  });
  // A per-model limit fills in its own defaults, not the key-wide ones.
  assert.deepEqual(p.rateLimit, { rpm: 60, tpm: 0, models: { "gpt-4o": { rpm: 0, tpm: 30_000 } } });
  assert.deepEqual(c.retries, { max: 3, baseMs: 100, maxMs: 2_000, maxRetryAfterMs: 3_000 });
});

Deno.test("timeouts resolve model → provider → top-level → defaults, field by field", () => {
  const c = buildConfig(
    {
      timeouts: { firstTokenMs: 8_000, idleMs: 20_000, requestMs: 300_000 },
      providers: {
        plain: { type: "openai" },
        openai: {
          type: "openai",
          timeouts: {
            headersMs: 45_000,
            totalMs: 200_000,
            models: {
              o3: { firstTokenMs: 120_000, headersMs: 300_000 },
              "gpt-4o-mini": { idleMs: 3_000 },
            },
          },
        },
      },
    },
    noEnv,
    "gateway.json",
  );
  assert.deepEqual(c.timeouts, {
    headersMs: 30_000,
    firstTokenMs: 8_000,
    idleMs: 20_000,
    totalMs: 120_000,
    requestMs: 300_000,
  });
  const top = { headersMs: 30_000, firstTokenMs: 8_000, idleMs: 20_000, totalMs: 120_000 };
  assert.deepEqual(c.providers.plain.timeouts, { ...top, models: {} });
  const provider = { ...top, headersMs: 45_000, totalMs: 200_000 };
  assert.deepEqual(c.providers.openai.timeouts, {
    ...provider,
    models: {
      o3: { ...provider, firstTokenMs: 120_000, headersMs: 300_000 },
      "gpt-4o-mini": { ...provider, idleMs: 3_000 },
    },
  });
});

Deno.test("env: secrets are resolved, labelled and weighted", () => {
  const c = buildConfig(
    {
      providers: {
        openai: {
          type: "openai",
          keys: [{ value: "env:KEY_A" }, { value: "env:KEY_B", weight: 3, id: "backup" }],
        },
      },
    },
    envOf({ KEY_A: "sk-a", KEY_B: "sk-b" }),
    "gateway.json",
  );
  assert.deepEqual(c.providers.openai.keys, [
    { id: "openai-0", weight: 1, secret: "sk-a", env: "KEY_A" },
    { id: "backup", weight: 3, secret: "sk-b", env: "KEY_B" },
  ]);
});

Deno.test("a missing or empty env var names the field and the variable", () => {
  const raw = {
    providers: {
      x: { type: "openai", keys: [{ value: "env:SET_KEY" }, { value: "env:MISSING_KEY" }] },
    },
  };
  const msg = rejection(raw, envOf({ SET_KEY: "sk" }));
  assert.match(msg, /providers\.x\.keys\[1\]\.value: environment variable MISSING_KEY is not set/);
  assert.doesNotMatch(msg, /keys\[0\]/);
  const empty = rejection(raw, envOf({ SET_KEY: "", MISSING_KEY: "sk" }));
  assert.match(empty, /providers\.x\.keys\[0\]\.value: environment variable SET_KEY is not set/);
});

Deno.test("an inlined secret is rejected and never echoed back", () => {
  const msg = rejection({
    providers: { x: { type: "openai", keys: [{ value: "sk-live-abcdef123456" }] } },
  });
  assert.match(msg, /providers\.x\.keys\[0\]\.value: must reference an environment variable/);
  assert.doesNotMatch(msg, /sk-live-abcdef123456/);
});

Deno.test("validation errors name the field path", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["unknown provider type", { providers: { x: { type: "gpt" } } }, /providers\.x\.type: /],
    ["wrong type", { port: "80" }, / {2}- port: .*expected number/],
    [
      "value out of range",
      { providers: { x: { type: "openai", breaker: { failureRateThreshold: 2 } } } },
      /providers\.x\.breaker\.failureRateThreshold: /,
    ],
    [
      "bad base URL",
      { providers: { x: { type: "openai", baseUrl: "not a url" } } },
      /providers\.x\.baseUrl: /,
    ],
    [
      "negative timeout",
      { providers: { x: { type: "openai", timeouts: { totalMs: -1 } } } },
      /providers\.x\.timeouts\.totalMs: /,
    ],
    ["unknown top-level key", { prot: 8080 }, /\(root\): .*"prot"/],
    [
      "unknown nested key",
      { providers: { x: { type: "openai", base_url: "http://x" } } },
      /providers\.x: .*"base_url"/,
    ],
    ["route not provider/model", { routes: { fast: ["gpt-4o"] } }, /routes\.fast\[0\]: /],
    ["empty route", { routes: { fast: [] } }, /routes\.fast: /],
    ["too many retries", { retries: { max: 50 } }, /retries\.max: /],
    [
      "negative maxRetryAfterMs",
      { retries: { maxRetryAfterMs: -5 } },
      /retries\.maxRetryAfterMs: /,
    ],
    ["zero request budget", { timeouts: { requestMs: 0 } }, /timeouts\.requestMs: /],
    ["fractional idle timeout", { timeouts: { idleMs: 1.5 } }, /timeouts\.idleMs: /],
    ["unknown top-level timeout", { timeouts: { firstByteMs: 5 } }, /timeouts: .*"firstByteMs"/],
    [
      "requestMs is not per provider",
      { providers: { x: { type: "openai", timeouts: { requestMs: 5 } } } },
      /providers\.x\.timeouts: .*"requestMs"/,
    ],
    [
      "bad model timeout",
      { providers: { x: { type: "openai", timeouts: { models: { o3: { headersMs: "long" } } } } } },
      /providers\.x\.timeouts\.models\.o3\.headersMs: /,
    ],
    [
      "unknown model timeout",
      { providers: { x: { type: "openai", timeouts: { models: { o3: { thinkMs: 1 } } } } } },
      /providers\.x\.timeouts\.models\.o3: .*"thinkMs"/,
    ],
    ["not an object", [], /\(root\): .*expected object/],
  ];
  for (const [name, raw, want] of cases) {
    await t.step(name, () => {
      const msg = rejection(raw);
      assert.match(msg, /^invalid configuration in gateway\.json:/);
      assert.match(msg, want);
    });
  }
});

Deno.test("provider ids must be lowercase [a-z0-9_-], and the message says so", () => {
  for (const id of ["OpenAI", "my.provider", "a/b", "with space"]) {
    const msg = rejection({ providers: { [id]: { type: "openai" } } });
    assert.ok(msg.includes(`providers.${id}: `), msg);
    assert.match(msg, /provider ids are lowercase \[a-z0-9_-\]/);
  }
  for (const id of ["openai", "groq-2", "local_vllm"]) {
    assert.ok(buildConfig({ providers: { [id]: { type: "openai" } } }, noEnv, "t").providers[id]);
  }
});

Deno.test("routes pointing at unknown providers are rejected, naming the entry", () => {
  const msg = rejection({
    providers: { openai: { type: "openai" } },
    routes: { fast: ["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"] },
  });
  assert.match(msg, /routes\.fast\[1\]: unknown provider "groq"/);
  assert.doesNotMatch(msg, /routes\.fast\[0\]/);
});

Deno.test("a route through an inherited object property is not a configured provider", () => {
  const msg = rejection({ routes: { fast: ["constructor/x"] } });
  assert.match(msg, /routes\.fast\[0\]: unknown provider "constructor"/);
});

Deno.test("PORT, NATS_URL and GATEWAY_INSTANCE from the environment win over the file", () => {
  const raw = { port: 9000, instance: "file", nats: { url: "ws://file:9222" } };
  const fromFile = buildConfig(raw, noEnv, "t");
  assert.equal(fromFile.port, 9000);
  assert.equal(fromFile.nats.url, "ws://file:9222");
  assert.equal(fromFile.instance, "file");
  const fromEnv = buildConfig(
    raw,
    envOf({ PORT: "7001", NATS_URL: "ws://env:9222", GATEWAY_INSTANCE: "env" }),
    "t",
  );
  assert.equal(fromEnv.port, 7001);
  assert.equal(fromEnv.nats.url, "ws://env:9222");
  assert.equal(fromEnv.instance, "env");
  assert.equal(buildConfig({}, envOf({ PORT: "0" }), "t").port, 0);
});

Deno.test("HOST (else config host, else 0.0.0.0) is the listen address; METRICS_TOKEN from env", () => {
  assert.equal(buildConfig({}, noEnv, "t").host, "0.0.0.0");
  assert.equal(buildConfig({ host: "127.0.0.1" }, noEnv, "t").host, "127.0.0.1");
  assert.equal(buildConfig({ host: "127.0.0.1" }, envOf({ HOST: "::" }), "t").host, "::");
  assert.match(rejection({}, envOf({ HOST: "a b" })), /HOST must be an address/);
  assert.match(rejection({ host: "http://x" }, noEnv), /host/);
  assert.equal(buildConfig({}, noEnv, "t").metricsToken, undefined);
  assert.equal(buildConfig({}, envOf({ METRICS_TOKEN: "m" }), "t").metricsToken, "m");
});

Deno.test("a PORT that is not a port number stops start-up and says so", () => {
  for (const bad of ["http", "70000", "-1", "80.5"]) {
    const msg = rejection({}, envOf({ PORT: bad }));
    assert.match(msg, /PORT must be a port number/);
    assert.ok(msg.includes(`"${bad}"`), msg);
  }
});

Deno.test("the resulting config is frozen", () => {
  const c = buildConfig({ providers: { x: { type: "openai" } } }, noEnv, "t") as Config & {
    port: number;
  };
  assert.throws(() => {
    (c as { port: number }).port = 1;
  }, TypeError);
  assert.throws(() => {
    (c.providers.x.breaker as { openMs: number }).openMs = 1;
  }, TypeError);
});

Deno.test("configFromEnv makes a provider per API key found", () => {
  const both = configFromEnv(envOf({ OPENAI_API_KEY: "sk-o", ANTHROPIC_API_KEY: "sk-a" }));
  assert.deepEqual(Object.keys(both.providers).sort(), ["anthropic", "openai"]);
  assert.equal(both.providers.openai.type, "openai");
  assert.equal(both.providers.openai.keys[0].secret, "sk-o");
  assert.equal(both.providers.openai.keys[0].env, "OPENAI_API_KEY");
  assert.equal(both.providers.anthropic.type, "anthropic");
  assert.equal(both.providers.anthropic.keys[0].secret, "sk-a");
  assert.match(both.source, /no GATEWAY_CONFIG/);

  const one = configFromEnv(envOf({ ANTHROPIC_API_KEY: "sk-a", PORT: "0" }));
  assert.deepEqual(Object.keys(one.providers), ["anthropic"]);
  assert.equal(one.port, 0);

  assert.deepEqual(configFromEnv(noEnv).providers, {});
  assert.deepEqual(configFromEnv(envOf({ OPENAI_API_KEY: "" })).providers, {});
});

Deno.test("loadConfig without GATEWAY_CONFIG uses the environment", async () => {
  const c = await loadConfig(envOf({ OPENAI_API_KEY: "sk-o" }));
  assert.deepEqual(Object.keys(c.providers), ["openai"]);
});

Deno.test("loadConfig reads the GATEWAY_CONFIG file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/gateway.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        providers: { groq: { type: "openai", baseUrl: "https://api.groq.com/openai/v1" } },
        routes: { fast: ["groq/llama-3.1-8b-instant"] },
      }),
    );
    const c = await loadConfig(envOf({ GATEWAY_CONFIG: path, OPENAI_API_KEY: "ignored" }));
    assert.deepEqual(Object.keys(c.providers), ["groq"]);
    assert.deepEqual(c.routes.fast, ["groq/llama-3.1-8b-instant"]);
    assert.equal(c.source, path);

    await Deno.writeTextFile(path, JSON.stringify({ providers: { groq: { type: "grok" } } }));
    await assert.rejects(
      loadConfig(envOf({ GATEWAY_CONFIG: path })),
      (e: Error) =>
        e instanceof ConfigError && e.message.includes(`invalid configuration in ${path}`) &&
        e.message.includes("providers.groq.type"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig: a file that is not JSON is a ConfigError naming the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/gateway.json`;
    await Deno.writeTextFile(path, '{ "providers": { ');
    await assert.rejects(
      loadConfig(envOf({ GATEWAY_CONFIG: path })),
      (e: Error) => e instanceof ConfigError && e.message.startsWith(`${path} is not valid JSON`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadConfig: an unreadable path is a ConfigError naming the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const path of [`${dir}/missing.json`, dir]) {
      await assert.rejects(
        loadConfig(envOf({ GATEWAY_CONFIG: path })),
        (e: Error) =>
          e instanceof ConfigError &&
          e.message.startsWith(`cannot read GATEWAY_CONFIG file ${path}`),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configJsonSchema describes gateway.json for editors", () => {
  const schema = configJsonSchema() as {
    type: string;
    properties: Record<string, unknown>;
    additionalProperties?: unknown;
  };
  assert.equal(schema.type, "object");
  for (const key of ["providers", "routes", "timeouts", "retries", "limits", "nats", "port"]) {
    assert.ok(key in schema.properties, `schema has no "${key}"`);
  }
  assert.equal(schema.additionalProperties, false);
  const text = JSON.stringify(schema);
  assert.ok(text.includes('"anthropic"'), "provider types are listed");
  // Serialisable as-is, to be written to gateway.schema.json.
  assert.deepEqual(JSON.parse(text), schema);
});

Deno.test("nats: a list of servers (string or array), credential from env: refs, CA, replicas", () => {
  const env = envOf({ GW_PASS: "pw", SEED: "SUAX" });
  const c = buildConfig(
    {
      nats: {
        url: ["wss://n1:443", "wss://n2:443"],
        auth: { user: "gateway", password: "env:GW_PASS" },
        tls: { ca: "/etc/nats/ca.pem" },
        replicas: 3,
      },
    },
    env,
    "gw.json",
  );
  assert.deepEqual(c.nats.servers, ["wss://n1:443", "wss://n2:443"]);
  assert.equal(c.nats.url, "wss://n1:443,wss://n2:443");
  assert.deepEqual(c.nats.auth, { kind: "user", user: "gateway", password: "pw" });
  assert.equal(c.nats.ca, "/etc/nats/ca.pem");
  assert.equal(c.nats.replicas, 3);
  assert.equal(c.nats.allowMutableStream, false);
  const seed = buildConfig({ nats: { url: "ws://a:1", auth: { nkeySeed: "env:SEED" } } }, env, "x");
  assert.deepEqual(seed.nats.auth, { kind: "nkey", seed: "SUAX" });
  const creds = buildConfig({ nats: { url: "ws://a:1", auth: { creds: "/c.creds" } } }, env, "x");
  assert.deepEqual(creds.nats.auth, { kind: "creds", path: "/c.creds" });
});

Deno.test("nats: the environment when gateway.json says nothing; userinfo in NATS_URL is taken out", () => {
  const c = buildConfig(
    {},
    envOf({
      NATS_URL: "ws://gw:s3cret@n1:9222, ws://n2:9222",
      NATS_CA: "/ca.pem",
      NATS_REPLICAS: "3",
      NATS_ALLOW_MUTABLE_STREAM: "1",
    }),
    "env",
  );
  assert.deepEqual(c.nats.servers, ["ws://n1:9222", "ws://n2:9222"]);
  assert.deepEqual(c.nats.auth, { kind: "user", user: "gw", password: "s3cret" });
  assert.ok(!c.nats.url!.includes("s3cret"), "the shown URL carries no password");
  assert.equal(c.nats.ca, "/ca.pem");
  assert.equal(c.nats.replicas, 3);
  assert.equal(c.nats.allowMutableStream, true);
  assert.deepEqual(
    buildConfig({}, envOf({ NATS_URL: "ws://a:1", NATS_TOKEN: "t" }), "env").nats.auth,
    { kind: "token", token: "t" },
  );
  // Without NATS nothing NATS-related is required.
  assert.equal(buildConfig({}, envOf({ NATS_TOKEN: "t" }), "env").nats.url, undefined);
});

Deno.test("nats: bad sections stop start-up naming the field, never echoing a secret", () => {
  const bad: [unknown, Record<string, string>, RegExp][] = [
    [
      { nats: { url: "nats://a:4222" } },
      {},
      /nats\.url: "nats:\/\/a:4222" must be a ws:\/\/ or wss:\/\/ URL/,
    ],
    [
      { nats: { url: "ws://a:1", auth: { password: "inline-secret" } } },
      {},
      /nats\.auth\.password/,
    ],
    [
      { nats: { url: "ws://a:1", auth: { token: "env:T", nkeySeed: "env:S" } } },
      { T: "x", S: "y" },
      /exactly one/,
    ],
    [
      { nats: { url: "ws://a:1", auth: { user: "gw" } } },
      {},
      /nats\.auth.*(exactly one|go together)/,
    ],
    [
      { nats: { url: "ws://a:1", auth: { token: "env:MISSING" } } },
      {},
      /nats\.auth\.token: environment variable MISSING is not set/,
    ],
    [{}, { NATS_URL: "ws://a:1", NATS_USER: "u" }, /NATS_USER and NATS_PASSWORD go together/],
    [{}, { NATS_URL: "ws://a:1", NATS_REPLICAS: "two" }, /NATS_REPLICAS/],
    [{ nats: { replicas: 7 } }, {}, /nats\.replicas/],
  ];
  for (const [raw, env, re] of bad) {
    assert.throws(() => buildConfig(raw, envOf(env), "gw.json"), (e: Error) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, re);
      assert.ok(!e.message.includes("inline-secret"));
      return true;
    });
  }
  // A password in the URL is redacted in the error about the URL.
  assert.throws(
    () => buildConfig({ nats: { url: "nats://u:pw-in-url@a:4222" } }, envOf({}), "gw.json"),
    (e: Error) => !e.message.includes("pw-in-url") && /nats\.url/.test(e.message),
  );
});
