// A locked nats-server (the shipped least-privilege permissions, no anonymous access): the gateway
// and the tools connect with each kind of credential; a missing or wrong credential stops start-up
// with a message that names the problem and never the secret; the observer identity can read the
// events but cannot publish them, touch KV, or delete or purge the stream; and a forged breaker
// event published by the observer is refused by the server, so no replica folds it.
import assert from "node:assert/strict";
import {
  credsAuthenticator,
  nkeyAuthenticator,
  nkeys,
  usernamePasswordAuthenticator,
  wsconnect,
} from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import OpenAI from "openai";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import { buildConfig, type ConfigFile } from "../../src/config.ts";
import { toCloudEvent } from "../../src/events/envelope.ts";
import { followReplicas } from "../../src/events/follow_replicas.ts";
import { NatsStartupError, preflightNats } from "../../src/events/nats_preflight.ts";
import { type Logger, silentLogger } from "../../src/lib/logger.ts";
import { startGateway, startupLines } from "../../src/server.ts";
import { SAMPLES } from "../events/_samples.ts";
import { eventually, mockProvider, startTestGateway } from "../_support/gateway.ts";
import { readStream, shippedPermissions, startNatsServer } from "../_support/nats_server.ts";
import { operatorSetup } from "../_support/nats_jwt.ts";

const { createUser } = nkeys; // @nats-io/nkeys, as nats-core ships it
const GW_PASSWORD = "gw-pa55-word-not-in-logs";
const OBS_PASSWORD = "obs-pa55-word";
const gwKey = createUser();
const obsKey = createUser();
const seed = (k: typeof gwKey) => new TextDecoder().decode(k.getSeed());

async function lockedServer() {
  return await startNatsServer({
    files: { "nats-permissions.conf": await shippedPermissions() },
    env: { GW_PASSWORD, OBS_PASSWORD },
    conf: [
      "include ./nats-permissions.conf",
      "authorization {",
      "  users: [",
      "    { user: gateway, password: $GW_PASSWORD, permissions: $GATEWAY_PERMISSIONS }",
      "    { user: observer, password: $OBS_PASSWORD, permissions: $OBSERVER_PERMISSIONS }",
      `    { nkey: ${gwKey.getPublicKey()}, permissions: $GATEWAY_PERMISSIONS }`,
      `    { nkey: ${obsKey.getPublicKey()}, permissions: $OBSERVER_PERMISSIONS }`,
      "  ]",
      "}",
    ],
  });
}

const observer = usernamePasswordAuthenticator("observer", OBS_PASSWORD);
const cli = (name: string) => new URL(`../../src/events/${name}.ts`, import.meta.url).pathname;

async function runTool(name: "audit" | "cli", args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", cli(name), ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** One request through a gateway with this nats section and env; its events in the stream. */
async function requestThrough(
  wsUrl: string,
  nats: NonNullable<ConfigFile["nats"]>,
  env: Record<string, string>,
) {
  const mock = await startMockUpstream();
  const gw = startTestGateway({
    providers: { primary: mockProvider(mock.url, "primary") },
    nats: { ...nats, url: wsUrl },
  }, env);
  try {
    await gw.replayed;
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const res = await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    }).withResponse();
    const id = res.response.headers.get("x-request-id")!;
    await eventually(() => gw.bus.stats().buffered === 0 && gw.bus.stats().published > 0);
    return { id, bus: gw.bus.stats() };
  } finally {
    await gw.shutdown(1_000);
    await mock.close();
  }
}

const ofRequest = (id: string) => (e: { data: unknown }) =>
  (e.data as { requestId?: string }).requestId === id;

Deno.test("locked NATS: the gateway publishes with user+password or an NKey seed; the tools read as observer", async () => {
  const nats = await lockedServer();
  try {
    // user + password from gateway.json as env: references
    const a = await requestThrough(
      nats.wsUrl,
      { auth: { user: "gateway", password: "env:GW_NATS_PASSWORD" } },
      { GW_NATS_PASSWORD: GW_PASSWORD },
    );
    // an NKey seed from the environment
    const b = await requestThrough(nats.wsUrl, {}, { NATS_NKEY_SEED: seed(gwKey) });
    assert.equal(a.bus.dropped + b.bus.dropped, 0);
    const stored = await readStream(nats.wsUrl, "GATEWAY_EVENTS", observer);
    for (const id of [a.id, b.id]) {
      assert.ok(
        stored.filter(ofRequest(id)).some((e) => e.type === "gateway.request.completed"),
        `request ${id} is in the stream`,
      );
    }
    // The stream the gateway created is an immutable audit trail.
    const nc = await wsconnect({ servers: nats.wsUrl, authenticator: observer });
    const info = await (await jetstreamManager(nc)).streams.info("GATEWAY_EVENTS");
    await nc.close();
    assert.equal(info.config.deny_delete, true);
    assert.equal(info.config.deny_purge, true);

    // deno task audit as observer (user+password), deno task events --since as observer (NKey)
    const audit = await runTool("audit", [a.id, "--json"], {
      NATS_URL: nats.wsUrl,
      NATS_USER: "observer",
      NATS_PASSWORD: OBS_PASSWORD,
    });
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /gateway\.request\.completed/);
    const events = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", "--allow-read", cli("cli"), "--since", "1h"],
      env: { NO_COLOR: "1", NATS_URL: nats.wsUrl, NATS_NKEY_SEED: seed(obsKey) },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = events.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    const deadline = Date.now() + 10_000;
    while (!out.includes(b.id) && Date.now() < deadline) {
      const r = await reader.read();
      if (r.done) break;
      out += r.value;
    }
    events.kill("SIGTERM");
    await reader.cancel();
    const status = await events.status;
    const err = await new Response(events.stderr).text();
    assert.ok(out.includes(b.id), `events --since replayed the request as observer:\n${err}`);
    assert.ok(status.code === 0 || status.signal === "SIGTERM", err);
  } finally {
    await nats.stop();
  }
});

Deno.test("locked NATS: no credential or a wrong one stops start-up, naming the problem and never the secret", async () => {
  const nats = await lockedServer();
  try {
    const config = (env: Record<string, string>) =>
      buildConfig({ nats: { url: nats.wsUrl } }, (n) => env[n], "test");
    await assert.rejects(
      preflightNats(config({})),
      (e: Error) =>
        e instanceof NatsStartupError && /requires credentials/.test(e.message) &&
        /NATS_USER/.test(e.message),
    );
    const wrong = "wrong-secret-value";
    await assert.rejects(
      preflightNats(config({ NATS_USER: "gateway", NATS_PASSWORD: wrong })),
      (e: Error) =>
        e instanceof NatsStartupError && /refused user "gateway"/.test(e.message) &&
        !e.message.includes(wrong),
    );
    assert.equal(
      await preflightNats(config({ NATS_USER: "gateway", NATS_PASSWORD: GW_PASSWORD })),
      undefined,
    );

    // The real start-up: exit 2 with the message on stderr, the password nowhere.
    const main = new URL("../../src/main.ts", import.meta.url).pathname;
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", "--allow-read", main],
      env: {
        PORT: "0",
        NATS_URL: `ws://gateway:${wrong}@${new URL(nats.wsUrl).host}`,
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    const stdout = new TextDecoder().decode(run.stdout);
    assert.equal(run.code, 2, stderr);
    assert.match(stderr, /gateway: NATS at ws:\/\/127\.0\.0\.1:\d+ refused user "gateway"/);
    assert.ok(!(stderr + stdout).includes(wrong), "the password is never printed");

    // The tools say the same.
    const audit = await runTool("audit", ["req-1"], {
      NATS_URL: nats.wsUrl,
      NATS_USER: "observer",
      NATS_PASSWORD: wrong,
    });
    assert.equal(audit.code, 2);
    assert.match(audit.stderr, /refused user "observer"/);
    assert.ok(!audit.stderr.includes(wrong));
    const events = await runTool("cli", [], { NATS_URL: nats.wsUrl });
    assert.equal(events.code, 1);
    assert.match(events.stderr, /requires credentials/);
  } finally {
    await nats.stop();
  }
});

Deno.test("locked NATS: the observer cannot publish events, touch KV, or delete or purge the stream; a forged breaker event is never folded", async () => {
  const nats = await lockedServer();
  const gwAuth = nkeyAuthenticator(gwKey.getSeed());
  const gw = await wsconnect({ servers: nats.wsUrl, authenticator: gwAuth });
  const obs = await wsconnect({ servers: nats.wsUrl, authenticator: observer });
  const folded: unknown[] = [];
  let follower: ReturnType<typeof followReplicas> | undefined;
  try {
    // The gateway's identity creates the stream and KV bucket, as a gateway would.
    const jsm = await jetstreamManager(gw);
    const { eventsStreamConfig } = await import("../../src/events/stream_config.ts");
    await jsm.streams.add(eventsStreamConfig({ stream: "GATEWAY_EVENTS", maxAgeMs: 3_600_000 }));
    const kv = await new Kvm(gw).create("GATEWAY_KEYS", { history: 1 });
    await kv.put("k", "v");
    follower = followReplicas(gw, {
      stream: "GATEWAY_EVENTS",
      instance: "victim",
      providers: new Set(["openai"]),
      from: 1,
      onEvent: (e) => folded.push(e),
      logger: silentLogger,
      retryMs: 50,
    });

    const forged = toCloudEvent(SAMPLES["breaker.opened"], "forged-1", "attacker");
    const js = jetstream(obs, { timeout: 2_000 });
    await assert.rejects(
      js.publish(forged.subject, JSON.stringify(forged)),
      /Permissions Violation for Publish to "gateway\.breaker\.opened/,
      "JetStream publish on gateway.> is refused",
    );
    const errors: string[] = [];
    (async () => {
      for await (const s of obs.status()) if (s.type === "error") errors.push(String(s.error));
    })();
    obs.publish(forged.subject, JSON.stringify(forged));
    await obs.flush();
    await eventually(() => errors.some((e) => /Permissions Violation for Publish/i.test(e)));

    const obsJsm = await jetstreamManager(obs, { timeout: 2_000 });
    const refused = (api: string) =>
      new RegExp(`Permissions Violation for Publish to "\\$JS\\.API\\.${api}`);
    await assert.rejects(obsJsm.streams.purge("GATEWAY_EVENTS"), refused("STREAM\\.PURGE"));
    await assert.rejects(obsJsm.streams.delete("GATEWAY_EVENTS"), refused("STREAM\\.DELETE"));
    await assert.rejects(
      obsJsm.streams.deleteMessage("GATEWAY_EVENTS", 1),
      refused("STREAM\\.MSG\\.DELETE"),
    );
    await assert.rejects(
      (async () => {
        const okv = await new Kvm(jetstream(obs, { timeout: 2_000 })).open("GATEWAY_KEYS");
        await okv.put("k", "stolen");
      })(),
      /Permissions Violation|timeout/i,
    );
    await assert.rejects(
      (async () => {
        const okv = await new Kvm(jetstream(obs, { timeout: 2_000 })).open("GATEWAY_KEYS");
        return await okv.get("k");
      })(),
      /Permissions Violation|timeout/i,
    );
    // Not even the gateway's identity may purge or delete the audit trail.
    await assert.rejects(jsm.streams.purge("GATEWAY_EVENTS"), refused("STREAM\\.PURGE"));
    const gwJsm = await jetstreamManager(gw, { timeout: 2_000 });
    await assert.rejects(gwJsm.streams.delete("GATEWAY_EVENTS"), refused("STREAM\\.DELETE"));

    const { state } = await gwJsm.streams.info("GATEWAY_EVENTS");
    assert.equal(state.messages, 0, "nothing forged reached the stream");
    assert.equal(folded.length, 0);
    assert.equal(follower.folded, 0);
    assert.equal((await kv.get("k"))?.string(), "v");
  } finally {
    await follower?.stop();
    await obs.close();
    await gw.close();
    await nats.stop();
  }
});

Deno.test("NATS with a token: the gateway connects with NATS_TOKEN; a wrong token stops start-up", async () => {
  const token = "s3cret-token-value-0123456789";
  const nats = await startNatsServer({
    env: { TOKEN: token },
    conf: ["authorization { token: $TOKEN }"],
  });
  try {
    const ok = await requestThrough(nats.wsUrl, {}, { NATS_TOKEN: token });
    const stored = await readStream(
      nats.wsUrl,
      "GATEWAY_EVENTS",
      (await import("@nats-io/nats-core")).tokenAuthenticator(token),
    );
    assert.ok(stored.some(ofRequest(ok.id)));
    const config = buildConfig(
      { nats: { url: nats.wsUrl, auth: { token: "env:T" } } },
      (n) => n === "T" ? "not-the-token" : undefined,
      "test",
    );
    await assert.rejects(
      preflightNats(config),
      (e: Error) =>
        e instanceof NatsStartupError && /refused a token/.test(e.message) &&
        !e.message.includes("not-the-token"),
    );
  } finally {
    await nats.stop();
  }
});

Deno.test("locked NATS: a password in NATS_URL works and shows up in no start-up line, log or endpoint", async () => {
  const nats = await lockedServer();
  const mock = await startMockUpstream();
  const logged: string[] = [];
  const record = (m: string, f?: unknown) => void logged.push(m + JSON.stringify(f ?? {}));
  const logger: Logger = {
    log: (_level, m, f) => record(m, f),
    info: record,
    warn: record,
    error: record,
  };
  const url = `ws://gateway:${GW_PASSWORD}@${new URL(nats.wsUrl).host}`;
  const config = buildConfig(
    { port: 0, providers: { primary: mockProvider(mock.url, "primary") } },
    (n) => ({ NATS_URL: url })[n as "NATS_URL"],
    "test",
  );
  const gw = startGateway(config, { logger, hostname: "127.0.0.1" });
  try {
    await gw.replayed;
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    await eventually(() => gw.bus.stats().published > 0 && gw.bus.stats().buffered === 0);
    const seen = [
      ...startupLines(config, gw),
      ...logged,
      ...await Promise.all(
        ["/readyz", "/v1/gateway/providers", "/metrics", "/dashboard"].map((p) =>
          fetch(`${gw.url}${p}`).then((r) => r.text())
        ),
      ),
    ].join("\n");
    assert.match(seen, /events: NATS ws:\/\/127\.0\.0\.1:\d+ → JetStream/);
    // The follower's counts are where replica state is shown.
    assert.match(seen, /"replicas":\{"folded":0,"rejected":0\}/);
    assert.match(seen, /^gateway_replica_events_rejected_total 0$/m);
    assert.ok(!seen.includes(GW_PASSWORD), "the password is nowhere");
  } finally {
    await gw.shutdown(1_000);
    await mock.close();
    await nats.stop();
  }
});

Deno.test("operator mode: the gateway connects with a .creds file (JWT); another account's creds are refused", async () => {
  const op = await operatorSetup();
  const nats = await startNatsServer({ conf: op.conf });
  const dir = await Deno.makeTempDir({ prefix: "gateway-creds-" });
  try {
    const creds = `${dir}/gateway.creds`;
    await Deno.writeTextFile(creds, await op.userCreds("gateway"));
    const ok = await requestThrough(nats.wsUrl, { auth: { creds } }, {});
    const stored = await readStream(
      nats.wsUrl,
      "GATEWAY_EVENTS",
      credsAuthenticator(await Deno.readFile(creds)),
    );
    assert.ok(stored.some(ofRequest(ok.id)), "the request's events are in the stream");

    // A user of an account this server does not know: refused at start-up, naming the file.
    const stranger = `${dir}/stranger.creds`;
    await Deno.writeTextFile(stranger, await (await operatorSetup()).userCreds("stranger"));
    const config = buildConfig(
      { nats: { url: nats.wsUrl } },
      (n) => n === "NATS_CREDS" ? stranger : undefined,
      "test",
    );
    await assert.rejects(
      preflightNats(config),
      (e: Error) =>
        e instanceof NatsStartupError && e.message.includes(`refused creds file ${stranger}`),
    );
  } finally {
    await nats.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shipped configs: examples/nats.conf and the compose one define the same users, no anonymous access", async () => {
  const read = (p: string) => Deno.readTextFile(new URL(`../../examples/${p}`, import.meta.url));
  const users = (conf: string) => conf.match(/authorization \{[\s\S]*?\n\}/)?.[0];
  const [plain, compose] = [await read("nats.conf"), await read("compose/nats.conf")];
  for (const conf of [plain, compose]) {
    assert.match(conf, /^include \.\/nats-permissions\.conf$/m);
    assert.doesNotMatch(conf, /no_auth_user/);
    assert.match(users(conf) ?? "", /user: gateway, password: \$NATS_GATEWAY_PASSWORD/);
    assert.match(users(conf) ?? "", /user: observer, password: \$NATS_OBSERVER_PASSWORD/);
  }
  assert.equal(users(plain), users(compose));
});
