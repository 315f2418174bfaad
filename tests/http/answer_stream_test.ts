// A complete chat completion (a plugin's answer, e.g. a semantic cache hit) served as a stream:
// per choice a chunk with the role, the whole content and tool calls, then its finish_reason;
// usage last only when asked for; every chunk with the completion's id, created and model.
import assert from "node:assert/strict";
import { completionChunks } from "../../src/http/answer_stream.ts";
import type { ChatChunk, ChatCompletion } from "../../src/openai/types.ts";

const usage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };

const completion = (over: Partial<ChatCompletion> = {}): ChatCompletion => ({
  id: "chatcmpl-cached-1",
  object: "chat.completion",
  created: 1_741_180_455,
  model: "gpt-4o-mini",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "Paris is the capital of France." },
    finish_reason: "stop",
    logprobs: null,
  }],
  usage,
  ...over,
});

async function collect(c: ChatCompletion, includeUsage: boolean): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const chunk of completionChunks(c, includeUsage).chunks) out.push(chunk);
  return out;
}

const head = { id: "chatcmpl-cached-1", object: "chat.completion.chunk", created: 1_741_180_455 };

Deno.test("completionChunks: the whole content in one chunk with the role, then finish_reason", async () => {
  assert.deepEqual(await collect(completion(), false), [
    {
      ...head,
      model: "gpt-4o-mini",
      choices: [{
        index: 0,
        delta: { role: "assistant", content: "Paris is the capital of France." },
        finish_reason: null,
        logprobs: null,
      }],
    },
    {
      ...head,
      model: "gpt-4o-mini",
      choices: [{ index: 0, delta: {}, finish_reason: "stop", logprobs: null }],
    },
  ]);
});

Deno.test("completionChunks: the content chunks concatenate back to the stored text", async () => {
  const text = "line one\nline two — ünïcödé 🚀";
  const c = completion({
    choices: [{
      index: 0,
      message: { role: "assistant", content: text },
      finish_reason: "length",
      logprobs: null,
    }],
  });
  const chunks = await collect(c, false);
  const joined = chunks.map((k) => k.choices[0]?.delta.content ?? "").join("");
  assert.equal(joined, text);
  assert.equal(chunks.at(-1)?.choices[0].finish_reason, "length");
});

Deno.test("completionChunks: tool calls with their indexes, ids and arguments; null content", async () => {
  const c = completion({
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_a",
            type: "function",
            function: { name: "weather", arguments: '{"c":"Paris"}' },
          },
          { id: "call_b", type: "function", function: { name: "time", arguments: "{}" } },
        ],
      },
      finish_reason: "tool_calls",
      logprobs: null,
    }],
  });
  const [first, last, ...rest] = await collect(c, false);
  assert.deepEqual(rest, []);
  assert.deepEqual(first.choices[0].delta, {
    role: "assistant",
    content: null,
    tool_calls: [
      {
        index: 0,
        id: "call_a",
        type: "function",
        function: { name: "weather", arguments: '{"c":"Paris"}' },
      },
      { index: 1, id: "call_b", type: "function", function: { name: "time", arguments: "{}" } },
    ],
  });
  assert.equal(last.choices[0].finish_reason, "tool_calls");
});

Deno.test("completionChunks: an empty tool_calls list sends none", async () => {
  const c = completion({
    choices: [{
      index: 0,
      message: { role: "assistant", content: "hi", tool_calls: [] },
      finish_reason: "stop",
      logprobs: null,
    }],
  });
  const [first] = await collect(c, false);
  assert.equal("tool_calls" in first.choices[0].delta, false);
});

Deno.test("completionChunks: usage last, with no choices, only when asked and present", async () => {
  const withUsage = await collect(completion(), true);
  assert.equal(withUsage.length, 3);
  assert.deepEqual(withUsage[2], { ...head, model: "gpt-4o-mini", choices: [], usage });
  assert.ok(withUsage.slice(0, 2).every((k) => k.usage === undefined));

  assert.equal((await collect(completion(), false)).some((k) => k.usage), false, "not asked");
  const noUsage = await collect(completion({ usage: undefined }), true);
  assert.equal(noUsage.length, 2, "asked, but the completion has none");
});

Deno.test("completionChunks: several choices, each in order with its own index; one id throughout", async () => {
  const c = completion({
    choices: [0, 1].map((i) => ({
      index: i,
      message: { role: "assistant" as const, content: `answer ${i}` },
      finish_reason: "stop" as const,
      logprobs: null,
    })),
  });
  const chunks = await collect(c, true);
  assert.deepEqual(
    chunks.map((
      k,
    ) => [k.choices[0]?.index, k.choices[0]?.delta.content, k.choices[0]?.finish_reason]),
    [
      [0, "answer 0", null],
      [0, undefined, "stop"],
      [1, "answer 1", null],
      [1, undefined, "stop"],
      [undefined, undefined, undefined],
    ],
  );
  assert.deepEqual(new Set(chunks.map((k) => k.id)), new Set(["chatcmpl-cached-1"]));
  assert.ok(chunks.every((k) => k.object === "chat.completion.chunk" && k.model === "gpt-4o-mini"));
  assert.ok(chunks.every((k) => k.created === 1_741_180_455));
});

Deno.test("completionChunks: cancel resolves without touching the chunks", async () => {
  const s = completionChunks(completion(), false);
  await s.cancel();
  const out: ChatChunk[] = [];
  for await (const k of s.chunks) out.push(k);
  assert.equal(out.length, 2);
});
