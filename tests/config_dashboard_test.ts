// The dashboard's NATS websocket URL for browsers (config `dashboard.natsWsUrl` or env
// DASHBOARD_NATS_WS_URL). Kept apart from config_test.ts, which other work edits.
import assert from "node:assert/strict";
import { buildConfig, ConfigError } from "../src/config.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("dashboard.natsWsUrl: unset by default, read from the file, overridden by the env", () => {
  assert.equal(buildConfig({}, envOf({}), "t").dashboard.natsWsUrl, undefined);
  const file = { dashboard: { natsWsUrl: "wss://nats.example:443/ws" } };
  assert.equal(buildConfig(file, envOf({}), "t").dashboard.natsWsUrl, "wss://nats.example:443/ws");
  const env = envOf({ DASHBOARD_NATS_WS_URL: "ws://127.0.0.1:9222" });
  assert.equal(buildConfig(file, env, "t").dashboard.natsWsUrl, "ws://127.0.0.1:9222");
});

Deno.test("a dashboard URL that is not ws:// or wss:// stops start-up naming where it came from", () => {
  assert.throws(
    () => buildConfig({ dashboard: { natsWsUrl: "nats://127.0.0.1:4222" } }, envOf({}), "gw.json"),
    (e: Error) =>
      e instanceof ConfigError &&
      /dashboard\.natsWsUrl: must be a ws:\/\/ or wss:\/\/ URL/.test(e.message),
  );
  assert.throws(
    () => buildConfig({}, envOf({ DASHBOARD_NATS_WS_URL: "http://x" }), "t"),
    /DASHBOARD_NATS_WS_URL must be a ws:\/\/ or wss:\/\/ URL, got "http:\/\/x"/,
  );
  assert.throws(
    () => buildConfig({ dashboard: { natsWsUrl: "ws://x", extra: 1 } }, envOf({}), "t"),
    ConfigError,
  );
});

Deno.test("dashboard NATS login: from dashboard.natsAuth (env: refs) or DASHBOARD_NATS_*; only with natsWsUrl", () => {
  const url = "wss://nats.example:443";
  const fromFile = buildConfig(
    { dashboard: { natsWsUrl: url, natsAuth: { user: "observer", password: "env:OBS" } } },
    envOf({ OBS: "obs-pw" }),
    "gw.json",
  );
  assert.deepEqual(fromFile.dashboard.natsAuth, { user: "observer", pass: "obs-pw" });
  const fromEnv = buildConfig(
    {},
    envOf({ DASHBOARD_NATS_WS_URL: url, DASHBOARD_NATS_TOKEN: "tok" }),
    "env",
  );
  assert.deepEqual(fromEnv.dashboard.natsAuth, { auth_token: "tok" });
  assert.equal(
    buildConfig({}, envOf({ DASHBOARD_NATS_TOKEN: "tok" }), "env").dashboard.natsAuth,
    undefined,
    "no websocket URL, no login",
  );
  assert.throws(
    () => buildConfig({}, envOf({ DASHBOARD_NATS_WS_URL: url, DASHBOARD_NATS_USER: "o" }), "env"),
    /DASHBOARD_NATS_\*: user and password go together/,
  );
  assert.throws(
    () =>
      buildConfig(
        { dashboard: { natsWsUrl: url, natsAuth: { token: "env:MISSING" } } },
        envOf({}),
        "gw.json",
      ),
    /dashboard\.natsAuth\.token: environment variable MISSING is not set/,
  );
});
