// The Bedrock adapter beyond the shared contract: request mapping (tools, images, tool history),
// authentication, responses with tools and cache usage, streams with tool use and exceptions in
// the middle, error parsing, Titan embeddings, and one attempt through executeStream.
import assert from "node:assert/strict";
import type { ChatChunk, ChatRequest } from "../../../src/openai/types.ts";
import { bedrockAdapter, finishReason, modelUrl } from "../../../src/providers/bedrock/adapter.ts";
import {
  encodeMessage,
  eventFrame,
  exceptionFrame,
} from "../../../src/providers/bedrock/eventstream.ts";
import { signRequest } from "../../../src/providers/bedrock/sigv4.ts";
import {
  type AttemptSpec,
  executeStream,
  type ProviderTarget,
  StreamFailure,
} from "../../../src/providers/execute.ts";
import {
  type AdapterContext,
  classifyHttpFailure,
  classifyStreamError,
  type SseEvent,
  UpstreamStreamError,
} from "../../../src/providers/mod.ts";
import { concat } from "../fixtures/load.ts";

const credentials = { accessKeyId: "AKIDTEST", secretAccessKey: "secret/key+test" };
const ctx: AdapterContext = {
  baseUrl: "https://bedrock-runtime.eu-central-1.amazonaws.com",
  apiKey: "",
  model: "anthropic.claude-3-5-sonnet-20240620-v1:0",
  stream: false,
  nowSec: 1_700_000_000,
  id: "chatcmpl-bedrock",
  now: 1_700_000_000_000,
  settings: { region: "eu-central-1", credentials },
};

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAfbLI3wAAAABJRU5ErkJggg==";

/** buildChatRequest may be sync or async for other families; ours always returns a promise. */
const build = (request: ChatRequest, c: AdapterContext) =>
  Promise.resolve().then(() => bedrockAdapter.buildChatRequest(request, c));

async function bodyOf(request: ChatRequest, c: Partial<AdapterContext> = {}) {
  const up = await build(request, { ...ctx, ...c });
  return { up, body: JSON.parse(up.body as string) };
}

async function decodeAll(bytes: Uint8Array): Promise<ChatChunk[]> {
  const decoder = bedrockAdapter.createStreamDecoder({ ...ctx, stream: true });
  const chunks: ChatChunk[] = [];
  for await (const e of bedrockAdapter.readStream!(ReadableStream.from([bytes]))) {
    chunks.push(...decoder.push(e));
    if (decoder.finished) break;
  }
  assert.ok(decoder.finished, "stream finished");
  return chunks;
}

Deno.test("bedrock request: system, images, tool history and inference settings", async () => {
  const { up, body } = await bodyOf({
    model: "aws/x",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "developer", content: [{ type: "text", text: "Use metric units." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "What is in this picture, and the weather?" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: "image_url", image_url: { url: "s3://my-bucket/photos/cat.JPG" } },
        ],
      },
      {
        role: "assistant",
        content: "Let me check.",
        tool_calls: [{
          id: "tooluse_1",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Paris"}' },
        }],
      },
      { role: "tool", tool_call_id: "tooluse_1", content: "18 °C, sunny" },
      { role: "user", content: "And tomorrow?" },
    ],
    temperature: 1.6,
    top_p: 0.9,
    max_tokens: 100,
    max_completion_tokens: 200,
    stop: "END",
    tools: [{
      type: "function",
      function: {
        name: "weather",
        description: "Weather for a city",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    }],
    tool_choice: "auto",
  });
  assert.equal(
    up.url,
    "https://bedrock-runtime.eu-central-1.amazonaws.com/model/" +
      "anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
  );
  assert.equal(up.headers.accept, "application/json");
  assert.deepEqual(body.system, [{ text: "Be brief." }, { text: "Use metric units." }]);
  assert.deepEqual(body.messages, [
    {
      role: "user",
      content: [
        { text: "What is in this picture, and the weather?" },
        { image: { format: "png", source: { bytes: PNG } } },
        {
          image: {
            format: "jpeg",
            source: { s3Location: { uri: "s3://my-bucket/photos/cat.JPG" } },
          },
        },
      ],
    },
    {
      role: "assistant",
      content: [
        { text: "Let me check." },
        { toolUse: { toolUseId: "tooluse_1", name: "weather", input: { city: "Paris" } } },
      ],
    },
    {
      // The tool result and the next user message share one user turn, the result first.
      role: "user",
      content: [
        { toolResult: { toolUseId: "tooluse_1", content: [{ text: "18 °C, sunny" }] } },
        { text: "And tomorrow?" },
      ],
    },
  ]);
  assert.deepEqual(body.inferenceConfig, {
    maxTokens: 200,
    temperature: 1,
    topP: 0.9,
    stopSequences: ["END"],
  });
  assert.deepEqual(body.toolConfig, {
    tools: [{
      toolSpec: {
        name: "weather",
        description: "Weather for a city",
        inputSchema: { json: { type: "object", properties: { city: { type: "string" } } } },
      },
    }],
    toolChoice: { auto: {} },
  });
  assert.ok(!("fallbacks" in body) && !("model" in body));
});

Deno.test("bedrock request: tool_choice maps to any / tool, and none drops the tools", async () => {
  const tools: ChatRequest["tools"] = [{ type: "function", function: { name: "f" } }];
  const base: ChatRequest = { model: "aws/x", messages: [{ role: "user", content: "hi" }], tools };
  const choice = async (tool_choice: ChatRequest["tool_choice"]) =>
    (await bodyOf({ ...base, tool_choice })).body.toolConfig;
  assert.deepEqual((await choice("required")).toolChoice, { any: {} });
  assert.deepEqual((await choice({ type: "function", function: { name: "f" } })).toolChoice, {
    tool: { name: "f" },
  });
  assert.equal((await choice(undefined)).toolChoice, undefined);
  assert.deepEqual((await choice("required")).tools[0].toolSpec.inputSchema, {
    json: { type: "object", properties: {} },
  });
  assert.equal(await choice("none"), undefined, "no tools when the model must not call one");
  // Tool history without declared tools still needs a toolConfig: minimal specs by name.
  const history = await bodyOf({
    model: "aws/x",
    messages: [
      { role: "user", content: "hi" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "t1", type: "function", function: { name: "lookup", arguments: "" } }],
      },
      { role: "tool", tool_call_id: "t1", content: "found" },
    ],
    tool_choice: "none",
  });
  assert.deepEqual(history.body.toolConfig, {
    tools: [{
      toolSpec: { name: "lookup", inputSchema: { json: { type: "object", properties: {} } } },
    }],
  });
  assert.deepEqual(history.body.messages[1].content, [
    { toolUse: { toolUseId: "t1", name: "lookup", input: {} } },
  ]);
});

Deno.test("bedrock request: requests Bedrock cannot express are refused", async () => {
  const bad = (content: ChatRequest["messages"][0]["content"]) =>
    build({ model: "aws/x", messages: [{ role: "user", content }] }, ctx);
  await assert.rejects(
    bad([{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }]),
    /data: URLs or s3:\/\//,
  );
  await assert.rejects(
    bad([{ type: "image_url", image_url: { url: "data:image/bmp;base64,Qk0=" } }]),
    /unsupported image type image\/bmp/,
  );
  await assert.rejects(
    build({
      model: "aws/x",
      messages: [{
        role: "assistant",
        content: null,
        tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: "{oops" } }],
      }],
    }, ctx),
    /not JSON/,
  );
});

Deno.test("bedrock auth: SigV4 over the exact request, session token, region from the URL", async () => {
  const request: ChatRequest = { model: "aws/x", messages: [{ role: "user", content: "hi" }] };
  const up = await build(request, {
    ...ctx,
    stream: true,
    settings: { credentials: { ...credentials, sessionToken: "tok" }, headers: { "x-team": "a" } },
  });
  assert.equal(
    up.url,
    `${ctx.baseUrl}/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream`,
  );
  assert.equal(up.headers.accept, "application/vnd.amazon.eventstream");
  assert.equal(up.headers["x-amz-security-token"], "tok");
  assert.equal(up.headers["x-team"], "a");
  assert.match(
    up.headers.authorization,
    /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/20231114\/eu-central-1\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-team, Signature=[0-9a-f]{64}$/,
  );
  const expected = await signRequest({
    method: "POST",
    url: up.url,
    headers: { "x-team": "a", "content-type": "application/json", accept: up.headers.accept },
    body: up.body,
    region: "eu-central-1",
    service: "bedrock",
    credentials: { ...credentials, sessionToken: "tok" },
    now: ctx.now,
    contentSha256: true,
  });
  assert.equal(up.headers.authorization, expected.authorization);

  await assert.rejects(
    build(request, {
      ...ctx,
      baseUrl: "http://127.0.0.1:9000/bedrock",
      settings: { credentials },
    }),
    /region is needed/,
  );
});

Deno.test("bedrock auth: a Bedrock API key is a bearer token; nothing when there is neither", async () => {
  const request: ChatRequest = { model: "aws/x", messages: [{ role: "user", content: "hi" }] };
  const keyed = await build(request, {
    ...ctx,
    apiKey: "ABSKexample",
    settings: { region: "eu-central-1" },
  });
  assert.equal(keyed.headers.authorization, "Bearer ABSKexample");
  assert.equal(keyed.headers["x-amz-date"], undefined);
  const open = await build(request, { ...ctx, settings: {} });
  assert.equal(open.headers.authorization, undefined);
});

Deno.test("bedrock: model ids and ARNs are one URL path segment", () => {
  assert.equal(
    modelUrl(
      "https://h",
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x-v1:0",
      "converse",
    ),
    "https://h/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x-v1%3A0/converse",
  );
});

Deno.test("bedrock response: text, tool calls, finish reasons and cache usage", () => {
  const c = bedrockAdapter.parseChatResponse({
    output: {
      message: {
        role: "assistant",
        content: [
          { text: "Checking " },
          { reasoningContent: { reasoningText: { text: "hidden" } } },
          { text: "now." },
          { toolUse: { toolUseId: "tooluse_9", name: "weather", input: { city: "Oslo" } } },
        ],
      },
    },
    stopReason: "tool_use",
    usage: {
      inputTokens: 20,
      outputTokens: 7,
      totalTokens: 57,
      cacheReadInputTokens: 25,
      cacheWriteInputTokens: 5,
    },
  }, ctx);
  assert.equal(c.choices[0].message.content, "Checking now.");
  assert.deepEqual(c.choices[0].message.tool_calls, [{
    id: "tooluse_9",
    type: "function",
    function: { name: "weather", arguments: '{"city":"Oslo"}' },
  }]);
  assert.equal(c.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(c.usage, {
    prompt_tokens: 50,
    completion_tokens: 7,
    total_tokens: 57,
    prompt_tokens_details: { cached_tokens: 25 },
  });
  assert.equal(c.model, ctx.model);

  const rows: [string, string][] = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["tool_use", "tool_calls"],
    ["guardrail_intervened", "content_filter"],
    ["content_filtered", "content_filter"],
  ];
  for (const [stop, want] of rows) assert.equal(finishReason(stop), want, stop);
  assert.throws(() => bedrockAdapter.parseChatResponse({ message: "nope" }, ctx), /not a Converse/);
});

Deno.test("bedrock stream: tool use arrives as OpenAI tool_call deltas, usage comes last", async () => {
  const chunks = await decodeAll(concat([
    eventFrame("messageStart", { role: "assistant" }),
    eventFrame("contentBlockDelta", { delta: { text: "Let me look." }, contentBlockIndex: 0 }),
    eventFrame("contentBlockStop", { contentBlockIndex: 0 }),
    eventFrame("contentBlockStart", {
      start: { toolUse: { toolUseId: "tooluse_A", name: "weather" } },
      contentBlockIndex: 1,
    }),
    eventFrame("contentBlockDelta", {
      delta: { toolUse: { input: '{"ci' } },
      contentBlockIndex: 1,
    }),
    eventFrame("contentBlockDelta", {
      delta: { toolUse: { input: 'ty":"Rome"}' } },
      contentBlockIndex: 1,
    }),
    eventFrame("contentBlockStop", { contentBlockIndex: 1 }),
    eventFrame("messageStop", { stopReason: "tool_use" }),
    eventFrame("metadata", {
      usage: { inputTokens: 30, outputTokens: 12, totalTokens: 42 },
      metrics: { latencyMs: 400 },
    }),
  ]));
  assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" });
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Let me look.");
  const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(calls, [
    { index: 0, id: "tooluse_A", type: "function", function: { name: "weather", arguments: "" } },
    { index: 0, function: { arguments: '{"ci' } },
    { index: 0, function: { arguments: 'ty":"Rome"}' } },
  ]);
  assert.deepEqual(chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter((x) => x), [
    "tool_calls",
  ]);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, {
    prompt_tokens: 30,
    completion_tokens: 12,
    total_tokens: 42,
    prompt_tokens_details: { cached_tokens: 0 },
  });
});

Deno.test("bedrock stream: messageStop alone does not end the stream (metadata follows)", () => {
  const d = bedrockAdapter.createStreamDecoder(ctx);
  d.push({ event: "messageStop", data: '{"stopReason":"end_turn"}' });
  assert.equal(d.finished, false);
  d.push({ event: "metadata", data: '{"usage":{"inputTokens":1,"outputTokens":1}}' });
  assert.equal(d.finished, true);
});

Deno.test("bedrock stream: exceptions mid-stream throw with Bedrock's status, and classify", async () => {
  const cases: [string, number, string][] = [
    ["throttlingException", 429, "rate_limit"],
    ["modelStreamErrorException", 424, "transient"],
    ["internalServerException", 500, "transient"],
    ["serviceUnavailableException", 503, "transient"],
    ["validationException", 400, "caller_fault"],
  ];
  for (const [type, status, kind] of cases) {
    const bytes = concat([
      eventFrame("messageStart", { role: "assistant" }),
      eventFrame("contentBlockDelta", { delta: { text: "Partial" }, contentBlockIndex: 0 }),
      exceptionFrame(type, `${type} happened`),
    ]);
    const decoder = bedrockAdapter.createStreamDecoder({ ...ctx, stream: true });
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const e of bedrockAdapter.readStream!(ReadableStream.from([bytes]))) {
        for (const c of decoder.push(e)) seen.push(c.choices[0]?.delta.content ?? "");
      }
    } catch (e) {
      error = e;
    }
    assert.deepEqual(seen, ["", "Partial"], "content before the exception came through");
    assert.ok(error instanceof UpstreamStreamError, type);
    assert.equal(error.status, status, type);
    assert.equal(error.info.type, type);
    assert.equal(error.message, `${type} happened`);
    assert.equal(classifyStreamError(error, 0).kind, kind, type);
  }
});

Deno.test("bedrock stream: an `error` message-type frame is reported too", async () => {
  const frame = encodeMessage({
    headers: {
      ":message-type": "error",
      ":error-code": "InternalFailure",
      ":error-message": "Something broke",
    },
    payload: "",
  });
  const events: SseEvent[] = [];
  for await (const e of bedrockAdapter.readStream!(ReadableStream.from([frame]))) events.push(e);
  assert.deepEqual(events, [{
    event: "exception",
    data: JSON.stringify({ type: "InternalFailure", message: "Something broke" }),
  }]);
  assert.throws(
    () => bedrockAdapter.createStreamDecoder(ctx).push(events[0]),
    (e: UpstreamStreamError) => e.status === 500 && e.message === "Something broke",
  );
});

Deno.test("bedrock parseError: message, Message, __type; non-JSON kept as text", () => {
  assert.deepEqual(bedrockAdapter.parseError(429, '{"message":"Too many requests"}'), {
    message: "Too many requests",
  });
  assert.deepEqual(
    bedrockAdapter.parseError(
      400,
      '{"__type":"com.amazon.coral.validate#ValidationException","Message":"bad"}',
    ),
    { message: "bad", type: "ValidationException" },
  );
  assert.deepEqual(bedrockAdapter.parseError(502, "<html>Bad Gateway</html>"), {
    message: "<html>Bad Gateway</html>",
  });
  assert.deepEqual(bedrockAdapter.parseError(500, ""), { message: "HTTP 500" });
  const failure = classifyHttpFailure({
    status: 429,
    headers: new Headers({ "retry-after": "3" }),
    error: bedrockAdapter.parseError(429, '{"message":"Too many tokens, please wait."}'),
    now: 0,
  });
  assert.equal(failure.kind, "rate_limit");
  assert.equal(failure.retryAfterMs, 3000);
});

Deno.test("bedrock embeddings: Titan InvokeModel, one input per call", async () => {
  const up = await bedrockAdapter.buildEmbeddingsRequest!(
    { model: "aws/amazon.titan-embed-text-v2:0", input: ["hello world"], dimensions: 256 },
    { ...ctx, model: "amazon.titan-embed-text-v2:0" },
  );
  assert.equal(
    up.url,
    "https://bedrock-runtime.eu-central-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke",
  );
  assert.deepEqual(JSON.parse(up.body as string), { inputText: "hello world", dimensions: 256 });
  assert.match(up.headers.authorization, /^AWS4-HMAC-SHA256 /);
  await assert.rejects(
    Promise.resolve().then(() =>
      bedrockAdapter.buildEmbeddingsRequest!({ model: "aws/t", input: ["a", "b"] }, ctx)
    ),
    /exactly one text input/,
  );
  const r = bedrockAdapter.parseEmbeddingsResponse!(
    { embedding: [0.25, -0.5], inputTextTokenCount: 3 },
    { ...ctx, model: "amazon.titan-embed-text-v2:0" },
  );
  assert.deepEqual(r, {
    object: "list",
    data: [{ object: "embedding", index: 0, embedding: [0.25, -0.5] }],
    model: "amazon.titan-embed-text-v2:0",
    usage: { prompt_tokens: 3, total_tokens: 3 },
  });
});

Deno.test("bedrock through executeStream: signed request out, binary stream in, failure mid-way", async () => {
  let seen: Request | undefined;
  const body = concat([
    eventFrame("messageStart", { role: "assistant" }),
    eventFrame("contentBlockDelta", { delta: { text: "Hello" }, contentBlockIndex: 0 }),
    exceptionFrame("modelStreamErrorException", "The model stream broke."),
  ]);
  const t: ProviderTarget = {
    adapter: bedrockAdapter,
    baseUrl: ctx.baseUrl,
    timeouts: { firstTokenMs: 2_000, totalMs: 5_000 },
    secrets: new Map(),
    settings: ctx.settings,
  };
  const spec: AttemptSpec = {
    model: "anthropic.claude-3-haiku-20240307-v1:0",
    key: "k",
    id: "chatcmpl-x",
    signal: new AbortController().signal,
  };
  const http = {
    fetch(url: string, init: RequestInit) {
      seen = new Request(url, init);
      return Promise.resolve(
        new Response(ReadableStream.from([body.subarray(0, 50), body.subarray(50)]), {
          headers: { "content-type": "application/vnd.amazon.eventstream" },
        }),
      );
    },
  };
  const r = await executeStream(
    { http, clock: { now: () => ctx.now } },
    t,
    { model: "aws/x", messages: [{ role: "user", content: "hi" }], stream: true },
    spec,
  );
  assert.equal(r.type, "success");
  assert.ok(seen);
  assert.equal(
    new URL(seen.url).pathname,
    "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
  );
  assert.match(seen.headers.get("authorization") ?? "", /^AWS4-HMAC-SHA256 Credential=AKIDTEST\//);
  if (r.type !== "success") return;
  const first = r.value.first.map((c) => c.choices[0]?.delta.content ?? "").join("");
  assert.equal(first, "Hello");
  await assert.rejects(
    async () => {
      for await (const _ of r.value.rest) { /* drain */ }
    },
    (e: StreamFailure) => e instanceof StreamFailure && e.failure.kind === "transient",
  );
});
