import assert from "node:assert/strict";
import type { ContentPart, ToolCall } from "../../src/openai/types.ts";
import {
  bearerHeaders,
  ChunkWriter,
  contentBlocks,
  embeddingTexts,
  instructionTexts,
  joinTurns,
  mergeTurns,
  textOf,
  toolArguments,
} from "../../src/providers/translate.ts";
import { ctx } from "./fixtures/load.ts";

const call = (args: string): ToolCall => ({
  id: "call_1",
  type: "function",
  function: { name: "f", arguments: args },
});

Deno.test("textOf joins text parts with newlines and leaves images out", () => {
  assert.equal(textOf("plain"), "plain");
  assert.equal(textOf(null), "");
  assert.equal(
    textOf([
      { type: "text", text: "a" },
      { type: "image_url", image_url: { url: "https://x/y.png" } },
      { type: "text", text: "b" },
    ]),
    "a\nb",
  );
});

Deno.test("instructionTexts: system and developer messages, empty ones left out", () => {
  assert.deepEqual(
    instructionTexts([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
      { role: "developer", content: [{ type: "text", text: "Use tools." }] },
      { role: "system", content: "" },
    ]),
    ["Be brief.", "Use tools."],
  );
});

Deno.test("contentBlocks: a string is one text part; parts without a block are left out", () => {
  const toBlock = (p: ContentPart) =>
    p.type === "text" ? (p.text === "" ? undefined : { t: p.text }) : { img: p.image_url.url };
  assert.deepEqual(contentBlocks("hi", toBlock), [{ t: "hi" }]);
  assert.deepEqual(contentBlocks("", toBlock), []);
  assert.deepEqual(contentBlocks(null, toBlock), []);
  assert.deepEqual(
    contentBlocks([
      { type: "text", text: "" },
      { type: "image_url", image_url: { url: "u" } },
      { type: "text", text: "x" },
    ], toBlock),
    [{ img: "u" }, { t: "x" }],
  );
});

Deno.test("toolArguments: an object, {} for none; anything else names the call", () => {
  assert.deepEqual(toolArguments("anthropic", call('{"a":1}')), { a: 1 });
  assert.deepEqual(toolArguments("anthropic", call("  ")), {});
  assert.throws(
    () => toolArguments("bedrock", call("{cut")),
    { message: "bedrock: tool call call_1 has arguments that are not JSON" },
  );
  assert.throws(
    () => toolArguments("anthropic", call("[1]")),
    { message: "anthropic: tool call call_1 input is not an object" },
  );
  assert.throws(
    () => toolArguments("gemini", call("1"), "arguments are not an object"),
    { message: "gemini: tool call call_1 arguments are not an object" },
  );
});

Deno.test("joinTurns drops empty turns and joins one role's consecutive turns", () => {
  const turns = [
    { role: "user", content: [1] },
    { role: "model", content: [] },
    { role: "user", content: [2] },
    { role: "model", content: [3] },
  ];
  assert.deepEqual(joinTurns(turns), [
    { role: "user", content: [1, 2] },
    { role: "model", content: [3] },
  ]);
  assert.deepEqual(turns[0].content, [1], "the input turns are not changed");
});

Deno.test("mergeTurns also puts tool results first in each user turn", () => {
  const isResult = (b: string) => b.startsWith("result");
  assert.deepEqual(
    mergeTurns([
      { role: "assistant", content: ["call a", "call b"] },
      { role: "user", content: ["result a"] },
      { role: "user", content: ["text", "result b"] },
      { role: "assistant", content: ["result-looking text"] },
    ], isResult),
    [
      { role: "assistant", content: ["call a", "call b"] },
      { role: "user", content: ["result a", "result b", "text"] },
      { role: "assistant", content: ["result-looking text"] },
    ],
  );
});

Deno.test("bearerHeaders: JSON with the key as a bearer token, none for a keyless server", () => {
  assert.deepEqual(bearerHeaders(ctx, "text/event-stream"), {
    "content-type": "application/json",
    accept: "text/event-stream",
    authorization: "Bearer sk-test",
  });
  assert.equal("authorization" in bearerHeaders({ ...ctx, apiKey: "" }, "application/json"), false);
});

Deno.test("embeddingTexts: texts as a list; token ids are not texts", () => {
  assert.deepEqual(embeddingTexts("a"), ["a"]);
  assert.deepEqual(embeddingTexts(["a", "b"]), ["a", "b"]);
  assert.equal(embeddingTexts([1, 2]), undefined);
  assert.equal(embeddingTexts([[1], [2]]), undefined);
});

Deno.test("ChunkWriter: choice-0 chunks under the latest id and model, and the usage chunk", () => {
  const out = new ChunkWriter(ctx);
  assert.deepEqual(out.delta({ role: "assistant", content: "" }), {
    id: ctx.id,
    object: "chat.completion.chunk",
    created: ctx.nowSec,
    model: ctx.model,
    choices: [{
      index: 0,
      delta: { role: "assistant", content: "" },
      logprobs: null, // required in every chunk choice by OpenAI's schema
      finish_reason: null,
    }],
  });
  out.id = "msg_1";
  out.model = "claude-x";
  const tool = out.tool({ index: 0, function: { arguments: "{}" } });
  assert.equal(tool.id, "msg_1");
  assert.equal(tool.model, "claude-x");
  assert.deepEqual(tool.choices[0].delta, {
    tool_calls: [{ index: 0, function: { arguments: "{}" } }],
  });
  assert.equal(out.delta({}, "stop").choices[0].finish_reason, "stop");
  const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
  assert.deepEqual(out.usage(usage), {
    id: "msg_1",
    object: "chat.completion.chunk",
    created: ctx.nowSec,
    model: "claude-x",
    choices: [],
    usage,
  });
});
