import assert from "node:assert/strict";
import { buildConfig, ConfigError } from "../../src/config.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { buildPlugins, PluginsSchema } from "../../src/plugins/plugin_config.ts";

const rejection = (plugins: unknown): string => {
  try {
    buildConfig({ plugins }, () => undefined, "gateway.json");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail("accepted");
};

Deno.test("plugins default to none; each type fills its defaults", () => {
  assert.deepEqual(buildConfig({}, () => undefined, "t").plugins, []);
  assert.deepEqual(
    PluginsSchema.parse([{ type: "cache" }, { type: "guardrail" }, { type: "headers" }]),
    [
      {
        type: "cache",
        ttlMs: 300_000,
        maxEntries: 1_000,
        vary: ["authorization", "x-api-key", "api-key", "x-goog-api-key"],
        store: "auto",
        bucket: "GATEWAY_CACHE",
      },
      { type: "guardrail", onMaxTokens: "clamp", deny: [] },
      { type: "headers", forwardHeaders: [], metadataHeader: "x-gateway-metadata" },
    ],
  );
});

Deno.test("a bad plugin config stops start-up naming the field", () => {
  const cases: [unknown, RegExp][] = [
    [
      [{ type: "guardrail", deny: [{ name: "x", pattern: "(" }] }],
      /plugins\[0\]\.deny\[0\]\.pattern: Invalid regular expression/,
    ],
    [
      [{ type: "guardrail", deny: [{ name: "x", pattern: "a", flags: "g" }] }],
      /plugins\[0\]\.deny\[0\]\.flags: only the flags/,
    ],
    [[{ type: "guardrail", maxTokens: 0 }], /plugins\[0\]\.maxTokens/],
    [
      [{ type: "headers", forwardHeaders: ["Authorization"] }],
      /plugins\[0\]\.forwardHeaders\[0\]: credentials and connection headers are never forwarded/,
    ],
    [[{ type: "cache", ttlMs: -1 }], /plugins\[0\]\.ttlMs/],
    [[{ type: "cache", extra: 1 }], /plugins\[0\]/],
    [[{ type: "telepathy" }], /plugins\[0\]/],
    [
      [{ type: "cache" }, { type: "cache" }],
      /plugins\[1\]\.name: another plugin is already named "cache"/,
    ],
  ];
  for (const [plugins, want] of cases) {
    assert.match(rejection(plugins), want, JSON.stringify(plugins));
  }
});

Deno.test("buildPlugins: configured order, names, and one start-up line each", async () => {
  const built = buildPlugins(
    PluginsSchema.parse([
      { type: "headers", forwardHeaders: ["X-Trace-Id"] },
      { type: "guardrail", name: "policy", maxTokens: 512, deny: [{ name: "a", pattern: "b" }] },
      { type: "cache", ttlMs: 60_000, maxEntries: 50 },
    ]),
    { logger: silentLogger },
  );
  assert.deepEqual(built.plugins.map((p) => p.name), ["headers", "policy", "cache"]);
  assert.deepEqual(built.describe, [
    "headers: forward x-trace-id, metadata from x-gateway-metadata",
    "policy: 1 deny rule(s), max tokens 512 (clamp)",
    "cache: response cache, in-memory LRU (50 entries, TTL 60000 ms)",
  ]);
  await built.close();
});

Deno.test("the cache goes to NATS KV when NATS is configured, unless told memory", async () => {
  const auto = buildPlugins(PluginsSchema.parse([{ type: "cache" }]), {
    nats: { servers: ["ws://127.0.0.1:1"] },
    logger: silentLogger,
  });
  assert.match(auto.describe[0], /NATS KV bucket GATEWAY_CACHE/);
  await auto.close();
  const memory = buildPlugins(PluginsSchema.parse([{ type: "cache", store: "memory" }]), {
    nats: { servers: ["ws://127.0.0.1:1"] },
    logger: silentLogger,
  });
  assert.match(memory.describe[0], /in-memory/);
  assert.throws(
    () =>
      buildPlugins(PluginsSchema.parse([{ type: "cache", store: "nats" }]), {
        logger: silentLogger,
      }),
    /needs NATS/,
  );
});
