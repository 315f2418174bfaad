// Replay on start: the window and the start-up line, readReplay against a real JetStream stream,
// and a restarted gateway that keeps skipping an upstream its predecessor found dead.
import assert from "node:assert/strict";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import OpenAI from "openai";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import type { ProviderSnapshot } from "../../actors/provider/mod.ts";
import { buildConfig, type ConfigFile } from "../../src/config.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { toCloudEvent } from "../../src/events/envelope.ts";
import {
  describeState,
  formatSpan,
  readReplay,
  replayLine,
  replayWindows,
} from "../../src/events/replay.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";
import { readStream, startNatsServer } from "../_support/nats_server.ts";

// ---- pure parts ---------------------------------------------------------------------------------

Deno.test("replayWindows: as long as any provider's state can last, attempts a minute or the failure window", () => {
  const config = buildConfig(
    {
      providers: {
        a: {
          type: "openai",
          breaker: { windowMs: 30_000, maxOpenMs: 600_000 },
          modelCooldownMs: 60_000,
        },
        b: {
          type: "openai",
          breaker: { windowMs: 120_000, maxOpenMs: 60_000 },
          modelCooldownMs: 1,
        },
      },
    },
    () => undefined,
    "test",
  );
  assert.deepEqual(replayWindows(config), { windowMs: 600_000, attemptsMs: 120_000 });
  const short = buildConfig(
    {
      providers: { a: { type: "openai", breaker: { maxOpenMs: 600_000 } } },
      nats: { maxAgeMs: 90_000 },
    },
    () => undefined,
    "test",
  );
  assert.deepEqual(
    replayWindows(short),
    { windowMs: 90_000, attemptsMs: 60_000 },
    "retention caps it",
  );
  assert.deepEqual(replayWindows(buildConfig({}, () => undefined, "t")), {
    windowMs: 0,
    attemptsMs: 0,
  });
});

Deno.test("formatSpan reads like a person would write it", () => {
  const cases: [number, string][] = [
    [600_000, "10m"],
    [90_000, "1.5m"],
    [45_000, "45s"],
    [3_600_000, "1h"],
    [5_400_000, "1.5h"],
    [250, "250ms"],
  ];
  for (const [ms, want] of cases) assert.equal(formatSpan(ms), want);
});

const snap = (over: Partial<ProviderSnapshot> & { provider: string }): ProviderSnapshot => ({
  breaker: {
    state: "closed",
    failureRate: 0,
    samples: 0,
    openUntil: null,
    reopenCount: 0,
    probesInFlight: 0,
  },
  keys: [{ key: "k", requestsLeft: null, tokensLeft: null, blockedUntil: null }],
  models: [],
  unavailableModels: [],
  ...over,
});

Deno.test("the start-up line says what the replayed state means for traffic", () => {
  const now = Date.parse("2026-03-01T12:00:00Z");
  const open = snap({
    provider: "openai",
    breaker: {
      ...snap({ provider: "x" }).breaker,
      state: "open",
      openUntil: "2026-03-01T12:34:56.789Z",
    },
  });
  const due = snap({
    provider: "groq",
    breaker: { ...open.breaker, openUntil: "2026-03-01T11:59:00.000Z" },
  });
  const blocked = snap({
    provider: "anthropic",
    keys: [{
      key: "anthropic-0",
      requestsLeft: 3,
      tokensLeft: null,
      blockedUntil: "2026-03-01T12:01:02.000Z",
    }],
    models: [{
      model: "claude-3",
      breaker: { ...open.breaker, openUntil: "2026-03-01T12:00:30.000Z" },
      unavailableUntil: null,
      keys: [{
        key: "anthropic-0",
        requestsLeft: null,
        tokensLeft: null,
        blockedUntil: "2026-03-01T12:00:10.000Z",
      }],
    }],
    unavailableModels: [{ model: "claude-2", until: "2026-03-01T12:05:00.000Z" }],
  });
  assert.equal(
    replayLine({ events: new Array(1234), truncated: false }, {
      stream: "GATEWAY_EVENTS",
      windowMs: 600_000,
      now,
    }, [open, snap({ provider: "mistral" })]),
    "replayed 1234 events from GATEWAY_EVENTS (last 10m): openai breaker open until 12:34:56 UTC",
  );
  assert.equal(
    describeState([due, blocked], now),
    "groq breaker open, due a half-open probe; anthropic key anthropic-0 blocked until 12:01:02 UTC; " +
      "anthropic/claude-3 breaker open until 12:00:30 UTC; " +
      "anthropic/claude-3 key anthropic-0 blocked until 12:00:10 UTC; " +
      "anthropic model claude-2 unavailable until 12:05:00 UTC",
  );
  assert.equal(
    replayLine({ events: [], truncated: true }, { stream: "S", windowMs: 60_000, now }, [
      snap({ provider: "a" }),
    ]),
    "replayed 0 events from S (last 1m, oldest left out): every breaker closed, nothing blocked",
  );
});

// ---- readReplay on a real stream ----------------------------------------------------------------

const P = "openai";
let seq = 0;
const failed = (at: number, provider = P): GatewayEvent => ({
  type: "attempt.failed",
  at,
  requestId: `r${++seq}`,
  attempt: 1,
  provider,
  model: "m",
  key: "k",
  probe: false,
  status: 503,
  errorType: "transient",
  message: "down",
  latencyMs: 3,
  counted: true,
});
const opened = (at: number, until: number): GatewayEvent => ({
  type: "breaker.opened",
  at,
  provider: P,
  reason: "quota",
  openMs: until - at,
  until,
  failureRate: 1,
  samples: 3,
  reopenCount: 0,
});

async function publish(nc: NatsConnection, events: GatewayEvent[], instance = "other") {
  const js = jetstream(nc);
  for (const e of events) {
    const ce = toCloudEvent(e, `${instance}-${++seq}`, instance);
    await js.publish(ce.subject, JSON.stringify(ce));
  }
}

async function withStream(fn: (nc: NatsConnection) => Promise<void>) {
  const nats = await startNatsServer();
  const nc = await wsconnect({ servers: nats.wsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "GATEWAY_EVENTS", subjects: ["gateway.>"] });
    await fn(nc);
  } finally {
    await nc.close();
    await nats.stop();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const providers = new Set([P]);

Deno.test("readReplay: state events of our providers in stream order, each kind within its window", async () => {
  await withStream(async (nc) => {
    const t0 = Date.now();
    await publish(nc, [
      opened(t0, t0 + 3_600_000), // a long quota trip: older than any window, still running
      opened(t0, t0 + 100), // an earlier, finished one (not the latest)
      failed(t0), // will be older than the attempts window
    ]);
    await sleep(600);
    const t1 = Date.now();
    const recent: GatewayEvent[] = [
      failed(t1),
      {
        type: "request.started",
        at: t1,
        requestId: "x",
        model: "m",
        candidates: [],
        stream: false,
      },
      failed(t1, "anthropic"),
      {
        type: "ratelimit.blocked",
        at: t1,
        provider: P,
        key: "k",
        reason: "retry_after",
        until: t1 + 9_000,
      },
      failed(t1 + 1),
    ];
    await publish(nc, recent);
    const r = await readReplay(nc, {
      stream: "GATEWAY_EVENTS",
      providers,
      now: Date.now(),
      windowMs: 400,
      attemptsMs: 400,
    });
    assert.equal(r.streamFound, true);
    assert.equal(r.lastSeq, 8);
    assert.equal(r.truncated, false);
    // The last opening was the finished one (t0 + 100): no long opening to add.
    assert.deepEqual(r.events.map((e) => [e.type, e.at]), [
      ["attempt.failed", t1],
      ["ratelimit.blocked", t1],
      ["attempt.failed", t1 + 1],
    ]);
  });
});

Deno.test("readReplay: the latest opening still running is found whatever its age", async () => {
  await withStream(async (nc) => {
    const t0 = Date.now();
    await publish(nc, [opened(t0, t0 + 3_600_000)]);
    await sleep(300);
    await publish(nc, [failed(Date.now())]);
    const r = await readReplay(nc, {
      stream: "GATEWAY_EVENTS",
      providers,
      now: Date.now(),
      windowMs: 100,
      attemptsMs: 100,
    });
    assert.deepEqual(r.events.map((e) => e.type), ["breaker.opened", "attempt.failed"]);
  });
});

Deno.test("readReplay: bounded in count, keeping the newest; nothing to read without a stream", async () => {
  await withStream(async (nc) => {
    const t = Date.now();
    await publish(nc, Array.from({ length: 60 }, (_, i) => failed(t + i)));
    const r = await readReplay(nc, {
      stream: "GATEWAY_EVENTS",
      providers,
      now: Date.now(),
      windowMs: 60_000,
      attemptsMs: 60_000,
      maxEvents: 10,
    });
    assert.equal(r.truncated, true);
    assert.ok(r.events.length >= 10 && r.events.length <= 20, `kept ${r.events.length}`);
    assert.equal(r.events.at(-1)!.at, t + 59, "the newest is kept");
    const ats = r.events.map((e) => e.at);
    assert.deepEqual(ats, [...ats].sort((a, b) => a - b), "in order");

    const none = await readReplay(nc, {
      stream: "NOT_THERE",
      providers,
      now: Date.now(),
      windowMs: 60_000,
      attemptsMs: 60_000,
    });
    assert.deepEqual(none, {
      events: [],
      read: 0,
      lastSeq: 0,
      truncated: false,
      streamFound: false,
    });
  });
});

// ---- a restarted gateway ------------------------------------------------------------------------

type Body = OpenAI.ChatCompletionCreateParamsNonStreaming;
const body = {
  model: "primary/gpt-4o-mini",
  fallbacks: ["backup/b"],
  messages: [{ role: "user", content: "hello" }],
} as Body;

function gatewayConfig(mockUrl: string, natsUrl: string, instance: string, openMs: number) {
  return {
    instance,
    retries: { max: 0 },
    providers: {
      primary: mockProvider(mockUrl, "primary", "openai", {
        breaker: { minimumRequests: 2, failureRateThreshold: 0.5, openMs, maxOpenMs: 300_000 },
      }),
      backup: mockProvider(mockUrl, "backup"),
    },
    nats: { url: natsUrl },
  } satisfies ConfigFile;
}

/** The breakers of primary: provider-wide, and gpt-4o-mini's own (a 503 counts against it). */
async function primaryState(url: string) {
  const res = await fetch(`${url}/v1/gateway/providers`);
  const body = await res.json() as { data: ProviderSnapshot[] };
  const p = body.data.find((p) => p.provider === "primary")!;
  const model = p.models.find((m) => m.model === "gpt-4o-mini");
  assert.ok(model, `gpt-4o-mini is tracked: ${JSON.stringify(p.models)}`);
  return { provider: p.breaker, model: model.breaker };
}

Deno.test("restart: gateway B rebuilds A's open breaker from JetStream and never calls the dead upstream", async () => {
  const nats = await startNatsServer();
  const mock = await startMockUpstream();
  const running = [];
  try {
    const a = startTestGateway(gatewayConfig(mock.url, nats.wsUrl, "replay-a", 60_000));
    running.push(a);
    await a.replayed;
    const clientA = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: "unused", maxRetries: 0 });
    // gpt-4o-mini answers 503 twice; the upstream itself (its other models) stays fine.
    mock.setFaults("primary", [{ kind: "status", status: 503, times: 2 }]);
    for (let i = 0; i < 2; i++) {
      const { response } = await clientA.chat.completions.create(body).withResponse();
      assert.equal(response.headers.get("x-gateway-provider"), "backup");
    }
    const before = await primaryState(a.url);
    assert.equal(before.model.state, "open");
    assert.equal(before.provider.state, "closed", "a 503 is the model's, not the provider's");
    await a.shutdown(1_000); // flushes its events to JetStream
    const hits = mock.hits("primary");
    assert.equal(hits, 2);

    const b = startTestGateway(gatewayConfig(mock.url, nats.wsUrl, "replay-b", 60_000));
    running.push(b);
    const line = await b.replayed;
    assert.match(
      line!,
      /^replayed \d+ events from GATEWAY_EVENTS \(last 5m\): primary\/gpt-4o-mini breaker open until \d\d:\d\d:\d\d UTC$/,
    );
    assert.equal((await fetch(`${b.url}/readyz`)).status, 200);
    const after = await primaryState(b.url);
    assert.equal(after.model.state, "open");
    assert.equal(after.model.openUntil, before.model.openUntil, "the same opening, not a new one");
    assert.equal(after.provider.state, "closed");
    const stored = await readStream(nats.wsUrl);
    assert.equal(
      stored.filter((e) => e.source === "/gateway/replay-b").length,
      0,
      "replay published nothing",
    );
    const { published, buffered, dropped } = b.bus.stats();
    assert.equal(published + buffered + dropped, 0, "nothing published, nothing on its way");

    const clientB = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const { response } = await clientB.chat.completions.create(body).withResponse();
    assert.equal(response.headers.get("x-gateway-provider"), "backup");
    assert.match(response.headers.get("x-gateway-fallback-errors")!, /circuit_open/);
    assert.equal(mock.hits("primary"), hits, "no call to the dead model");

    // The replayed opening is gpt-4o-mini's alone: another model of primary is still called.
    const other = await clientB.chat.completions.create({ ...body, model: "primary/gpt-4o" })
      .withResponse();
    assert.equal(other.response.headers.get("x-gateway-provider"), "primary");
    assert.equal(other.response.headers.get("x-gateway-fallback-index"), "0");
    assert.equal(mock.hits("primary"), hits + 1);
  } finally {
    for (const g of running) await g.shutdown(1_000);
    await mock.close();
    await nats.stop();
  }
});

Deno.test("restart: an opening whose time has passed half-opens on the first request, which probes", async () => {
  const nats = await startNatsServer();
  const mock = await startMockUpstream();
  const running = [];
  try {
    const a = startTestGateway(gatewayConfig(mock.url, nats.wsUrl, "replay-c", 300));
    running.push(a);
    await a.replayed;
    const clientA = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: "unused", maxRetries: 0 });
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    for (let i = 0; i < 2; i++) await clientA.chat.completions.create(body);
    assert.equal((await primaryState(a.url)).model.state, "open");
    await a.shutdown(1_000);
    mock.clearFaults("primary");
    await sleep(400); // the open time ends while no gateway runs

    const b = startTestGateway(gatewayConfig(mock.url, nats.wsUrl, "replay-d", 300));
    running.push(b);
    assert.match(
      (await b.replayed)!,
      /: primary\/gpt-4o-mini breaker open, due a half-open probe$/,
    );
    const stored = await readStream(nats.wsUrl);
    assert.equal(stored.filter((e) => e.source === "/gateway/replay-d").length, 0);
    const { published, buffered, dropped } = b.bus.stats();
    assert.equal(published + buffered + dropped, 0, "nothing published, nothing on its way");

    const clientB = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const { response } = await clientB.chat.completions.create(body).withResponse();
    assert.equal(response.headers.get("x-gateway-provider"), "primary", "the first request probes");
    assert.equal(mock.hits("primary"), 3);
    const state = await primaryState(b.url);
    assert.equal(state.model.state, "closed");
    assert.equal(state.provider.state, "closed");
    await b.shutdown(1_000); // flushes its events to JetStream
    const fromB = (await readStream(nats.wsUrl)).filter((e) => e.source === "/gateway/replay-d");
    assert.deepEqual(
      fromB.filter((e) => e.type.startsWith("gateway.breaker."))
        .map((e) => [e.type, (e.data as { model?: string }).model]),
      [["gateway.breaker.half_opened", "gpt-4o-mini"], ["gateway.breaker.closed", "gpt-4o-mini"]],
    );
  } finally {
    for (const g of running) await g.shutdown(1_000);
    await mock.close();
    await nats.stop();
  }
});
