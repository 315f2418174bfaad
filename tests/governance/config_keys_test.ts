// Keys declared in gateway.json, through buildConfig: their secrets come from the environment
// and every problem stops start-up naming the field.
import assert from "node:assert/strict";
import { buildConfig, ConfigError } from "../../src/config.ts";

const providers = { openai: { type: "openai", keys: [] } };
const build = (virtualKeys: unknown[], env: Record<string, string> = {}) =>
  buildConfig({ providers, virtualKeys }, (n) => env[n], "gateway.json");

Deno.test("a declared key gets id cfg-<name> and its secret from the environment", () => {
  const config = build(
    [{ name: "team-a", key: "env:TEAM_A_KEY", providers: [{ provider: "openai", weight: 2 }] }],
    { TEAM_A_KEY: "a-long-enough-secret" },
  );
  assert.equal(config.virtualKeys.length, 1);
  const k = config.virtualKeys[0];
  assert.equal(k.id, "cfg-team-a");
  assert.equal(k.secret, "a-long-enough-secret");
  assert.equal(k.env, "TEAM_A_KEY");
  assert.deepEqual(k.providers, [{ provider: "openai", weight: 2 }]);
  assert.equal(build([]).virtualKeys.length, 0);
});

Deno.test("GATEWAY_ADMIN_KEY turns the admin API on", () => {
  assert.equal(build([]).adminKey, undefined);
  assert.equal(build([], { GATEWAY_ADMIN_KEY: "" }).adminKey, undefined);
  assert.equal(build([], { GATEWAY_ADMIN_KEY: "adm" }).adminKey, "adm");
});

Deno.test("problems with declared keys stop start-up, naming the field", () => {
  const cases: [unknown[], Record<string, string>, RegExp][] = [
    [
      [{ name: "a", key: "env:MISSING", providers: [{ provider: "openai" }] }],
      {},
      /virtualKeys\[0\]\.key: environment variable MISSING is not set/,
    ],
    [
      [{ name: "a", key: "env:K", providers: [{ provider: "openai" }] }],
      { K: "short" },
      /virtualKeys\[0\]\.key: the secret in K is shorter than 16/,
    ],
    [
      [{ name: "a", key: "env:K", providers: [{ provider: "nope" }] }],
      { K: "x".repeat(20) },
      /virtualKeys\[0\]\.providers\[0\]\.provider: unknown provider "nope"/,
    ],
    [
      [
        { name: "a", key: "env:K", providers: [{ provider: "openai" }] },
        { name: "a", key: "env:L", providers: [{ provider: "openai" }] },
      ],
      { K: "x".repeat(20), L: "y".repeat(20) },
      /virtualKeys\[1\]\.name: "a" is declared twice/,
    ],
    [
      [
        { name: "a", key: "env:K", providers: [{ provider: "openai" }] },
        { name: "b", key: "env:L", providers: [{ provider: "openai" }] },
      ],
      { K: "x".repeat(20), L: "x".repeat(20) },
      /virtualKeys\[1\]\.key: same secret as virtualKeys "a"/,
    ],
    [[{ name: "has space", key: "env:K", providers: [{ provider: "openai" }] }], {
      K: "x".repeat(20),
    }, /virtualKeys\[0\]\.name/],
    [
      [{ name: "a", key: "plain-secret-inline", providers: [{ provider: "openai" }] }],
      {},
      /virtualKeys\[0\]\.key: must reference an environment variable/,
    ],
  ];
  for (const [keys, env, message] of cases) {
    assert.throws(() => build(keys, env), (e: Error) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
});
