import assert from "node:assert/strict";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";

Deno.test("/healthz answers 200 ok even with no providers", async () => {
  const gw = startTestGateway({});
  try {
    const res = await fetch(`${gw.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
  } finally {
    await gw.shutdown();
  }
});

Deno.test("/readyz is 503 with a reason when no provider is configured", async () => {
  const gw = startTestGateway({});
  try {
    const res = await fetch(`${gw.url}/readyz`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.status, "not_ready");
    assert.match(body.reason, /no providers configured: set OPENAI_API_KEY/);
    assert.deepEqual(body.providers, []);
  } finally {
    await gw.shutdown();
  }
});

Deno.test("/readyz is 200 with providers, and names them and the event bus", async () => {
  const gw = startTestGateway({
    providers: {
      openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" },
      claude: { type: "anthropic", baseUrl: "http://127.0.0.1:9/v1" },
    },
  });
  try {
    const res = await fetch(`${gw.url}/readyz`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, "ready");
    assert.equal(body.reason, undefined);
    assert.deepEqual(body.providers, ["openai", "claude"]);
    assert.equal(body.events.bus, "memory");
    assert.equal(body.events.connected, true);
    assert.equal(typeof body.events.published, "number");
  } finally {
    await gw.shutdown();
  }
});

Deno.test("/readyz turns 503 draining while the gateway shuts down; /healthz stays 200", async () => {
  const gw = startTestGateway({
    providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } },
  });
  try {
    gw.gateway.draining = true;
    const res = await fetch(`${gw.url}/readyz`);
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.equal(body.status, "not_ready");
    assert.equal(body.reason, "draining");
    const health = await fetch(`${gw.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await gw.shutdown();
  }
});

Deno.test("/v1/gateway/providers shows breaker and key state per provider, never secrets", async () => {
  const gw = startTestGateway(
    {
      providers: {
        openai: {
          type: "openai",
          baseUrl: "http://127.0.0.1:9/v1",
          keys: [{ value: "env:OPENAI_KEY" }, { value: "env:OPENAI_KEY_2", id: "spare" }],
          rateLimit: { rpm: 60 },
        },
        local: { type: "anthropic", baseUrl: "http://127.0.0.1:9/v1" },
      },
    },
    { OPENAI_KEY: "sk-very-secret-1", OPENAI_KEY_2: "sk-very-secret-2" },
  );
  try {
    const res = await fetch(`${gw.url}/v1/gateway/providers`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.doesNotMatch(text, /sk-very-secret/);
    const body = JSON.parse(text);
    assert.equal(body.object, "list");
    assert.equal(body.data.length, 2);
    const [openai, local] = body.data;
    assert.equal(openai.provider, "openai");
    assert.equal(openai.type, "openai");
    assert.deepEqual(openai.breaker, {
      state: "closed",
      failureRate: 0,
      samples: 0,
      openUntil: null,
      reopenCount: 0,
      probesInFlight: 0,
    });
    assert.deepEqual(openai.keys, [
      { key: "openai-0", requestsLeft: 60, tokensLeft: null, blockedUntil: null },
      { key: "spare", requestsLeft: 60, tokensLeft: null, blockedUntil: null },
    ]);
    assert.deepEqual(openai.unavailableModels, []);
    assert.equal(local.provider, "local");
    assert.equal(local.type, "anthropic");
    assert.deepEqual(local.keys.map((k: { key: string }) => k.key), ["local-nokey"]);
  } finally {
    await gw.shutdown();
  }
});

const chat = (url: string, model: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });

Deno.test("/v1/gateway/providers shows a key blocked by an upstream 429 until its Retry-After", async () => {
  const mock = await startMockUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: { p: mockProvider(mock.url, "p") },
  });
  try {
    mock.setFaults("p", [{ kind: "rate_limit", retryAfterSec: 30, times: 1 }]);
    const limited = await chat(gw.url, "p/m");
    assert.equal(limited.status, 429);
    await limited.body?.cancel();
    const { data } = await (await fetch(`${gw.url}/v1/gateway/providers`)).json();
    // The 429 blocks the (key, model) pair: the model's entry shows it, the key-wide one does not.
    assert.deepEqual(data[0].keys, [
      { key: "p-nokey", requestsLeft: null, tokensLeft: null, blockedUntil: null },
    ]);
    const m = data[0].models.find((x: { model: string }) => x.model === "m");
    assert.ok(m, JSON.stringify(data[0].models));
    assert.equal(m.keys.length, 1);
    assert.equal(m.keys[0].key, "p-nokey");
    const until = Date.parse(m.keys[0].blockedUntil);
    assert.ok(until > Date.now() + 20_000 && until <= Date.now() + 31_000, String(until));
    assert.equal(m.breaker.state, "closed", "a 429 blocks the key, not the model's breaker");
    assert.equal(data[0].breaker.state, "closed", "nor the provider's");

    // While blocked, the model is not called; the key's other models still are.
    const again = await chat(gw.url, "p/m");
    assert.equal(again.status, 429);
    await again.body?.cancel();
    assert.equal(mock.hits("p"), 1);
    const other = await chat(gw.url, "p/other");
    assert.equal(other.status, 200);
    await other.body?.cancel();
    assert.equal(mock.hits("p"), 2);
  } finally {
    await gw.shutdown();
    await mock.close();
  }
});

Deno.test("/v1/gateway/providers shows a key out of quota blocked for every model, for quotaCooldownMs", async () => {
  const mock = await startMockUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: { p: mockProvider(mock.url, "p", "openai", { quotaCooldownMs: 45_000 }) },
  });
  try {
    mock.setFaults("p", [{ kind: "quota", times: 1 }]);
    const res = await chat(gw.url, "p/m");
    // Out of quota is a 429, and the first answer already says when the key is back.
    assert.equal(res.status, 429);
    assert.equal((await res.json()).error.type, "quota");
    const wait = Number(res.headers.get("retry-after"));
    assert.ok(wait > 40 && wait <= 45, `retry-after ${wait}`);
    const { data } = await (await fetch(`${gw.url}/v1/gateway/providers`)).json();
    const until = Date.parse(data[0].keys[0].blockedUntil);
    assert.ok(until > Date.now() + 40_000 && until <= Date.now() + 45_000, String(until));
    assert.equal(data[0].breaker.state, "closed", "quota blocks the key, not the provider");
    for (const m of data[0].models) assert.equal(m.breaker.state, "closed", m.model);
    // The whole key is out: another model is not called either.
    const other = await chat(gw.url, "p/other");
    assert.equal(other.status, 429);
    assert.ok(Number(other.headers.get("retry-after")) > 40);
    await other.body?.cancel();
    assert.equal(mock.hits("p"), 1);
  } finally {
    await gw.shutdown();
    await mock.close();
  }
});

Deno.test("/readyz under workers: the whole process's counts, or this worker's own when the others do not answer in time", async () => {
  const gw = startTestGateway({
    providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } },
  });
  try {
    const whole = { published: 42, dropped: 1, buffered: 0, connected: true };
    gw.gateway.deps.processEvents = () => Promise.resolve({ bus: whole });
    const summed = await (await fetch(`${gw.url}/readyz`)).json();
    assert.equal(summed.events.published, 42);
    assert.equal(summed.events.dropped, 1);

    gw.gateway.deps.processEvents = () => new Promise(() => {}); // a worker that never answers
    const t0 = performance.now();
    const res = await fetch(`${gw.url}/readyz`);
    assert.equal(res.status, 200);
    const own = await res.json();
    assert.equal(own.events.published, gw.bus.stats().published, "this worker's own counts");
    assert.ok(performance.now() - t0 < 5_000, "bounded, not hung");
  } finally {
    await gw.shutdown();
  }
});
