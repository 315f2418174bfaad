import assert from "node:assert/strict";
import {
  continuationMode,
  continuationRequest,
  CONTINUE_PROMPT,
  isPrefillRefusal,
  SentAnswer,
  Stitcher,
} from "../../src/http/continuation.ts";
import type { ChatChunk, ChatRequest } from "../../src/openai/types.ts";

const chunk = (
  id: string,
  delta: ChatChunk["choices"][number]["delta"],
  finish: ChatChunk["choices"][number]["finish_reason"] = null,
  index = 0,
): ChatChunk => ({
  id,
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index, delta, finish_reason: finish }],
});

Deno.test("continuation mode: prefill where the API continues an assistant turn, else a turn", () => {
  const cases: [string, string, boolean, string][] = [
    ["anthropic", "claude-3-5-haiku-latest", false, "prefill"],
    ["bedrock", "anthropic.claude-3-haiku-20240307-v1:0", false, "prefill"],
    ["bedrock", "meta.llama3-70b-instruct-v1:0", false, "continue"],
    ["openai", "gpt-4o-mini", false, "continue"],
    ["gemini", "gemini-2.0-flash", false, "continue"],
    // Claude 4.6 and later refuse a prefill: asked with a turn from the start.
    ["anthropic", "claude-opus-4-6", false, "continue"],
    ["anthropic", "claude-sonnet-4-6", false, "continue"],
    ["anthropic", "claude-opus-5-5", false, "continue"],
    ["bedrock", "us.anthropic.claude-opus-4-6-v1", false, "continue"],
    ["anthropic", "claude-sonnet-4-5-20250929", false, "prefill"],
    ["anthropic", "claude-sonnet-4-20250514", false, "prefill"],
    ["anthropic", "claude-3-7-sonnet-latest", false, "prefill"],
    ["anthropic", "my-claude-proxy-model", false, "prefill"],
    // Seen refusing a prefill: never sent one again.
    ["anthropic", "claude-3-5-haiku-latest", true, "continue"],
  ];
  for (const [family, model, refused, want] of cases) {
    assert.equal(continuationMode(family, model, refused), want, `${family} ${model}`);
  }
});

Deno.test("continuation request: the conversation, then the partial answer as the target takes it", () => {
  const req: ChatRequest = {
    model: "a/m",
    messages: [{ role: "user", content: "hi" }],
    n: 1,
    stream: true,
  };
  const prefill = continuationRequest(req, "Hello there, ", "prefill");
  assert.deepEqual(prefill.messages, [
    { role: "user", content: "hi" },
    // Anthropic refuses a prefill that ends with whitespace.
    { role: "assistant", content: "Hello there," },
  ]);
  assert.equal(prefill.n, undefined);
  const turn = continuationRequest(req, "Hello there, ", "continue");
  assert.deepEqual(turn.messages, [
    { role: "user", content: "hi" },
    { role: "assistant", content: "Hello there, " },
    { role: "user", content: CONTINUE_PROMPT },
  ]);
  assert.deepEqual(req.messages, [{ role: "user", content: "hi" }], "the original is untouched");
});

Deno.test("prefill refusals are recognised by their 4xx wording, nothing else", () => {
  const yes = [
    "This model does not support assistant message prefill. The conversation must end with a user message.",
    "final assistant content cannot end with trailing whitespace",
  ];
  for (const message of yes) assert.ok(isPrefillRefusal({ status: 400, message }), message);
  assert.equal(isPrefillRefusal({ status: 503, message: "prefill overloaded" }), false);
  assert.equal(isPrefillRefusal({ status: 400, message: "max_tokens is too large" }), false);
});

Deno.test("sent answer: text of choice 0; tool calls and several choices cannot be continued", () => {
  const sent = new SentAnswer();
  sent.record(chunk("c1", { role: "assistant", content: "" }));
  sent.record(chunk("c1", { content: "Hello" }));
  sent.record(chunk("c1", { content: " world" }));
  assert.equal(sent.text, "Hello world");
  assert.equal(sent.id, "c1");
  assert.equal(sent.continuable, true);
  const tools = new SentAnswer();
  tools.record(chunk("c", {
    tool_calls: [{ index: 0, id: "t", type: "function", function: { name: "f", arguments: "{" } }],
  }));
  assert.equal(tools.continuable, false);
  const multi = new SentAnswer();
  multi.record(chunk("c", { content: "a" }, null, 1));
  assert.equal(multi.continuable, false);
});

Deno.test("stitcher: the first stream's id, no second role, no doubled whitespace, empty chunks dropped", () => {
  const sent = new SentAnswer();
  sent.record(chunk("first", { content: "Hello " }));
  const stitch = new Stitcher(sent);
  assert.equal(stitch.push(chunk("second", { role: "assistant", content: "" })), undefined);
  assert.deepEqual(
    stitch.push(chunk("second", { content: " world" })),
    chunk("first", { content: "world" }),
  );
  assert.deepEqual(
    stitch.push(chunk("second", { content: " again" })),
    chunk("first", { content: " again" }),
  );
  assert.deepEqual(stitch.push(chunk("second", {}, "stop")), chunk("first", {}, "stop"));
  assert.equal(sent.text, "Hello world again");
  // A usage-only chunk (no choices) still goes out.
  const usage = {
    ...chunk("second", {}),
    choices: [],
    usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
  };
  assert.deepEqual(stitch.push(usage), { ...usage, id: "first" });
});

Deno.test("stitcher: a cut inside a word goes on without any space added", () => {
  const sent = new SentAnswer();
  sent.record(chunk("a", { content: "Hel" }));
  const stitch = new Stitcher(sent);
  assert.deepEqual(stitch.push(chunk("b", { content: "lo" })), chunk("a", { content: "lo" }));
  assert.equal(sent.text, "Hello");
});
