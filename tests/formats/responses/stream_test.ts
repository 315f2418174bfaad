import assert from "node:assert/strict";
import { createResponsesStreamEncoder } from "../../../src/formats/responses/stream.ts";
import type { ChatChunk } from "../../../src/openai/types.ts";
import { NATIVE_ITEM, NATIVE_OUTPUT } from "../../../src/providers/openai/responses_api.ts";

const shell = { id: "resp_1", createdAt: 1, model: "p/m", body: { model: "p/m", input: "hi" } };
const encoder = () => {
  let n = 0;
  return createResponsesStreamEncoder(shell, (p) => `${p}_${++n}`);
};
const chunk = (
  delta: ChatChunk["choices"][0]["delta"],
  finish: ChatChunk["choices"][0]["finish_reason"] = null,
  usage?: ChatChunk["usage"],
): ChatChunk => ({
  id: "c",
  object: "chat.completion.chunk",
  created: 1,
  model: "m-up",
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...(usage ? { usage } : {}),
});

Deno.test("text streams as one message item, closed at the end, then response.completed", () => {
  const e = encoder();
  const events = [
    ...e.push(chunk({ role: "assistant", content: "Hel" })),
    ...e.push(chunk({ content: "lo" })),
    ...e.push(chunk({}, "stop", { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })),
    ...e.finish(),
  ];
  assert.deepEqual(events.map((x) => x.event), [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
  ]);
  assert.deepEqual(events.map((x) => x.data.sequence_number), events.map((_, i) => i));
  for (const x of events) assert.equal(x.data.type, x.event);
  const created = events[0].data.response as Record<string, unknown>;
  assert.equal(created.status, "in_progress");
  assert.equal(created.model, "m-up");
  const delta = events[4].data;
  assert.deepEqual(
    { ...delta, sequence_number: 0 },
    {
      type: "response.output_text.delta",
      sequence_number: 0,
      item_id: "msg_1",
      output_index: 0,
      content_index: 0,
      delta: "Hel",
      logprobs: [],
    },
  );
  assert.equal(events[6].data.text, "Hello");
  const done = events[9].data.response as { status: string; output: unknown[]; usage: unknown };
  assert.equal(done.status, "completed");
  assert.deepEqual(done.output, [{
    type: "message",
    id: "msg_1",
    status: "completed",
    role: "assistant",
    content: [{ type: "output_text", text: "Hello", annotations: [], logprobs: [] }],
  }]);
  assert.equal((done.usage as { total_tokens: number }).total_tokens, 5);
  assert.equal(e.final()?.id, "resp_1");
});

Deno.test("parallel tool calls are function_call items, interleaved arguments included", () => {
  const e = encoder();
  const events = [
    ...e.push(chunk({
      tool_calls: [{ index: 0, id: "call_a", function: { name: "a", arguments: '{"x"' } }],
    })),
    ...e.push(chunk({
      tool_calls: [{ index: 1, id: "call_b", function: { name: "b", arguments: "{}" } }],
    })),
    ...e.push(chunk({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] })),
    ...e.push(chunk({}, "tool_calls")),
    ...e.finish(),
  ];
  const added = events.filter((x) => x.event === "response.output_item.added");
  assert.deepEqual(
    added.map((x) => [x.data.output_index, (x.data.item as { call_id: string }).call_id]),
    [
      [0, "call_a"],
      [1, "call_b"],
    ],
  );
  const argsDone = events.filter((x) => x.event === "response.function_call_arguments.done");
  assert.deepEqual(argsDone.map((x) => [x.data.name, x.data.arguments]), [["a", '{"x":1}'], [
    "b",
    "{}",
  ]]);
  const final = e.final()!;
  assert.deepEqual(final.output.map((i) => [i.type, i.call_id, i.arguments]), [
    ["function_call", "call_a", '{"x":1}'],
    ["function_call", "call_b", "{}"],
  ]);
});

Deno.test("finish_reason length ends with response.incomplete", () => {
  const e = encoder();
  const events = [...e.push(chunk({ content: "cut" }, "length")), ...e.finish()];
  const last = events[events.length - 1];
  assert.equal(last.event, "response.incomplete");
  const r = last.data.response as { status: string; incomplete_details: unknown };
  assert.equal(r.status, "incomplete");
  assert.deepEqual(r.incomplete_details, { reason: "max_output_tokens" });
});

Deno.test("a failure ends with response.failed and nothing after it", () => {
  const e = encoder();
  e.push(chunk({ content: "par" }));
  const failed = e.fail({ code: "server_error", message: "p failed mid-stream: boom" });
  assert.deepEqual(failed.map((x) => x.event), ["response.failed"]);
  const r = failed[0].data.response as {
    status: string;
    error: unknown;
    output: { status: string }[];
  };
  assert.equal(r.status, "failed");
  assert.deepEqual(r.error, { code: "server_error", message: "p failed mid-stream: boom" });
  assert.equal(r.output[0].status, "incomplete");
  assert.deepEqual(e.finish(), []);
  assert.deepEqual(e.push(chunk({ content: "more" })), []);
});

Deno.test("a native upstream's opaque items and annotations come through, in output order", () => {
  const e = encoder();
  const reasoning = { type: "reasoning", id: "rs_up", summary: [] };
  const cite = { type: "url_citation", url: "https://example.com/" };
  const events = [
    ...e.push({ ...chunk({}), choices: [], [NATIVE_ITEM]: reasoning } as ChatChunk),
    ...e.push(chunk({ content: "Hi" })),
    ...e.push({
      ...chunk({}, "stop"),
      [NATIVE_OUTPUT]: [reasoning, {
        type: "message",
        content: [{ type: "output_text", text: "Hi", annotations: [cite] }],
      }],
    } as ChatChunk),
    ...e.finish(),
  ];
  const added = events.filter((x) => x.event === "response.output_item.added");
  assert.deepEqual(added.map((x) => (x.data.item as { type: string }).type), [
    "reasoning",
    "message",
  ]);
  // The opaque item is done as soon as it came, under the gateway's id.
  assert.equal(events[3].event, "response.output_item.done");
  assert.deepEqual(events[3].data.item, { ...reasoning, id: "rs_1" });
  const part = events.find((x) => x.event === "response.content_part.done")!.data.part;
  assert.deepEqual((part as { annotations: unknown[] }).annotations, [cite]);
  const final = e.final()!;
  assert.deepEqual(final.output.map((i) => i.type), ["reasoning", "message"]);
  assert.deepEqual(
    (final.output[1].content as { annotations: unknown[] }[])[0].annotations,
    [cite],
  );
});
