import assert from "node:assert/strict";
import type { ChatRequest } from "../../../src/openai/types.ts";
import type { AdapterContext } from "../../../src/providers/adapter.ts";
import { UpstreamStreamError } from "../../../src/providers/adapter.ts";
import { ADAPTER_FAMILIES, adapterFor } from "../../../src/providers/families.ts";
import {
  createResponsesStreamDecoder,
  NATIVE_RESPONSES,
  nativeItemOf,
  nativeOutputOf,
  parseResponsesAnswer,
  passthroughOf,
} from "../../../src/providers/openai/responses_api.ts";
import { openaiAdapter } from "../../../src/providers/openai/adapter.ts";

const ctx = (over: Partial<AdapterContext> = {}): AdapterContext => ({
  baseUrl: "https://api.openai.com/v1",
  apiKey: "sk",
  model: "gpt-x",
  stream: false,
  nowSec: 7,
  id: "gw-1",
  now: 7_000,
  settings: { responsesApi: true },
  ...over,
});

const messages = [{ role: "user" as const, content: "hi" }];
const withNative = (nativeOnly: string[] = []): ChatRequest => ({
  model: "p/gpt-x",
  messages,
  [NATIVE_RESPONSES]: {
    body: {
      input: [{ type: "message", role: "user", content: "hi" }],
      tools: [{ type: "web_search" }],
    },
    messagesKey: JSON.stringify(messages),
    nativeOnly,
  },
});

Deno.test("openai adapter: a native request goes to /responses, on the candidate's model, unstored", async () => {
  const up = await openaiAdapter.buildChatRequest(withNative(), ctx({ stream: true }));
  assert.equal(up.url, "https://api.openai.com/v1/responses");
  assert.equal(up.headers.authorization, "Bearer sk");
  assert.deepEqual(JSON.parse(up.body as string), {
    input: [{ type: "message", role: "user", content: "hi" }],
    tools: [{ type: "web_search" }],
    model: "gpt-x",
    stream: true,
    store: false,
  });
});

Deno.test("no adapter ever forwards the native body in a translated request", async () => {
  const c = ctx({
    settings: {
      responsesApi: false,
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    },
  });
  for (const family of ADAPTER_FAMILIES) {
    const up = await adapterFor(family)!.buildChatRequest(withNative(), c);
    const text = typeof up.body === "string" ? up.body : new TextDecoder().decode(up.body);
    assert.ok(!up.url.endsWith("/responses"), family);
    assert.ok(!text.includes(NATIVE_RESPONSES), `${family} forwarded it: ${text}`);
    assert.ok(!text.includes("web_search"), family);
  }
});

Deno.test("passthroughOf: only with the API, only with the decoded messages", () => {
  assert.ok(passthroughOf(withNative(), { responsesApi: true }));
  assert.equal(passthroughOf(withNative(), { responsesApi: false }), undefined);
  assert.equal(passthroughOf({ model: "p/m", messages }, { responsesApi: true }), undefined);
  // A plugin rewrote the messages: translated, so the rewrite is what the upstream sees.
  const changed = { ...withNative(), messages: [{ role: "user" as const, content: "[redacted]" }] };
  assert.equal(passthroughOf(changed, { responsesApi: true }), undefined);
  // What only the passthrough can do is a caller fault when it cannot be had.
  assert.throws(
    () =>
      passthroughOf({
        ...changed,
        ...withNative(['tools[0].type "web_search"']),
        messages: changed.messages,
      }, { responsesApi: true }),
    /web_search.*a plugin changed the messages/,
  );
  assert.throws(
    () => passthroughOf(withNative(['tools[0].type "web_search"']), {}),
    /does not have/,
  );
});

const answer = {
  id: "resp_up",
  object: "response",
  created_at: 5,
  status: "completed",
  model: "gpt-x-2025",
  output: [
    { type: "reasoning", id: "rs_1", summary: [] },
    { type: "web_search_call", id: "ws_1", status: "completed" },
    {
      type: "message",
      id: "msg_1",
      role: "assistant",
      content: [{ type: "output_text", text: "Hi", annotations: [{ type: "url_citation" }] }],
    },
    { type: "function_call", id: "fc_1", call_id: "call_1", name: "f", arguments: '{"a":1}' },
  ],
  usage: {
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 4 },
    output_tokens: 6,
    output_tokens_details: { reasoning_tokens: 2 },
    total_tokens: 16,
  },
};

Deno.test("a Response object → the canonical completion, its output items kept", () => {
  const c = openaiAdapter.parseChatResponse(answer, ctx());
  assert.equal(c.model, "gpt-x-2025");
  assert.deepEqual(c.choices[0].message, {
    role: "assistant",
    content: "Hi",
    tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
  });
  assert.equal(c.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(c.usage, {
    prompt_tokens: 10,
    completion_tokens: 6,
    total_tokens: 16,
    prompt_tokens_details: { cached_tokens: 4 },
    completion_tokens_details: { reasoning_tokens: 2 },
  });
  assert.deepEqual(nativeOutputOf(c), answer.output);
  const cut = parseResponsesAnswer({
    ...answer,
    status: "incomplete",
    incomplete_details: { reason: "max_output_tokens" },
    output: [answer.output[2]],
  }, ctx());
  assert.equal(cut.choices[0].finish_reason, "length");
  assert.throws(
    () =>
      parseResponsesAnswer({
        ...answer,
        status: "failed",
        error: { code: "server_error", message: "boom" },
      }, ctx()),
    (e) => e instanceof UpstreamStreamError && e.info.code === "server_error",
  );
});

const ev = (type: string, data: Record<string, unknown> = {}) => ({
  event: type,
  data: JSON.stringify({ type, ...data }),
});

Deno.test("Responses events → chunks: text, function calls, opaque items, the end", () => {
  const d = openaiAdapter.createStreamDecoder(ctx({ stream: true }));
  const out = [
    ev("response.created", { response: { model: "gpt-x-2025" } }),
    ev("response.output_item.added", { output_index: 0, item: answer.output[0] }),
    ev("response.output_item.done", { output_index: 0, item: answer.output[0] }),
    ev("response.output_text.delta", { output_index: 1, delta: "Hi" }),
    ev("response.output_item.done", { output_index: 1, item: answer.output[2] }),
    ev("response.output_item.added", {
      output_index: 2,
      item: { ...answer.output[3], arguments: "" },
    }),
    ev("response.function_call_arguments.delta", { output_index: 2, delta: '{"a":' }),
    ev("response.function_call_arguments.delta", { output_index: 2, delta: "1}" }),
    ev("response.completed", { response: answer }),
  ].flatMap((e) => d.push(e));
  assert.ok(d.finished);
  assert.ok(out.every((c) => c.model === "gpt-x-2025"));
  assert.deepEqual(nativeItemOf(out[0]), answer.output[0]);
  assert.deepEqual(out[1].choices[0].delta, { content: "Hi" });
  assert.deepEqual(out[2].choices[0].delta.tool_calls, [{
    index: 0,
    id: "call_1",
    type: "function",
    function: { name: "f", arguments: "" },
  }]);
  assert.equal(
    out.slice(3, 5).map((c) => c.choices[0].delta.tool_calls![0].function!.arguments).join(""),
    '{"a":1}',
  );
  const last = out[out.length - 1];
  assert.equal(last.choices[0].finish_reason, "tool_calls");
  assert.equal(last.usage?.completion_tokens, 6);
  assert.deepEqual(nativeOutputOf(last), answer.output);
  assert.equal(out.length, 6);
});

Deno.test("response.failed and error events are upstream errors; chat chunks still decode", () => {
  const d = createResponsesStreamDecoder(ctx({ stream: true }));
  assert.throws(
    () =>
      d.push(
        ev("response.failed", {
          response: { error: { code: "rate_limit_exceeded", message: "slow" } },
        }),
      ),
    (e) => e instanceof UpstreamStreamError && e.info.code === "rate_limit_exceeded",
  );
  assert.throws(
    () =>
      createResponsesStreamDecoder(ctx()).push(ev("error", { code: "server_error", message: "x" })),
    UpstreamStreamError,
  );
  const chat = openaiAdapter.createStreamDecoder(ctx({ stream: true }));
  const [c] = chat.push({
    data: JSON.stringify({
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta: { content: "x" }, finish_reason: null }],
    }),
  });
  assert.equal(c.choices[0].delta.content, "x");
});
