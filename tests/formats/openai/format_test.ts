// POST /v1/chat/completions on a real listening gateway (in-process event bus) against the mock
// upstream: request errors, the gateway headers and extra_fields, aliases, the Anthropic adapter
// end to end, caller faults and client aborts.
import assert from "node:assert/strict";
import OpenAI from "openai";
import { completionText, type MockUpstream, startMockUpstream } from "../../../bench/mock/mod.ts";
import { buildConfig, type ConfigFile } from "../../../src/config.ts";
import type { GatewayEvent } from "../../../src/events/mod.ts";
import { silentLogger } from "../../../src/lib/logger.ts";
import type { ProviderHttp } from "../../../src/ports.ts";
import { type RunningGateway, startGateway } from "../../../src/server.ts";
import { eventually, mockProvider, startTestGateway } from "../../_support/gateway.ts";
import { readUntil, stallingUpstream } from "../../_support/stalling_upstream.ts";

const hello = [{ role: "user", content: "hello" }];
const GATEWAY_HEADERS = [
  "x-gateway-provider",
  "x-gateway-model",
  "x-gateway-fallback-index",
  "x-gateway-attempts",
  "x-gateway-overhead-ms",
];

interface Ctx {
  mock: MockUpstream;
  gw: RunningGateway;
  post(body: unknown, headers?: HeadersInit): Promise<Response>;
}

async function withGateway(
  config: (mockUrl: string) => ConfigFile,
  fn: (c: Ctx) => Promise<void>,
): Promise<void> {
  const mock = await startMockUpstream();
  let gw: RunningGateway | undefined;
  try {
    gw = startTestGateway(config(mock.url));
    const url = `${gw.url}/v1/chat/completions`;
    await fn({
      mock,
      gw,
      post: (body, headers) =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: typeof body === "string" || body instanceof Uint8Array
            ? body as BodyInit
            : JSON.stringify(body),
        }),
    });
  } finally {
    await gw?.shutdown(2_000);
    await mock.close();
  }
}

const oneProvider = (url: string): ConfigFile => ({
  retries: { max: 0 },
  providers: { p: mockProvider(url, "p") },
});

const twoProviders = (url: string): ConfigFile => ({
  retries: { max: 0 },
  providers: {
    primary: mockProvider(url, "primary"),
    backup: mockProvider(url, "backup"),
  },
  routes: { fast: ["backup/fast-model", "primary/slow-model"] },
});

/** Asserts an OpenAI-shaped error with an x-request-id; returns its `error`. */
async function openaiError(res: Response, status: number, code: string, param: string | null) {
  assert.equal(res.status, status);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.ok(res.headers.get("x-request-id"), "error answers carry x-request-id");
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(typeof body.error.message, "string");
  assert.ok(body.error.message.length > 0);
  assert.equal(body.error.code, code);
  assert.equal(body.error.param, param);
  return body.error as { message: string; type: string; code: string; param: string | null };
}

Deno.test("a body that is not JSON is 400 invalid_json", async () => {
  await withGateway(oneProvider, async ({ post, mock }) => {
    const e = await openaiError(await post('{"model": "p/m",'), 400, "invalid_json", null);
    assert.equal(e.type, "invalid_request_error");
    assert.match(e.message, /not valid JSON/);
    assert.equal(mock.hits("p"), 0);
  });
});

Deno.test("fields of the wrong type are 400 naming the param", async () => {
  await withGateway(oneProvider, async ({ post, mock }) => {
    const e = await openaiError(
      await post({ model: "p/m", messages: hello, temperature: "hot" }),
      400,
      "invalid_request",
      "temperature",
    );
    assert.match(e.message, /^temperature: /);
    await openaiError(
      await post({ model: "p/m", messages: [{ role: "robot", content: "x" }] }),
      400,
      "invalid_request",
      "messages[0].role",
    );
    await openaiError(
      await post({ model: "p/m", messages: hello, stream: "yes" }),
      400,
      "invalid_request",
      "stream",
    );
    await openaiError(await post("[1, 2]"), 400, "invalid_request", null);
    assert.equal(mock.hits("p"), 0);
  });
});

Deno.test("an unknown provider is 400 unknown_provider, in model or in fallbacks", async () => {
  await withGateway(oneProvider, async ({ post, mock }) => {
    const e = await openaiError(
      await post({ model: "nope/m", messages: hello }),
      400,
      "unknown_provider",
      "model",
    );
    assert.match(e.message, /unknown provider "nope"\. Configured providers: p\./);
    await openaiError(
      await post({ model: "p/m", fallbacks: ["p/n", "other/x"], messages: hello }),
      400,
      "unknown_provider",
      "fallbacks[1]",
    );
    await openaiError(
      await post({ model: "gpt-4o", messages: hello }),
      400,
      "invalid_model",
      "model",
    );
    // Names of inherited object properties are not providers or aliases either.
    await openaiError(
      await post({ model: "constructor", messages: hello }),
      400,
      "invalid_model",
      "model",
    );
    await openaiError(
      await post({ model: "constructor/m", messages: hello }),
      400,
      "unknown_provider",
      "model",
    );
    assert.equal(mock.hits("p"), 0, "nothing was sent upstream");
  });
});

Deno.test("a body over limits.maxBodyBytes is 413, with or without content-length", async () => {
  await withGateway(
    (url) => ({ ...oneProvider(url), limits: { maxBodyBytes: 1_000 } }),
    async ({ gw, post, mock }) => {
      const big = { model: "p/m", messages: [{ role: "user", content: "x".repeat(2_000) }] };
      const declared = await openaiError(await post(big), 413, "request_too_large", null);
      assert.match(declared.message, /1000-byte limit/);

      // Chunked upload: no content-length, so the cap is enforced while reading.
      const bytes = new TextEncoder().encode(JSON.stringify(big));
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < bytes.length; i += 100) c.enqueue(bytes.slice(i, i + 100));
          c.close();
        },
      });
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        body,
        // @ts-ignore: `duplex` is required by fetch for stream bodies but missing from the types.
        duplex: "half",
      });
      await openaiError(res, 413, "request_too_large", null);

      // Just under the limit still works.
      const small = await post({
        model: "p/m",
        messages: [{ role: "user", content: "x".repeat(800) }],
      });
      assert.equal(small.status, 200);
      await small.body?.cancel();
      assert.equal(mock.hits("p"), 1);
    },
  );
});

Deno.test("a body that is not UTF-8 is 400 invalid_encoding", async () => {
  await withGateway(oneProvider, async ({ post }) => {
    const bytes = new TextEncoder().encode(
      '{"model":"p/m","messages":[{"role":"user","content":"__"}]}',
    );
    const at = bytes.indexOf(0x5f);
    bytes.set([0xc3, 0x28], at); // an invalid two-byte sequence
    await openaiError(await post(bytes), 400, "invalid_encoding", null);
  });
});

Deno.test("a client's x-request-id is kept; an invalid one is replaced", async () => {
  await withGateway(oneProvider, async ({ post }) => {
    const ok = await post({ model: "p/m", messages: hello }, { "x-request-id": "trace-42.a:b" });
    assert.equal(ok.headers.get("x-request-id"), "trace-42.a:b");
    await ok.body?.cancel();
    const err = await post("{", { "x-request-id": "client-7" });
    assert.equal(err.headers.get("x-request-id"), "client-7");
    await err.body?.cancel();

    for (const bad of ["has space", "x".repeat(129), "semi;colon"]) {
      const res = await post({ model: "p/m", messages: hello }, { "x-request-id": bad });
      const id = res.headers.get("x-request-id")!;
      assert.notEqual(id, bad);
      assert.match(id, /^[0-9a-f]{26}$/);
      await res.body?.cancel();
    }
    const a = await post({ model: "p/m", messages: hello });
    const b = await post({ model: "p/m", messages: hello });
    assert.notEqual(a.headers.get("x-request-id"), b.headers.get("x-request-id"));
    await a.body?.cancel();
    await b.body?.cancel();
  });
});

Deno.test("a JSON success has extra_fields and every x-gateway-* header", async () => {
  await withGateway(oneProvider, async ({ gw }) => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({
      model: "p/gpt-4o-mini",
      messages: [{ role: "user", content: "hello" }],
    }).withResponse();
    assert.equal(data.choices[0].message.content, completionText("p"));
    for (const h of GATEWAY_HEADERS) assert.ok(response.headers.has(h), `missing ${h}`);
    assert.equal(response.headers.get("x-gateway-provider"), "p");
    assert.equal(response.headers.get("x-gateway-model"), "gpt-4o-mini");
    assert.equal(response.headers.get("x-gateway-fallback-index"), "0");
    assert.equal(response.headers.get("x-gateway-attempts"), "1");
    assert.match(response.headers.get("x-gateway-overhead-ms")!, /^\d+\.\d{3}$/);
    assert.equal(response.headers.get("x-gateway-fallback-errors"), null, "no failure, no header");

    const extra = (data as unknown as { extra_fields: Record<string, unknown> }).extra_fields;
    assert.deepEqual(Object.keys(extra).sort(), [
      "attempts",
      "fallback_index",
      "latency_ms",
      "model",
      "model_requested",
      "provider",
      "upstream_latency_ms",
    ]);
    assert.equal(extra.provider, "p");
    assert.equal(extra.model, "gpt-4o-mini");
    assert.equal(extra.model_requested, "p/gpt-4o-mini");
    assert.equal(extra.fallback_index, 0);
    const attempts = extra.attempts as Record<string, unknown>[];
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].provider, "p");
    assert.equal(attempts[0].status, 200);
    assert.equal(attempts[0].error_type, null);
    assert.ok((extra.latency_ms as number) >= (extra.upstream_latency_ms as number));
    assert.ok((extra.upstream_latency_ms as number) > 0);
  });
});

Deno.test("after a failure, the answer tells which attempt failed and where it fell over", async () => {
  await withGateway(twoProviders, async ({ post, mock }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const res = await post({ model: "primary/a", fallbacks: ["backup/b"], messages: hello });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "backup");
    assert.equal(res.headers.get("x-gateway-fallback-index"), "1");
    assert.equal(res.headers.get("x-gateway-attempts"), "2");
    assert.deepEqual(JSON.parse(res.headers.get("x-gateway-fallback-errors")!), [
      { provider: "primary", model: "a", status: 503, error_type: "transient" },
    ]);
    const body = await res.json();
    assert.equal(body.extra_fields.fallback_index, 1);
    assert.deepEqual(
      body.extra_fields.attempts.map((a: { provider: string; error_type: string | null }) => [
        a.provider,
        a.error_type,
      ]),
      [["primary", "transient"], ["backup", null]],
    );
  });
});

Deno.test("when every candidate fails the error is OpenAI-shaped and still has the gateway headers", async () => {
  await withGateway(twoProviders, async ({ post, mock }) => {
    mock.setFaults("primary", [{ kind: "status", status: 500 }]);
    mock.setFaults("backup", [{ kind: "rate_limit", retryAfterSec: 4 }]);
    const res = await post({ model: "primary/a", fallbacks: ["backup/b"], messages: hello });
    assert.equal(res.headers.get("x-gateway-attempts"), "2");
    assert.equal(res.headers.get("retry-after"), "4");
    assert.equal(JSON.parse(res.headers.get("x-gateway-fallback-errors")!).length, 2);
    const e = await openaiError(res, 429, "rate_limited", null);
    assert.equal(e.type, "rate_limit");
  });
});

Deno.test("a streaming answer carries the same gateway headers and ends with [DONE]", async () => {
  await withGateway(twoProviders, async ({ gw, mock }) => {
    mock.setFaults("primary", [{ kind: "status", status: 502, times: 1 }]);
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions.create({
      model: "primary/a",
      fallbacks: ["backup/b"],
      messages: [{ role: "user", content: "hello" }],
      stream: true,
    } as OpenAI.ChatCompletionCreateParamsStreaming).withResponse();
    assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
    assert.ok(response.headers.get("x-request-id"));
    for (const h of GATEWAY_HEADERS) assert.ok(response.headers.has(h), `missing ${h}`);
    assert.equal(response.headers.get("x-gateway-provider"), "backup");
    assert.equal(response.headers.get("x-gateway-model"), "b");
    assert.equal(response.headers.get("x-gateway-fallback-index"), "1");
    assert.equal(response.headers.get("x-gateway-attempts"), "2");
    assert.deepEqual(JSON.parse(response.headers.get("x-gateway-fallback-errors")!), [
      { provider: "primary", model: "a", status: 502, error_type: "transient" },
    ]);
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, completionText("backup"));
  });
  await withGateway(oneProvider, async ({ post }) => {
    const res = await post({ model: "p/m", messages: hello, stream: true });
    for (const h of GATEWAY_HEADERS) assert.ok(res.headers.has(h), `missing ${h}`);
    assert.equal(res.headers.get("x-gateway-fallback-errors"), null);
    const raw = await res.text();
    assert.ok(raw.trimEnd().endsWith("data: [DONE]"), raw.slice(-80));
    assert.doesNotMatch(raw, /"choices":\[\]/, "no usage-only chunk unless include_usage");
  });
});

Deno.test("x-gateway-overhead-ms leaves out upstream time, for JSON and streams alike", async () => {
  const mock = await startMockUpstream({ latencyMs: 300 });
  const gw = startTestGateway(oneProvider(mock.url));
  try {
    for (const stream of [false, true]) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model: "p/m", messages: hello, stream }),
      });
      assert.equal(res.status, 200);
      const overhead = Number(res.headers.get("x-gateway-overhead-ms"));
      assert.equal(res.headers.get("x-gateway-attempts"), "1", `stream: ${stream}`);
      await res.body?.cancel();
      assert.ok(overhead < 150, `stream: ${stream}: overhead ${overhead} ms counts upstream time`);
    }
  } finally {
    await gw.shutdown(2_000);
    await mock.close();
  }
});

Deno.test("a route alias from config is served by its chain", async () => {
  await withGateway(twoProviders, async ({ post, mock }) => {
    const res = await post({ model: "fast", messages: hello });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "backup");
    assert.equal(res.headers.get("x-gateway-model"), "fast-model");
    const body = await res.json();
    assert.equal(body.choices[0].message.content, completionText("backup"));
    assert.equal(body.extra_fields.model_requested, "fast");

    mock.setFaults("backup", [{ kind: "status", status: 503 }]);
    const fell = await post({ model: "fast", messages: hello });
    assert.equal(fell.status, 200);
    assert.equal(fell.headers.get("x-gateway-provider"), "primary");
    assert.equal(fell.headers.get("x-gateway-model"), "slow-model");
    await fell.body?.cancel();
  });
});

/** A gateway whose upstream calls are recorded on their way to the mock. */
async function withRecordingGateway(
  raw: (mockUrl: string) => ConfigFile,
  fn: (
    c: { gw: RunningGateway; mock: MockUpstream; sent: Record<string, unknown>[] },
  ) => Promise<void>,
) {
  const mock = await startMockUpstream();
  const sent: Record<string, unknown>[] = [];
  const http: ProviderHttp = {
    async fetch(url, init) {
      const req = new Request(url, init);
      sent.push({ url: req.url, ...(await req.clone().json()) });
      return fetch(req);
    },
  };
  const config = buildConfig({ port: 0, ...raw(mock.url) }, () => undefined, "test");
  const gw = startGateway(config, { logger: silentLogger, hostname: "127.0.0.1", http });
  try {
    await fn({ gw, mock, sent });
  } finally {
    await gw.shutdown(2_000);
    await mock.close();
  }
}

const claudeConfig = (url: string): ConfigFile => ({
  retries: { max: 0 },
  providers: { claude: mockProvider(url, "claude", "anthropic") },
});
const withSystem = [
  { role: "system", content: "be brief" },
  { role: "user", content: "hello" },
];

Deno.test("Anthropic end to end (JSON): the system message is hoisted, the answer is OpenAI-shaped", async () => {
  await withRecordingGateway(claudeConfig, async ({ gw, sent }) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "claude/claude-3-5-haiku", messages: withSystem }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "claude");
    const body = await res.json();
    assert.equal(body.object, "chat.completion");
    assert.equal(body.choices[0].message.role, "assistant");
    assert.equal(body.choices[0].message.content, completionText("claude"));
    assert.equal(body.choices[0].finish_reason, "stop");
    // The mock counts the system text too: ("be brief" + "hello") = 13 chars → 4 tokens.
    assert.equal(body.usage.prompt_tokens, 4);
    assert.equal(body.extra_fields.provider, "claude");

    assert.equal(sent.length, 1);
    assert.match(String(sent[0].url), /\/claude\/v1\/messages$/);
    assert.equal(sent[0].model, "claude-3-5-haiku");
    assert.equal(sent[0].system, "be brief");
    assert.deepEqual(sent[0].messages, [{
      role: "user",
      content: [{ type: "text", text: "hello" }],
    }]);
    assert.equal(typeof sent[0].max_tokens, "number", "Anthropic requires max_tokens");
  });
});

Deno.test("Anthropic end to end (stream): OpenAI chunks, usage on request, [DONE]", async () => {
  await withRecordingGateway(claudeConfig, async ({ gw, sent }) => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const { data: stream, response } = await client.chat.completions.create({
      model: "claude/claude-3-5-haiku",
      messages: withSystem as OpenAI.ChatCompletionMessageParam[],
      stream: true,
      stream_options: { include_usage: true },
    }).withResponse();
    assert.equal(response.headers.get("x-gateway-provider"), "claude");
    assert.equal(response.headers.get("x-gateway-model"), "claude-3-5-haiku");
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    let finish: string | null = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, "chat.completion.chunk");
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, completionText("claude"));
    assert.equal(finish, "stop");
    assert.equal(usage?.prompt_tokens, 4);
    assert.equal(usage?.completion_tokens, 16);
    assert.equal(sent[0].stream, true);
    assert.equal(sent[0].system, "be brief");
    assert.ok(
      (sent[0].messages as { role: string }[]).every((m) => m.role !== "system"),
      "no system role left in messages",
    );
  });
});

Deno.test("a request the provider's adapter cannot build is 400 without calling the fallback", async () => {
  await withGateway(
    (url) => ({
      retries: { max: 2 },
      providers: {
        claude: mockProvider(url, "claude", "anthropic"),
        backup: mockProvider(url, "backup"),
      },
    }),
    async ({ post, mock, gw }) => {
      const res = await post({
        model: "claude/claude-3-5-haiku",
        fallbacks: ["backup/gpt-4o-mini"],
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: "ftp://example.com/cat.png" } }],
        }],
      });
      const e = await openaiError(res, 400, "upstream_rejected_request", null);
      assert.equal(e.type, "caller_fault");
      assert.match(e.message, /unsupported image URL scheme/);
      assert.equal(res.headers.get("x-gateway-attempts"), "1");
      assert.equal(mock.hits("claude"), 0);
      assert.equal(mock.hits("backup"), 0);
      const snap = gw.gateway.actors.get("claude")!.snapshot(Date.now());
      assert.equal(snap.breaker.samples, 0, "a caller fault does not count against the provider");
    },
  );
});

Deno.test("a client abort mid-stream is attempt.aborted, stops the upstream and spares the breaker", async () => {
  const upstream = stallingUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      slow: {
        type: "openai",
        baseUrl: `${upstream.url}/v1`,
        timeouts: { firstTokenMs: 2_000, totalMs: 30_000 },
        breaker: { minimumRequests: 1 },
      },
    },
  });
  const events: GatewayEvent[] = [];
  const unsubscribe = gw.bus.subscribe((e) => events.push(e));
  try {
    const ctl = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "slow/m", messages: hello, stream: true }),
      signal: ctl.signal,
    });
    assert.equal(res.status, 200);
    const id = res.headers.get("x-request-id")!;
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    await readUntil(reader, "first words");
    assert.equal(gw.gateway.inFlight, 1);
    ctl.abort();
    await reader.cancel().catch(() => {});

    const mine = () => events.filter((e) => "requestId" in e && e.requestId === id);
    await eventually(
      () => mine().some((e) => e.type === "attempt.aborted"),
      5_000,
      "attempt.aborted",
    );
    await upstream.gone; // the gateway closed the upstream stream
    assert.ok(!mine().some((e) => e.type === "attempt.failed"), "an abort is not a failure");
    assert.ok(!events.some((e) => e.type === "breaker.opened"));
    const snap = gw.gateway.actors.get("slow")!.snapshot(Date.now());
    assert.equal(snap.breaker.state, "closed");
    assert.equal(snap.breaker.samples, 0, "the abort was not counted against the provider");
    await eventually(() => gw.gateway.inFlight === 0, 2_000, "in-flight count back to 0");
  } finally {
    unsubscribe();
    await gw.shutdown(2_000);
    await upstream.close();
  }
});

Deno.test("while draining, new requests get 503 with Retry-After and a request id", async () => {
  await withGateway(oneProvider, async ({ gw, post, mock }) => {
    gw.gateway.draining = true;
    const res = await post({ model: "p/m", messages: hello });
    assert.equal(res.headers.get("retry-after"), "1");
    const e = await openaiError(res, 503, "draining", null);
    assert.equal(e.type, "unavailable");
    assert.equal(mock.hits("p"), 0);
  });
});

Deno.test("past limits.maxInFlight a call is shed at once: 503 gateway_overloaded with Retry-After", async () => {
  await withGateway(
    (url) => ({ ...oneProvider(url), limits: { maxInFlight: 1 } }),
    async ({ mock, gw, post }) => {
      mock.setFaults("p", [{ kind: "latency", ms: 300, times: 1 }]);
      const slow = post({ model: "p/gpt-4o-mini", messages: hello });
      await eventually(() => gw.gateway.inFlight === 1, 2_000, "the slow call in flight");
      const shed = await post({ model: "p/gpt-4o-mini", messages: hello });
      assert.equal(shed.status, 503);
      assert.equal(shed.headers.get("retry-after"), "1");
      const body = await shed.json();
      assert.equal(body.error.code, "gateway_overloaded");
      assert.match(body.error.message, /limit of 1 requests in flight \(limits\.maxInFlight\)/);
      assert.equal(mock.hits("p"), 1, "the shed call never reached the upstream");
      assert.equal((await slow).status, 200, "the call in flight is served");
      const after = await post({ model: "p/gpt-4o-mini", messages: hello });
      assert.equal(after.status, 200, "capacity is back once it finished");
      await after.body?.cancel();
    },
  );
});
