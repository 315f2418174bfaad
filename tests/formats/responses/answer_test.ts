import assert from "node:assert/strict";
import {
  completionToResponse,
  responsesUsage,
  statusOf,
} from "../../../src/formats/responses/answer.ts";
import type { ChatCompletion } from "../../../src/openai/types.ts";
import { NATIVE_OUTPUT } from "../../../src/providers/openai/responses_api.ts";

let n = 0;
const mint = (p: string) => `${p}_${++n}`;
const shell = {
  id: "resp_1",
  createdAt: 1_700_000_000,
  model: "p/m",
  body: { model: "p/m", input: "hi", instructions: "sys", temperature: 0.2 },
};

const completion = (
  message: ChatCompletion["choices"][0]["message"],
  finish: ChatCompletion["choices"][0]["finish_reason"],
): ChatCompletion => ({
  id: "c",
  object: "chat.completion",
  created: 1,
  model: "m-2024",
  choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
  usage: {
    prompt_tokens: 10,
    completion_tokens: 4,
    total_tokens: 14,
    prompt_tokens_details: { cached_tokens: 3 },
    completion_tokens_details: { reasoning_tokens: 2 },
  },
});

Deno.test("a completion becomes a completed Response with message and function_call items", () => {
  n = 0;
  const r = completionToResponse(
    shell,
    completion({
      role: "assistant",
      content: "hi there",
      tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }],
    }, "tool_calls"),
    mint,
  );
  assert.equal(r.object, "response");
  assert.equal(r.id, "resp_1");
  assert.equal(r.created_at, 1_700_000_000);
  assert.equal(r.status, "completed");
  assert.equal(r.model, "m-2024");
  assert.equal(r.error, null);
  assert.equal(r.incomplete_details, null);
  assert.equal(r.instructions, "sys");
  assert.equal(r.temperature, 0.2);
  assert.equal(r.tool_choice, "auto");
  assert.equal(r.store, true);
  assert.deepEqual(r.output, [
    {
      type: "message",
      id: "msg_1",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "hi there", annotations: [], logprobs: [] }],
    },
    {
      type: "function_call",
      id: "fc_2",
      call_id: "call_1",
      name: "f",
      arguments: "{}",
      status: "completed",
    },
  ]);
  assert.deepEqual(r.usage, {
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 3, cache_write_tokens: 0 },
    output_tokens: 4,
    output_tokens_details: { reasoning_tokens: 2 },
    total_tokens: 14,
  });
});

Deno.test("length and content_filter make an incomplete response saying why", () => {
  assert.deepEqual(statusOf("length"), {
    status: "incomplete",
    incomplete_details: { reason: "max_output_tokens" },
  });
  assert.deepEqual(statusOf("content_filter").incomplete_details, { reason: "content_filter" });
  assert.equal(statusOf("stop").status, "completed");
  const r = completionToResponse(
    shell,
    completion({ role: "assistant", content: "cut" }, "length"),
    mint,
  );
  assert.equal(r.status, "incomplete");
  assert.equal(r.output[0].status, "incomplete");
});

Deno.test("no usage counts as zeros", () => {
  assert.equal(responsesUsage(undefined).total_tokens, 0);
});

Deno.test("a native upstream's output items are returned as they came, under minted ids", () => {
  n = 0;
  const output = [
    { type: "reasoning", id: "rs_up", summary: [], encrypted_content: "e" },
    { type: "web_search_call", id: "ws_up", status: "completed" },
    {
      type: "message",
      id: "msg_up",
      role: "assistant",
      content: [{ type: "output_text", text: "Hi", annotations: [{ type: "url_citation" }] }],
    },
  ];
  const c = {
    ...completion({ role: "assistant", content: "Hi" }, "stop"),
    [NATIVE_OUTPUT]: output,
  } as ChatCompletion;
  const r = completionToResponse(shell, c, mint);
  assert.deepEqual(r.output, [
    { ...output[0], id: "rs_1" },
    { ...output[1], id: "ws_2" },
    {
      ...output[2],
      id: "msg_3",
      // Completed to the spec: a status, and logprobs on output_text.
      status: "completed",
      content: [{ ...output[2].content![0], logprobs: [] }],
    },
  ]);
  assert.equal(r.status, "completed");
});
