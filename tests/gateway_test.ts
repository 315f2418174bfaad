import assert from "node:assert/strict";
import { buildConfig, type Config } from "../src/config.ts";
import { createMemoryBus } from "../src/events/mod.ts";
import { actorConfig, createGateway, type GatewayDeps } from "../src/gateway.ts";
import { systemClock } from "../src/lib/clock.ts";
import { createIdGen } from "../src/lib/ids.ts";
import { silentLogger } from "../src/lib/logger.ts";
import { anthropicAdapter, openaiAdapter } from "../src/providers/mod.ts";
import { fetchHttp } from "../src/providers/fetch_http.ts";

const config = buildConfig(
  {
    providers: {
      openai: {
        type: "openai",
        keys: [{ value: "env:OPENAI_A" }, { value: "env:OPENAI_B", id: "b", weight: 2 }],
        timeouts: { totalMs: 60_000, models: { o3: { firstTokenMs: 90_000, headersMs: 120_000 } } },
        rateLimit: { rpm: 100, models: { "gpt-4o": { tpm: 30_000 } } },
        breaker: { openMs: 5_000 },
        modelCooldownMs: 9_000,
        quotaCooldownMs: 7_000,
      },
      vllm: { type: "openai", baseUrl: "http://localhost:8000/v1/" },
      claude: { type: "anthropic", keys: [{ value: "env:ANTHROPIC_KEY" }] },
    },
    retries: { max: 2, baseMs: 50, maxMs: 500 },
  },
  (n) => ({ OPENAI_A: "sk-a", OPENAI_B: "sk-b", ANTHROPIC_KEY: "sk-ant" })[n],
  "test",
);

const deps = (c: Config = config): GatewayDeps => ({
  config: c,
  bus: createMemoryBus(),
  clock: systemClock,
  ids: createIdGen(),
  random: Math.random,
  http: fetchHttp,
  logger: silentLogger,
});

Deno.test("createGateway builds one provider actor and one upstream target per provider", () => {
  const gw = createGateway(deps());
  try {
    assert.deepEqual(gw.actors.ids(), ["openai", "vllm", "claude"]);
    assert.deepEqual([...gw.targets.keys()], ["openai", "vllm", "claude"]);
    const openai = gw.targets.get("openai")!;
    assert.equal(openai.adapter, openaiAdapter);
    assert.equal(openai.baseUrl, "https://api.openai.com/v1");
    assert.deepEqual(openai.timeouts, {
      headersMs: 30_000,
      firstTokenMs: 10_000,
      idleMs: 10_000,
      totalMs: 60_000,
    });
    assert.equal(openai.timeoutsFor?.("gpt-4o"), openai.timeoutsFor?.("gpt-4o"));
    assert.deepEqual(openai.timeoutsFor?.("o3"), {
      headersMs: 120_000,
      firstTokenMs: 90_000,
      idleMs: 10_000,
      totalMs: 60_000,
    });
    assert.deepEqual(
      openai.timeoutsFor?.("gpt-4o"),
      openai.timeouts,
      "no override: the provider's",
    );
    assert.deepEqual([...openai.secrets], [["openai-0", "sk-a"], ["b", "sk-b"]]);
    const claude = gw.targets.get("claude")!;
    assert.equal(claude.adapter, anthropicAdapter);
    assert.deepEqual([...claude.secrets], [["claude-0", "sk-ant"]]);
    assert.equal(gw.targets.get("vllm")!.baseUrl, "http://localhost:8000/v1");
    assert.equal(gw.draining, false);
    assert.equal(gw.inFlight, 0);
  } finally {
    gw.stop();
  }
});

Deno.test("a provider without keys gets one '<id>-nokey' slot with no secret", () => {
  const gw = createGateway(deps());
  try {
    assert.deepEqual([...gw.targets.get("vllm")!.secrets], [["vllm-nokey", ""]]);
    assert.deepEqual(gw.actors.get("vllm")!.config.keys, [{ id: "vllm-nokey", weight: 1 }]);
    const snap = gw.actors.get("vllm")!.snapshot(Date.now());
    assert.deepEqual(snap.keys.map((k) => k.key), ["vllm-nokey"]);
  } finally {
    gw.stop();
  }
});

Deno.test("actorConfig carries breaker, limits and keys, and leases probes past the total timeout", () => {
  const cfg = actorConfig(config.providers.openai);
  assert.deepEqual(cfg, {
    id: "openai",
    keys: [{ id: "openai-0", weight: 1 }, { id: "b", weight: 2 }],
    breaker: {
      failureRateThreshold: 0.5,
      minimumRequests: 5,
      windowMs: 30_000,
      openMs: 5_000,
      maxOpenMs: 20_000,
      halfOpenProbes: 1,
      probeLeaseMs: 65_000,
    },
    rateLimit: { rpm: 100, tpm: 0, models: { "gpt-4o": { rpm: 0, tpm: 30_000 } } },
    modelCooldownMs: 9_000,
    defaultRetryAfterMs: 1_000,
    quotaCooldownMs: 7_000,
  });
  assert.equal(actorConfig(config.providers.claude).breaker.probeLeaseMs, 125_000);
  const slowModel = buildConfig(
    { providers: { p: { type: "openai", timeouts: { models: { o3: { totalMs: 600_000 } } } } } },
    () => undefined,
    "test",
  ).providers.p;
  assert.equal(
    actorConfig(slowModel).breaker.probeLeaseMs,
    605_000,
    "a probe on the slowest model still holds its lease",
  );
  // Secrets never reach the actor (its events are published).
  assert.doesNotMatch(JSON.stringify(cfg), /sk-/);
});

Deno.test("the supervisor gets the retry policy and finds provider actors by id", () => {
  const gw = createGateway(deps());
  try {
    assert.deepEqual(gw.supervisor.config, {
      maxRetries: 2,
      backoffBaseMs: 50,
      backoffMaxMs: 500,
      maxRetryAfterMs: 3_000,
      requestMs: 180_000,
    });
    assert.equal(gw.supervisor.provider("claude"), gw.actors.get("claude"));
    assert.equal(gw.supervisor.provider("nope"), undefined);
  } finally {
    gw.stop();
  }
});

Deno.test("provider actors publish their events on the gateway's bus", () => {
  const d = deps();
  const seen: string[] = [];
  d.bus.subscribe((e) => seen.push(`${e.type}:${"provider" in e ? e.provider : ""}`));
  const gw = createGateway(d);
  try {
    gw.actors.get("openai")!.ask({
      kind: "admit",
      now: Date.now(),
      requestId: "r1",
      attempt: 1,
      model: "gpt-4o",
      estTokens: 10,
      rand: 0,
    });
    assert.deepEqual(seen, ["attempt.started:openai"]);
  } finally {
    gw.stop();
  }
});

Deno.test("a provider type without an adapter fails naming the field", () => {
  const bogus = {
    ...config,
    providers: { x: { ...config.providers.vllm, id: "x", type: "nope" } },
  } as unknown as Config;
  assert.throws(() => createGateway(deps(bogus)), /providers\.x\.type: no adapter for "nope"/);
});

Deno.test("stop() stops every provider actor", () => {
  const gw = createGateway(deps());
  gw.stop();
  assert.deepEqual(gw.actors.ids(), []);
  assert.equal(gw.supervisor.provider("openai"), undefined);
});
