// Virtual keys end to end on real sockets: the official OpenAI SDK (and the Anthropic and GenAI
// SDKs for their shapes) → a real listening gateway → the mock upstream. Every refusal status a
// client can meet (401, 403, 429 + Retry-After, 402), the open mode, the key's own chain, spend
// from the served attempt, and the events that tell the story.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import assert from "node:assert/strict";
import OpenAI, { APIError } from "openai";
import { completionText, type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import type { ConfigFile } from "../../src/config.ts";
import type { EventOf, GatewayEvent } from "../../src/events/mod.ts";
import { type RunningGateway, startupLines } from "../../src/server.ts";
import { eventually, mockProvider, startTestGateway } from "../_support/gateway.ts";

const ADMIN = "admin-secret-for-tests";
const hello = [{ role: "user" as const, content: "hello" }];
type Body = OpenAI.ChatCompletionCreateParamsNonStreaming;

interface Ctx {
  mock: MockUpstream;
  gw: RunningGateway;
  events: GatewayEvent[];
  /** An OpenAI SDK client presenting `key`. */
  client(key: string): OpenAI;
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  /** Creates a key through the admin API; its id and secret. */
  createKey(fields: Record<string, unknown>): Promise<{ id: string; key: string }>;
}

const base = (url: string): ConfigFile => ({
  retries: { max: 0 },
  providers: { primary: mockProvider(url, "primary"), backup: mockProvider(url, "backup") },
  // $1 per input token: one request spends well over a small budget.
  pricing: { "primary/gpt-4o-mini": { inputPerMTok: 1_000_000, outputPerMTok: 0 } },
});

async function withGateway(
  fn: (c: Ctx) => Promise<void>,
  opts: { config?: (url: string) => ConfigFile; env?: Record<string, string> } = {},
): Promise<void> {
  const mock = await startMockUpstream();
  let gw: RunningGateway | undefined;
  try {
    const running = startTestGateway((opts.config ?? base)(mock.url), {
      GATEWAY_ADMIN_KEY: ADMIN,
      ...opts.env,
    });
    gw = running;
    const events: GatewayEvent[] = [];
    running.bus.subscribe((e) => events.push(e));
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${running.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    await fn({
      mock,
      gw: running,
      events,
      client: (key) => new OpenAI({ baseURL: `${running.url}/v1`, apiKey: key, maxRetries: 0 }),
      admin,
      async createKey(fields) {
        const res = await admin("POST", "/admin/keys", fields);
        assert.equal(res.status, 201, await res.clone().text());
        return await res.json();
      },
    });
  } finally {
    await gw?.shutdown(1_000);
    await mock.close();
  }
}

/** The APIError a call rejects with (fails the test if it succeeds). */
async function refusal(call: Promise<unknown>): Promise<APIError> {
  try {
    await call;
  } catch (e) {
    if (e instanceof APIError) return e;
    throw e;
  }
  assert.fail("the call succeeded; expected a refusal");
}

const ask = (client: OpenAI, model = "primary/gpt-4o-mini", extra: Partial<Body> = {}) =>
  client.chat.completions.create({ model, messages: hello, ...extra } as Body).withResponse();

const denied = (events: GatewayEvent[]) =>
  events.filter((e): e is EventOf<"key.denied"> => e.type === "key.denied");

Deno.test("with no virtual keys the gateway is open and says so at start-up", async () => {
  await withGateway(async ({ gw, client, mock }) => {
    const text = startupLines(gw.gateway.deps.config, gw).join("\n");
    assert.match(
      text,
      /virtual keys: none — the gateway is open; set GATEWAY_ADMIN_KEY and POST \/admin\/keys to require keys/,
    );
    assert.match(text, /admin API: off/);
    const { data } = await ask(client("anything-at-all"));
    assert.equal(data.choices[0].message.content, completionText("primary"));
    assert.equal(mock.hits("primary"), 1);
  }, { env: { GATEWAY_ADMIN_KEY: "" } });
});

Deno.test("once a key exists, a missing or unknown key is a 401 and no upstream is called", async () => {
  await withGateway(async ({ client, createKey, mock, events, gw }) => {
    const { key } = await createKey({ name: "team-a", providers: [{ provider: "primary" }] });
    assert.match(startupLines(gw.gateway.deps.config, gw).join("\n"), /virtual keys: required/);

    const unknown = await refusal(ask(client("vk-0000000000000000-" + "A".repeat(43))));
    assert.equal(unknown.status, 401);
    assert.equal(unknown.code, "invalid_api_key");
    assert.equal(unknown.headers?.get("www-authenticate"), 'Bearer realm="failover-gateway"');

    const other = await refusal(ask(client("sk-some-openai-key")));
    assert.equal(other.status, 401);

    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "primary/gpt-4o-mini", messages: hello }),
    });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, "missing_api_key");
    assert.equal(mock.hits("primary"), 0);

    const { data } = await ask(client(key));
    assert.equal(data.choices[0].message.content, completionText("primary"));
    assert.deepEqual(denied(events).map((e) => e.reason), ["unknown", "unknown", "unknown"]);
    assert.ok(!JSON.stringify(events).includes(key), "no event carries the secret");
  });
});

Deno.test("a revoked key is a 401 saying so", async () => {
  await withGateway(async ({ client, createKey, admin, events }) => {
    const { id, key } = await createKey({ name: "leaver", providers: [{ provider: "primary" }] });
    await ask(client(key));
    const res = await admin("DELETE", `/admin/keys/${id}`);
    assert.equal(res.status, 200);
    const e = await refusal(ask(client(key)));
    assert.equal(e.status, 401);
    assert.equal(e.code, "revoked_api_key");
    assert.match(e.message, /"leaver" was revoked/);
    assert.deepEqual(denied(events).map((d) => [d.reason, d.virtualKey]), [["revoked", undefined]]);
  });
});

Deno.test("a model the key does not allow is a 403 naming what it may use", async () => {
  await withGateway(async ({ client, createKey, mock, events }) => {
    const { id, key } = await createKey({
      name: "mini-only",
      providers: [{ provider: "primary", models: ["gpt-4o-mini"] }],
    });
    const e = await refusal(ask(client(key), "primary/gpt-4o"));
    assert.equal(e.status, 403);
    assert.equal(e.code, "model_not_allowed");
    assert.equal(e.param, "model");
    assert.match(e.message, /may use: primary\/gpt-4o-mini/);

    const fb = await refusal(
      ask(client(key), "primary/gpt-4o-mini", { fallbacks: ["backup/x"] } as Partial<Body>),
    );
    assert.equal(fb.status, 403);
    assert.equal(fb.param, "fallbacks[0]");
    assert.equal(mock.hits("primary") + mock.hits("backup"), 0);
    assert.deepEqual(
      denied(events).map((d) => [d.reason, d.virtualKey, d.status]),
      [["model_not_allowed", id, 403], ["model_not_allowed", id, 403]],
    );
  });
});

Deno.test("over the key's rpm the answer is a 429 with Retry-After until the minute ends", async () => {
  await withGateway(async ({ client, createKey, mock, events }) => {
    const { key } = await createKey({
      name: "slow",
      providers: [{ provider: "primary" }],
      limits: { rpm: 2 },
    });
    await ask(client(key));
    await ask(client(key));
    const e = await refusal(ask(client(key)));
    assert.equal(e.status, 429);
    assert.equal(e.code, "rate_limit_exceeded");
    const wait = Number(e.headers?.get("retry-after"));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.match(e.message, /rpm limit \(2 of 2 this minute\)/);
    assert.equal(mock.hits("primary"), 2);
    assert.equal(denied(events)[0].reason, "rate_limited");
  });
});

Deno.test("once the budget is spent the key gets a 402 until the period resets", async () => {
  await withGateway(async ({ client, createKey, admin, events }) => {
    const { id, key } = await createKey({
      name: "capped",
      providers: [{ provider: "primary" }],
      budget: { usd: 1, period: "1d" },
    });
    await ask(client(key));
    await eventually(() => events.some((e) => e.type === "key.spend"), 5_000, "key.spend");
    const spend = events.find((e): e is EventOf<"key.spend"> => e.type === "key.spend")!;
    assert.equal(spend.virtualKey, id);
    assert.equal(spend.provider, "primary");
    assert.ok(spend.promptTokens > 0);
    assert.equal(spend.costUsd, spend.promptTokens); // $1 per input token
    assert.equal(spend.budgetUsd, 1);

    const view = await (await admin("GET", `/admin/keys/${id}`)).json();
    assert.equal(view.usage.spend.spent_usd, spend.costUsd);
    assert.equal(view.usage.spend.remaining_usd, 0);

    const e = await refusal(ask(client(key)));
    assert.equal(e.status, 402);
    assert.equal(e.code, "budget_exceeded");
    const wait = Number(e.headers?.get("retry-after"));
    assert.ok(wait >= 1 && wait <= 86_400, `Retry-After ${wait}`);
    assert.equal(denied(events).at(-1)!.reason, "over_budget");
  });
});

Deno.test("a bare model gets the key's chain: weighted primary, the others as fallbacks", async () => {
  await withGateway(async ({ client, createKey, mock }) => {
    const { key } = await createKey({
      name: "split",
      providers: [
        { provider: "primary", models: ["m"], weight: 1 },
        { provider: "backup", models: ["m"], weight: 0 },
      ],
    });
    const { response } = await ask(client(key), "m");
    assert.equal(response.headers.get("x-gateway-provider"), "primary");
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const { data, response: r2 } = await ask(client(key), "m");
    assert.equal(data.choices[0].message.content, completionText("backup"));
    assert.equal(r2.headers.get("x-gateway-fallback-index"), "1");
    assert.equal(r2.headers.get("x-gateway-model"), "m");
  });
});

Deno.test("a streamed answer is charged when the stream ends", async () => {
  await withGateway(async ({ client, createKey, events }) => {
    const { id, key } = await createKey({ name: "streamer", providers: [{ provider: "primary" }] });
    const stream = await client(key).chat.completions.create({
      model: "primary/gpt-4o-mini",
      messages: hello,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, completionText("primary"));
    await eventually(() => events.some((e) => e.type === "key.spend"), 5_000, "key.spend");
    const spend = events.find((e): e is EventOf<"key.spend"> => e.type === "key.spend")!;
    assert.equal(spend.virtualKey, id);
    assert.ok(spend.completionTokens > 0);
  });
});

Deno.test("a key declared in gateway.json works from its env var; Anthropic and GenAI SDKs send theirs", async () => {
  const secret = "team-b-secret-0123456789";
  await withGateway(async ({ gw, mock }) => {
    const anthropic = new Anthropic({
      apiKey: secret,
      baseURL: `${gw.url}/anthropic`,
      maxRetries: 0,
    });
    const msg = await anthropic.messages.create({
      model: "primary/gpt-4o-mini",
      max_tokens: 32,
      messages: hello,
    });
    assert.equal(msg.content[0].type === "text" && msg.content[0].text, completionText("primary"));

    const wrong = new Anthropic({
      apiKey: "nope-nope-nope",
      baseURL: `${gw.url}/anthropic`,
      maxRetries: 0,
    });
    const err = await wrong.messages.create({
      model: "primary/gpt-4o-mini",
      max_tokens: 32,
      messages: hello,
    })
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
    assert.equal(err.status, 401);
    assert.equal((err.error as { error: { type: string } }).error.type, "authentication_error");

    const genai = new GoogleGenAI({ apiKey: secret, httpOptions: { baseUrl: `${gw.url}/genai` } });
    const res = await genai.models.generateContent({
      model: "primary/gpt-4o-mini",
      contents: "hi",
    });
    assert.equal(res.text, completionText("primary"));
    assert.equal(mock.hits("primary"), 2);

    const lines = startupLines(gw.gateway.deps.config, gw).join("\n");
    assert.match(lines, /virtual keys: required — 1 from config \(team-b\)/);
    assert.ok(!lines.includes(secret));
  }, {
    config: (url) => ({
      ...base(url),
      virtualKeys: [{
        name: "team-b",
        key: "env:TEAM_B_KEY",
        providers: [{ provider: "primary" }],
      }],
    }),
    env: { TEAM_B_KEY: secret },
  });
});
