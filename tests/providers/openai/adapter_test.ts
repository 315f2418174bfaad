import assert from "node:assert/strict";
import { openaiAdapter, UpstreamStreamError } from "../../../src/providers/mod.ts";
import { sourceOf } from "../../../src/providers/upstream_json.ts";
import type { ChatRequest } from "../../../src/openai/types.ts";
import { build, ctx, decodeTranscript, fixtureJson, fixtureText } from "../fixtures/load.ts";

const request: ChatRequest = {
  model: "openai/gpt-4o-mini",
  fallbacks: ["anthropic/claude-sonnet-4"],
  messages: [{ role: "user", content: "Hi" }],
  temperature: 0.2,
  stream_options: { include_usage: false },
  logit_bias: { "50256": -100 }, // an OpenAI field the gateway does not model passes through
};

Deno.test("buildChatRequest posts to /chat/completions with the upstream model", () => {
  const req = build(openaiAdapter, request, { ...ctx, stream: false });
  assert.equal(req.url, "https://upstream.test/v1/chat/completions");
  assert.equal(req.method, "POST");
  assert.equal(req.headers.authorization, "Bearer sk-test");
  assert.equal(req.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(req.body), {
    model: "upstream-model",
    messages: [{ role: "user", content: "Hi" }],
    temperature: 0.2,
    logit_bias: { "50256": -100 },
    stream: false, // and no stream_options: OpenAI rejects them without stream
  });
});

Deno.test("buildChatRequest asks for usage in streams and omits auth for keyless servers", () => {
  const req = build(openaiAdapter, request, { ...ctx, apiKey: "" });
  const body = JSON.parse(req.body);
  assert.equal(body.stream, true);
  assert.deepEqual(body.stream_options, { include_usage: true });
  assert.equal(body.fallbacks, undefined);
  assert.equal("authorization" in req.headers, false);
  assert.equal(req.headers.accept, "text/event-stream");
});

Deno.test("parseChatResponse passes a completion through, filling gaps from the context", async () => {
  const body = await fixtureJson("./openai/completion.json");
  const c = openaiAdapter.parseChatResponse(body, ctx);
  assert.equal(c.id, "chatcmpl-B9fixture01");
  assert.equal(c.model, "gpt-4o-mini-2024-07-18");
  assert.equal(c.choices[0].message.content, "Paris is the capital of France.");
  assert.equal(c.usage?.total_tokens, 22);
  assert.equal(c.system_fingerprint, "fp_fixture");

  const bare = openaiAdapter.parseChatResponse({ choices: [] }, ctx);
  assert.equal(bare.id, "chatcmpl-gateway");
  assert.equal(bare.created, ctx.nowSec);
  assert.equal(bare.model, "upstream-model");
  assert.equal(bare.object, "chat.completion");
});

Deno.test("parseChatResponse fills in the refusal and logprobs OpenAI's schema requires", () => {
  // A compatible server (vLLM, Ollama, …) that leaves them out.
  const c = openaiAdapter.parseChatResponse({
    id: "x",
    choices: [
      { index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" },
      {
        index: 1,
        message: { role: "assistant", content: null, refusal: "I can't" },
        finish_reason: "stop",
        logprobs: { content: [] },
      },
    ],
  }, ctx);
  assert.deepEqual(c.choices[0], {
    index: 0,
    message: { role: "assistant", content: "hi", refusal: null },
    finish_reason: "stop",
    logprobs: null,
  });
  // What the upstream did send is kept as it was.
  assert.equal(c.choices[1].message.refusal, "I can't");
  assert.deepEqual(c.choices[1].logprobs, { content: [] });
});

Deno.test("parseChatResponse rejects bodies that are not completions", () => {
  for (const body of [null, "hello", [], { object: "list", data: [] }, { choices: {} }]) {
    assert.throws(() => openaiAdapter.parseChatResponse(body, ctx), /not a chat completion/);
  }
  // A 200 carrying an error body is the upstream's error, not a malformed completion.
  assert.throws(
    () => openaiAdapter.parseChatResponse({ error: { message: "busy", code: 503 } }, ctx),
    (e) => e instanceof UpstreamStreamError && e.status === 503 && e.message === "busy",
  );
});

Deno.test("stream decoder passes chunks through and finishes on [DONE]", async () => {
  const { chunks, finished, error } = await decodeTranscript(
    openaiAdapter,
    await fixtureText("./openai/stream.sse"),
  );
  assert.equal(finished, true);
  assert.equal(error, undefined);
  assert.equal(chunks.length, 5);
  assert.ok(chunks.every((c) => c.id === "chatcmpl-B9fixture02"));
  assert.ok(chunks.every((c) => c.model === "gpt-4o-mini-2024-07-18"));
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Hello, wörld ✓");
  assert.equal(chunks[3].choices[0].finish_reason, "stop");
  assert.deepEqual(chunks[4].choices, []);
  assert.equal(chunks[4].usage?.total_tokens, 13);
});

Deno.test("stream decoder keeps tool call deltas intact", async () => {
  const { chunks, finished } = await decodeTranscript(
    openaiAdapter,
    await fixtureText("./openai/stream_tool_calls.sse"),
    3,
  );
  assert.equal(finished, true);
  const args = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    .map((t) => t.function?.arguments ?? "").join("");
  assert.deepEqual(JSON.parse(args), { city: "Oslo" });
  assert.equal(chunks[0].choices[0].delta.tool_calls?.[0].id, "call_fixtureA");
  assert.equal(chunks[3].choices[0].finish_reason, "tool_calls");
});

Deno.test("stream decoder throws UpstreamStreamError on an error object mid-stream", async () => {
  const { chunks, finished, error } = await decodeTranscript(
    openaiAdapter,
    await fixtureText("./openai/stream_error.sse"),
  );
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0].choices[0].delta.content, "Once upon");
  assert.equal(finished, false);
  assert.ok(error instanceof UpstreamStreamError);
  assert.equal(error.status, 502); // vLLM/OpenRouter put the status in `code`
  assert.deepEqual(error.info, {
    message: "Upstream provider overloaded",
    type: "server_error",
    code: "502",
  });
});

Deno.test("stream decoder rejects invalid JSON and non-chunks; ignores events after [DONE]", () => {
  const decoder = openaiAdapter.createStreamDecoder(ctx);
  assert.throws(() => decoder.push({ data: '{"id": "x", "choi' }), SyntaxError);
  assert.throws(() => decoder.push({ data: '{"id": "x"}' }), /not a chunk/);
  assert.deepEqual(decoder.push({ data: "" }), []);
  const [chunk] = decoder.push({ data: '{"choices":[]}' });
  assert.equal(chunk.id, "chatcmpl-gateway");
  assert.equal(chunk.object, "chat.completion.chunk");
  assert.deepEqual(decoder.push({ data: "[DONE]" }), []);
  assert.equal(decoder.finished, true);
  assert.deepEqual(decoder.push({ data: "{not json" }), []);
});

Deno.test("stream decoder keeps the text of complete chunks (sent on as is), none for repaired ones", () => {
  const decoder = openaiAdapter.createStreamDecoder(ctx);
  const text =
    '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"x":1}';
  const [complete] = decoder.push({ data: text });
  assert.equal(sourceOf(complete), text);
  assert.equal(JSON.stringify(complete), text, "the same content either way");
  const [repaired] = decoder.push({ data: '{"id":7,"created":1,"model":"m","choices":[]}' });
  assert.equal(repaired.id, "7");
  assert.equal(sourceOf(repaired), undefined, "changed by the decoder: serialised anew");
});

Deno.test("parseError reads OpenAI error bodies and falls back to the raw text", async () => {
  assert.deepEqual(
    openaiAdapter.parseError(400, await fixtureText("./openai/error_context_length.json")),
    {
      message:
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.",
      type: "invalid_request_error",
      code: "context_length_exceeded",
      param: "messages",
    },
  );
  assert.deepEqual(openaiAdapter.parseError(500, '{"error":"model crashed"}'), {
    message: "model crashed",
  });
  assert.deepEqual(openaiAdapter.parseError(502, "<html>Bad Gateway</html>"), {
    message: "<html>Bad Gateway</html>",
  });
  assert.deepEqual(openaiAdapter.parseError(503, ""), { message: "HTTP 503" });
  const long = openaiAdapter.parseError(500, "x".repeat(2000)).message;
  assert.ok(long.length <= 501 && long.startsWith("xxx"));
});

Deno.test("parseChatResponse hands back a complete answer itself (its text can go on as is), else a copy", () => {
  const complete = {
    id: "c1",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "hi", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }],
  };
  assert.equal(openaiAdapter.parseChatResponse(complete, ctx), complete);
  const gap = { ...complete, choices: [{ ...complete.choices[0], logprobs: undefined }] };
  const repaired = openaiAdapter.parseChatResponse(gap, ctx);
  assert.notEqual(repaired, gap);
  assert.equal(repaired.choices[0].logprobs, null);
});
