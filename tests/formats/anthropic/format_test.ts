// POST /anthropic/v1/messages on a real listening gateway, called by the official Anthropic SDK
// (only its baseURL changed), served by Anthropic-format and OpenAI-format mock upstreams:
// JSON, streams, fallback across formats, Anthropic-shaped errors and mid-stream failures.
import Anthropic from "@anthropic-ai/sdk";
import assert from "node:assert/strict";
import { completionText, type MockUpstream, startMockUpstream } from "../../../bench/mock/mod.ts";
import { buildConfig, type ConfigFile } from "../../../src/config.ts";
import type { GatewayEvent } from "../../../src/events/mod.ts";
import { silentLogger } from "../../../src/lib/logger.ts";
import type { ProviderHttp } from "../../../src/ports.ts";
import { type RunningGateway, startGateway } from "../../../src/server.ts";
import { eventually, mockProvider, startTestGateway } from "../../_support/gateway.ts";
import { readUntil, stallingUpstream } from "../../_support/stalling_upstream.ts";

const hello = [{ role: "user" as const, content: "hello" }];
const GATEWAY_HEADERS = [
  "x-request-id",
  "x-gateway-provider",
  "x-gateway-model",
  "x-gateway-fallback-index",
  "x-gateway-attempts",
  "x-gateway-overhead-ms",
];

const twoFormats = (url: string): ConfigFile => ({
  retries: { max: 0 },
  providers: {
    anthro: mockProvider(url, "anthro", "anthropic"),
    oai: mockProvider(url, "oai", "openai"),
  },
  routes: { claude: ["anthro/claude-x", "oai/gpt-4o-mini"] },
});

interface Ctx {
  mock: MockUpstream;
  gw: RunningGateway;
  client: Anthropic;
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
}

async function withGateway(fn: (c: Ctx) => Promise<void>, http?: ProviderHttp): Promise<void> {
  const mock = await startMockUpstream();
  let gw: RunningGateway | undefined;
  try {
    gw = http
      ? startGateway(buildConfig({ port: 0, ...twoFormats(mock.url) }, () => undefined, "test"), {
        logger: silentLogger,
        hostname: "127.0.0.1",
        http,
      })
      : startTestGateway(twoFormats(mock.url));
    const url = `${gw.url}/anthropic/v1/messages`;
    await fn({
      mock,
      gw,
      client: new Anthropic({ apiKey: "x", baseURL: `${gw.url}/anthropic`, maxRetries: 0 }),
      post: (body, headers = {}) =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": "sk-ant-x", ...headers },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
    });
  } finally {
    await gw?.shutdown(2_000);
    await mock.close();
  }
}

/** Parses an SSE body into [event, data] pairs. */
function sseEvents(text: string): { event: string | null; data: Record<string, unknown> }[] {
  return text.split("\n\n").filter((f) => f.trim() !== "").map((frame) => {
    const event = /^event: (.*)$/m.exec(frame)?.[1] ?? null;
    const data = /^data: (.*)$/m.exec(frame)?.[1] ?? "{}";
    return { event, data: JSON.parse(data) };
  });
}

for (
  const [label, model, target] of [
    ["an Anthropic-format provider", "anthro/claude-x", "anthro"],
    ["an OpenAI-format provider", "oai/gpt-4o-mini", "oai"],
  ] as const
) {
  Deno.test(`SDK messages.create is answered as an Anthropic Message by ${label}`, async () => {
    await withGateway(async ({ client, mock }) => {
      const { data, response, request_id } = await client.messages.create({
        model,
        max_tokens: 64,
        system: "Be brief.",
        messages: hello,
      }).withResponse();
      assert.equal(data.type, "message");
      assert.equal(data.role, "assistant");
      assert.match(data.id, /^msg_/);
      assert.deepEqual(data.content, [{ type: "text", text: completionText(target) }]);
      assert.equal(data.stop_reason, "end_turn");
      assert.equal(data.stop_sequence, null);
      assert.ok(data.usage.input_tokens > 0);
      assert.equal(data.usage.output_tokens, 16);
      assert.equal(data.model, model.split("/")[1]);
      for (const h of GATEWAY_HEADERS) assert.ok(response.headers.get(h), h);
      assert.equal(response.headers.get("x-gateway-provider"), target);
      assert.equal(response.headers.get("request-id"), response.headers.get("x-request-id"));
      assert.equal(request_id, response.headers.get("x-request-id"));
      assert.equal(mock.hits(target), 1);
    });
  });

  Deno.test(`SDK messages.stream yields the text from ${label}`, async () => {
    await withGateway(async ({ client }) => {
      const stream = client.messages.stream({ model, max_tokens: 64, messages: hello });
      let text = "";
      stream.on("text", (t) => (text += t));
      const types: string[] = [];
      for await (const e of stream) types.push(e.type);
      const final = await stream.finalMessage();
      assert.equal(text, completionText(target));
      assert.deepEqual(final.content, [{ type: "text", text: completionText(target) }]);
      assert.equal(final.stop_reason, "end_turn");
      assert.equal(final.usage.output_tokens, 16);
      assert.deepEqual(types, [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ]);
    });
  });
}

Deno.test("the raw SSE stream follows Anthropic's event order, with gateway headers", async () => {
  await withGateway(async ({ post }) => {
    const res = await post({
      model: "oai/gpt-4o-mini",
      max_tokens: 64,
      stream: true,
      messages: hello,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    for (const h of GATEWAY_HEADERS) assert.ok(res.headers.get(h), h);
    const events = sseEvents(await res.text());
    assert.deepEqual(events.map((e) => e.event), [
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const e of events) assert.equal(e.data.type, e.event, "data.type names the event");
    const delta = events.at(-2)!.data as { delta: unknown; usage: { output_tokens: number } };
    assert.deepEqual(delta.delta, { stop_reason: "end_turn", stop_sequence: null });
    assert.equal(delta.usage.output_tokens, 16);
  });
});

Deno.test("a 529 from the Anthropic upstream falls over to the OpenAI one (fallbacks in body)", async () => {
  await withGateway(async ({ client, mock }) => {
    mock.setFaults("anthro", [{ kind: "status", status: 529 }]);
    // `fallbacks` is the gateway's extra field: the SDK sends unknown body fields as they are.
    const params: Anthropic.MessageCreateParamsNonStreaming & { fallbacks: string[] } = {
      model: "anthro/claude-x",
      max_tokens: 64,
      messages: hello,
      fallbacks: ["oai/gpt-4o-mini"],
    };
    const { data, response } = await client.messages.create(params).withResponse();
    assert.deepEqual(data.content, [{ type: "text", text: completionText("oai") }]);
    assert.equal(response.headers.get("x-gateway-provider"), "oai");
    assert.equal(response.headers.get("x-gateway-fallback-index"), "1");
    const failed = JSON.parse(response.headers.get("x-gateway-fallback-errors") ?? "[]");
    assert.deepEqual(failed, [{
      provider: "anthro",
      model: "claude-x",
      status: 529,
      error_type: "transient",
    }]);
    assert.deepEqual(mock.allHits(), { anthro: 1, oai: 1 });
  });
});

Deno.test("fallbacks also come from the x-gateway-fallbacks header, for streams too", async () => {
  await withGateway(async ({ gw, mock }) => {
    mock.setFaults("anthro", [{ kind: "status", status: 529 }]);
    const client = new Anthropic({
      apiKey: "x",
      baseURL: `${gw.url}/anthropic`,
      maxRetries: 0,
      defaultHeaders: { "x-gateway-fallbacks": "oai/gpt-4o-mini" },
    });
    const json = await client.messages.create({
      model: "anthro/claude-x",
      max_tokens: 64,
      messages: hello,
    });
    assert.deepEqual(json.content, [{ type: "text", text: completionText("oai") }]);
    const stream = client.messages.stream({
      model: "anthro/claude-x",
      max_tokens: 64,
      messages: hello,
    });
    const final = await stream.finalMessage();
    assert.deepEqual(final.content, [{ type: "text", text: completionText("oai") }]);
    assert.deepEqual(mock.allHits(), { anthro: 2, oai: 2 });
  });
});

Deno.test("a route alias works as the model", async () => {
  await withGateway(async ({ client, mock }) => {
    mock.setFaults("anthro", [{ kind: "status", status: 503 }]);
    const m = await client.messages.create({ model: "claude", max_tokens: 64, messages: hello });
    assert.deepEqual(m.content, [{ type: "text", text: completionText("oai") }]);
  });
});

Deno.test("an unknown provider is the SDK's BadRequestError with our message; no upstream call", async () => {
  await withGateway(async ({ client, mock }) => {
    const err = await client.messages.create({ model: "nope/x", max_tokens: 64, messages: hello })
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof Anthropic.BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.type, "invalid_request_error");
    assert.equal(
      err.apiMessage,
      'model: unknown provider "nope". Configured providers: anthro, oai.',
    );
    assert.equal(err.requestID, err.headers?.get("x-request-id"));
    assert.ok(err.headers?.get("x-request-id"));
    assert.deepEqual(mock.allHits(), {});
  });
});

Deno.test("every candidate failing is an APIError with a 5xx status, Anthropic-shaped", async () => {
  await withGateway(async ({ client, mock, post }) => {
    mock.setFaults("anthro", [{ kind: "status", status: 529 }]);
    mock.setFaults("oai", [{ kind: "status", status: 500 }]);
    const params = { model: "claude", max_tokens: 64, messages: hello };
    const err = await client.messages.create(params).then(() => undefined, (e) => e);
    assert.ok(err instanceof Anthropic.APIError, String(err));
    assert.ok(err.status! >= 500 && err.status! <= 599, `status ${err.status}`);
    assert.equal(err.type, "api_error");
    assert.match(err.apiMessage ?? "", /^All candidates failed/);
    const res = await post(params);
    assert.equal(res.status, 502);
    for (const h of ["x-request-id", "x-gateway-attempts", "x-gateway-fallback-errors"]) {
      assert.ok(res.headers.get(h), h);
    }
    const body = await res.json();
    assert.equal(body.type, "error");
    assert.equal(body.error.type, "api_error");
    assert.equal(body.request_id, res.headers.get("x-request-id"));
  });
});

Deno.test("a rate-limited upstream is the SDK's RateLimitError with Retry-After", async () => {
  await withGateway(async ({ client, mock }) => {
    mock.setFaults("oai", [{ kind: "rate_limit", retryAfterSec: 7 }]);
    const err = await client.messages.create({
      model: "oai/gpt-4o-mini",
      max_tokens: 64,
      messages: hello,
    })
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof Anthropic.RateLimitError, String(err));
    assert.equal(err.status, 429);
    assert.equal(err.type, "rate_limit_error");
    assert.equal(err.headers?.get("retry-after"), "7");
  });
});

Deno.test("every candidate unavailable (open breaker) is 529 overloaded_error, without a call", async () => {
  await withGateway(async ({ client, mock }) => {
    // Five 503s (the breaker's minimum sample) open the model's breaker; the next request finds
    // no candidate available.
    mock.setFaults("oai", [{ kind: "status", status: 503 }]);
    const params = { model: "oai/gpt-4o-mini", max_tokens: 64, messages: hello };
    for (let i = 0; i < 5; i++) {
      const e = await client.messages.create(params).then(() => undefined, (e) => e);
      assert.ok(e instanceof Anthropic.APIError && e.status !== 529, `call ${i + 1}: ${e}`);
    }
    assert.equal(mock.hits("oai"), 5);
    const err = await client.messages.create(params).then(() => undefined, (e) => e);
    assert.ok(err instanceof Anthropic.OverloadedError, String(err));
    assert.equal(err.status, 529);
    assert.equal(err.type, "overloaded_error");
    assert.ok(Number(err.headers?.get("retry-after")) >= 1);
    assert.equal(mock.hits("oai"), 5, "no call while the breaker is open");
  });
});

Deno.test("a key out of quota is skipped: the next request is 429 rate_limit_error, without a call", async () => {
  await withGateway(async ({ client, mock }) => {
    // Quota blocks the key (for quotaCooldownMs, 60 s by default), not the breaker.
    mock.setFaults("oai", [{ kind: "quota" }]);
    const params = { model: "oai/gpt-4o-mini", max_tokens: 64, messages: hello };
    await client.messages.create(params).then(() => assert.fail("expected an error"), () => {});
    const err = await client.messages.create(params).then(() => undefined, (e) => e);
    assert.ok(err instanceof Anthropic.RateLimitError, String(err));
    assert.equal(err.status, 429);
    assert.equal(err.type, "rate_limit_error");
    const retryAfter = Number(err.headers?.get("retry-after"));
    assert.ok(retryAfter > 50 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.equal(mock.hits("oai"), 1);
  });
});

Deno.test("requests the gateway refuses are 400 invalid_request_error naming the field", async () => {
  await withGateway(async ({ post, mock }) => {
    const cases: [unknown, RegExp][] = [
      ['{"model": "oai/x",', /not valid JSON/],
      [{ model: "oai/x", messages: hello }, /^max_tokens: /],
      [{
        model: "oai/x",
        max_tokens: 5,
        messages: [{ role: "user", content: [{ type: "document" }] }],
      }, /"document" is not supported/],
    ];
    for (const [body, match] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400);
      assert.ok(res.headers.get("x-request-id"));
      const e = await res.json();
      assert.equal(e.type, "error");
      assert.equal(e.error.type, "invalid_request_error");
      assert.match(e.error.message, match);
    }
    assert.deepEqual(mock.allHits(), {});
  });
});

Deno.test("x-api-key and Authorization: Bearer are both accepted (not checked yet)", async () => {
  await withGateway(async ({ gw }) => {
    const body = JSON.stringify({ model: "oai/gpt-4o-mini", max_tokens: 8, messages: hello });
    const auths: Record<string, string>[] = [
      { "x-api-key": "sk-ant-1" },
      { authorization: "Bearer sk-ant-2" },
      {},
    ];
    for (const auth of auths) {
      const res = await fetch(`${gw.url}/anthropic/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...auth },
        body,
      });
      assert.equal(res.status, 200, JSON.stringify(auth));
      assert.equal((await res.json()).type, "message");
    }
  });
});

Deno.test("a stream cut mid-way ends with event: error and no message_stop; the SDK throws", async () => {
  await withGateway(async ({ client, mock, post }) => {
    mock.setFaults("oai", [{ kind: "cut", afterChunks: 2 }]);
    const res = await post({
      model: "oai/gpt-4o-mini",
      max_tokens: 64,
      stream: true,
      messages: hello,
    });
    assert.equal(res.status, 200);
    const events = sseEvents(await res.text());
    const names = events.map((e) => e.event);
    assert.equal(names.at(-1), "error");
    assert.ok(!names.includes("message_stop"));
    assert.ok(!names.includes("message_delta"));
    const last = events.at(-1)!.data as { type: string; error: { type: string; message: string } };
    assert.equal(last.type, "error");
    assert.equal(last.error.type, "api_error");
    assert.match(last.error.message, /oai failed mid-stream/);

    const stream = client.messages.stream({
      model: "oai/gpt-4o-mini",
      max_tokens: 64,
      messages: hello,
    });
    let text = "";
    stream.on("text", (t) => (text += t));
    const err = await stream.finalMessage().then(() => undefined, (e) => e);
    assert.ok(err instanceof Anthropic.APIError, String(err));
    assert.match(String(err.message), /failed mid-stream/);
    assert.ok(text.length > 0 && text.length < completionText("oai").length, "got part of it");
  });
});

Deno.test("an Anthropic tool conversation reaches an OpenAI upstream as OpenAI messages", async () => {
  const seen: Record<string, unknown>[] = [];
  const http: ProviderHttp = {
    async fetch(url, init) {
      const req = new Request(url, init);
      seen.push(await req.clone().json());
      return fetch(req);
    },
  };
  await withGateway(async ({ client }) => {
    // temperature and top_k are older API fields this SDK version no longer types; sent as is.
    const params: Anthropic.MessageCreateParamsNonStreaming & {
      temperature: number;
      top_k: number;
    } = {
      model: "oai/gpt-4o-mini",
      max_tokens: 64,
      system: "Use tools.",
      temperature: 0.2,
      top_k: 5,
      stop_sequences: ["END"],
      metadata: { user_id: "u1" },
      tools: [{
        name: "get_weather",
        description: "Weather",
        input_schema: { type: "object", properties: { city: { type: "string" } } },
      }],
      tool_choice: { type: "any" },
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: [{
            type: "tool_use",
            id: "toolu_1",
            name: "get_weather",
            input: { city: "Paris" },
          }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "18°C" }],
        },
      ],
    };
    await client.messages.create(params);
  }, http);
  assert.equal(seen.length, 1);
  const up = seen[0];
  assert.equal(up.model, "gpt-4o-mini");
  assert.equal(up.max_tokens, 64);
  assert.equal(up.temperature, 0.2);
  assert.deepEqual(up.stop, ["END"]);
  assert.equal(up.user, "u1");
  assert.equal(up.tool_choice, "required");
  assert.equal("top_k" in up, false);
  assert.equal("fallbacks" in up, false);
  assert.deepEqual(up.tools, [{
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  }]);
  assert.deepEqual(up.messages, [
    { role: "system", content: "Use tools." },
    { role: "user", content: "Weather in Paris?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "toolu_1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      }],
    },
    { role: "tool", tool_call_id: "toolu_1", content: "18°C" },
  ]);
});

Deno.test("a client that leaves mid-stream stops the upstream; the attempt is aborted, not failed", async () => {
  const upstream = stallingUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      slow: {
        type: "openai",
        baseUrl: `${upstream.url}/v1`,
        timeouts: { firstTokenMs: 2_000, totalMs: 30_000 },
      },
    },
  });
  const events: GatewayEvent[] = [];
  const unsubscribe = gw.bus.subscribe((e) => events.push(e));
  try {
    const ctl = new AbortController();
    const res = await fetch(`${gw.url}/anthropic/v1/messages`, {
      method: "POST",
      body: JSON.stringify({ model: "slow/m", max_tokens: 64, stream: true, messages: hello }),
      signal: ctl.signal,
    });
    const id = res.headers.get("x-request-id")!;
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const seen = await readUntil(reader, "first words");
    assert.match(seen, /^event: message_start\n/);
    ctl.abort();
    await reader.cancel().catch(() => {});
    await eventually(upstream.hungUp, 2_000, "the gateway hung up on the upstream");
    const mine = () => events.filter((e) => "requestId" in e && e.requestId === id);
    await eventually(() => mine().some((e) => e.type === "attempt.aborted"), 2_000, "aborted");
    assert.ok(!mine().some((e) => e.type === "attempt.failed"), "an abort is not a failure");
    await eventually(() => gw.gateway.inFlight === 0, 2_000, "in-flight count back to 0");
  } finally {
    unsubscribe();
    await gw.shutdown(2_000);
    await upstream.close();
  }
});

Deno.test("other Anthropic endpoints are a 404 not_found_error in Anthropic's shape", async () => {
  await withGateway(async ({ client, gw }) => {
    const err = await client.models.list().then(() => undefined, (e) => e);
    assert.ok(err instanceof Anthropic.NotFoundError, String(err));
    assert.equal(err.type, "not_found_error");
    assert.match(err.apiMessage ?? "", /GET \/anthropic\/v1\/models/);
    const res = await fetch(`${gw.url}/anthropic/v1/models`);
    assert.equal(res.status, 404);
    assert.ok(res.headers.get("x-request-id"));
    assert.equal((await res.json()).error.type, "not_found_error");
  });
});
