import assert from "node:assert/strict";
import OpenAI from "openai";
import { startTestGateway } from "../_support/gateway.ts";

Deno.test("/v1/models lists provider/model from config and every route alias", async () => {
  const gw = startTestGateway({
    providers: {
      openai: {
        type: "openai",
        baseUrl: "http://127.0.0.1:9/v1",
        models: ["gpt-4o", "gpt-4o-mini"],
      },
      claude: {
        type: "anthropic",
        baseUrl: "http://127.0.0.1:9/v1",
        models: ["claude-sonnet-4-5"],
      },
      bare: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" },
    },
    routes: { fast: ["openai/gpt-4o-mini"], smart: ["claude/claude-sonnet-4-5", "openai/gpt-4o"] },
  });
  try {
    const res = await fetch(`${gw.url}/v1/models`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, "list");
    assert.deepEqual(body.data.map((m: { id: string }) => m.id), [
      "openai/gpt-4o",
      "openai/gpt-4o-mini",
      "claude/claude-sonnet-4-5",
      "fast",
      "smart",
    ]);
    assert.deepEqual(body.data.map((m: { owned_by: string }) => m.owned_by), [
      "openai",
      "openai",
      "claude",
      "gateway-route",
      "gateway-route",
    ]);
    for (const m of body.data) {
      assert.equal(m.object, "model");
      assert.ok(Number.isInteger(m.created) && m.created > 1_600_000_000);
    }
  } finally {
    await gw.shutdown();
  }
});

Deno.test("/v1/models is an empty list when nothing is configured", async () => {
  const gw = startTestGateway({});
  try {
    const res = await fetch(`${gw.url}/v1/models`);
    assert.deepEqual(await res.json(), { object: "list", data: [] });
  } finally {
    await gw.shutdown();
  }
});

Deno.test("the OpenAI SDK can list the gateway's models", async () => {
  const gw = startTestGateway({
    providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1", models: ["gpt-4o"] } },
    routes: { fast: ["openai/gpt-4o"] },
  });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ["openai/gpt-4o", "fast"]);
  } finally {
    await gw.shutdown();
  }
});

const KEY_A = "vk-team-a-secret-0001";
const KEY_B = "vk-team-b-secret-0002";

/** Two keys: A may use openai's gpt-4o-mini only; B everything on claude. */
function keyedGateway() {
  return startTestGateway({
    providers: {
      openai: {
        type: "openai",
        baseUrl: "http://127.0.0.1:9/v1",
        models: ["gpt-4o", "gpt-4o-mini"],
      },
      claude: {
        type: "anthropic",
        baseUrl: "http://127.0.0.1:9/v1",
        models: ["claude-sonnet-4-5", "claude-3-5-haiku-latest"],
      },
    },
    routes: {
      fast: ["openai/gpt-4o-mini", "claude/claude-3-5-haiku-latest"],
      smart: ["claude/claude-sonnet-4-5", "openai/gpt-4o"],
      big: ["openai/gpt-4o"],
    },
    virtualKeys: [
      { name: "a", key: "env:KEY_A", providers: [{ provider: "openai", models: ["gpt-4o-mini"] }] },
      { name: "b", key: "env:KEY_B", providers: [{ provider: "claude" }] },
    ],
  }, { KEY_A, KEY_B });
}

const ids = async (res: Response) => (await res.json()).data.map((m: { id: string }) => m.id);

Deno.test("with virtual keys, /v1/models wants a key and lists only what that key may use", async () => {
  const gw = keyedGateway();
  try {
    const tries: Record<string, string>[] = [{}, {
      authorization: "Bearer vk-unknown-secret-9999",
    }];
    for (const headers of tries) {
      const res = await fetch(`${gw.url}/v1/models`, {
        headers: { ...headers, "x-request-id": "models-1" },
      });
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal(res.headers.get("x-request-id"), "models-1", "as the model routes refuse");
      const body = await res.json();
      assert.match(body.error.code, /^(missing|invalid)_api_key$/);
      assert.equal(typeof body.error.message, "string");
    }
    const a = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${KEY_A}` } });
    assert.equal(a.status, 200);
    assert.deepEqual(await ids(a), ["openai/gpt-4o-mini", "fast"]);
    // Anthropic SDKs send x-api-key; the SDK alias prefixes answer the same.
    const b = await fetch(`${gw.url}/openai/v1/models`, { headers: { "x-api-key": KEY_B } });
    assert.deepEqual(await ids(b), [
      "claude/claude-sonnet-4-5",
      "claude/claude-3-5-haiku-latest",
      "fast",
      "smart",
    ]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_A, maxRetries: 0 });
    const listed: string[] = [];
    for await (const m of client.models.list()) listed.push(m.id);
    assert.deepEqual(listed, ["openai/gpt-4o-mini", "fast"]);
  } finally {
    await gw.shutdown();
  }
});

Deno.test("/v1/models/{id} answers one model, 404 for one the key may not use, 401 without a key", async () => {
  const gw = keyedGateway();
  try {
    const get = (id: string, key?: string) =>
      fetch(`${gw.url}/v1/models/${id}`, {
        headers: key ? { authorization: `Bearer ${key}` } : {},
      });
    const one = await get("openai/gpt-4o-mini", KEY_A);
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), {
      id: "openai/gpt-4o-mini",
      object: "model",
      created: Math.floor(Date.parse("2024-01-01T00:00:00Z") / 1000),
      owned_by: "openai",
    });
    assert.equal((await (await get("fast", KEY_A)).json()).owned_by, "gateway-route");
    for (const id of ["openai/gpt-4o", "big", "claude/claude-sonnet-4-5", "nope"]) {
      const res = await get(id, KEY_A);
      assert.equal(res.status, 404, id);
      assert.equal((await res.json()).error.code, "model_not_found");
    }
    const anon = await get("openai/gpt-4o-mini");
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_B, maxRetries: 0 });
    assert.equal((await client.models.retrieve("claude/claude-sonnet-4-5")).owned_by, "claude");
  } finally {
    await gw.shutdown();
  }
});

Deno.test("without virtual keys /v1/models/{id} is open and ids may hold a slash", async () => {
  const gw = startTestGateway({
    providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1", models: ["o/x"] } },
  });
  try {
    const res = await fetch(`${gw.url}/v1/models/openai/o/x`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).id, "openai/o/x");
    const enc = await fetch(`${gw.url}/v1/models/${encodeURIComponent("openai/o/x")}`);
    assert.equal((await enc.json()).id, "openai/o/x");
  } finally {
    await gw.shutdown();
  }
});
