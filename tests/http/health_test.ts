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

Deno.test("/v1/gateway/providers shows a key blocked by an upstream 429 until its Retry-After", async () => {
  const mock = await startMockUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: { p: mockProvider(mock.url, "p") },
  });
  try {
    mock.setFaults("p", [{ kind: "rate_limit", retryAfterSec: 30 }]);
    const chat = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "p/m", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(chat.status, 429);
    await chat.body?.cancel();
    const { data } = await (await fetch(`${gw.url}/v1/gateway/providers`)).json();
    const until = Date.parse(data[0].keys[0].blockedUntil);
    assert.ok(until > Date.now() + 20_000 && until <= Date.now() + 31_000, String(until));
    assert.equal(data[0].breaker.state, "closed", "a 429 blocks the key, not the provider");
  } finally {
    await gw.shutdown();
    await mock.close();
  }
});
