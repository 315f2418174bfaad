// Answers on /v1/responses validated with ajv against the components of OpenAI's published OpenAPI
// spec (tests/_support/openai_responses_schema.ts): JSON answers and every event of their
// streams, from a listening gateway in front of OpenAI-format and Anthropic-format upstreams — a
// text answer, a function call, an answer cut short by the token limit (incomplete) and a stream
// that fails mid-answer — and the stored-response routes (GET, input_items, DELETE).
import { Ajv } from "ajv";
import assert from "node:assert/strict";
import { startMockUpstream } from "../../../bench/mock/mod.ts";
import { mockProvider, startTestGateway } from "../../_support/gateway.ts";
import {
  DeletedResponse,
  Response as ResponseSchema,
  ResponseItemList,
  ResponseStreamEvent,
} from "../../_support/openai_responses_schema.ts";
import { chunk, scriptedUpstream, sse, usageChunk } from "../../_support/scripted_upstream.ts";
import { weatherTool, withToolGateway } from "../../_support/tool_upstream.ts";

const ajv = new Ajv({ allErrors: true, strict: false });
const validResponse = ajv.compile(ResponseSchema);
const validEvent = ajv.compile(ResponseStreamEvent);
const validItemList = ajv.compile(ResponseItemList);
const validDeleted = ajv.compile(DeletedResponse);

type Json = Record<string, unknown>;

function assertValid(valid: typeof validResponse, value: unknown, what: string): void {
  const ok = valid(value);
  assert.ok(ok, `${what}: ${ajv.errorsText(valid.errors)}\n${JSON.stringify(value)}`);
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

function sseEvents(text: string): { event: string; data: Json }[] {
  return text.split("\n\n").filter((f) => f.trim() !== "").map((frame) => ({
    event: /^event: (.*)$/m.exec(frame)?.[1] ?? "",
    data: JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "{}"),
  }));
}

/** POSTs, checks the JSON answer against Response, and returns it. */
async function jsonAnswer(url: string, body: Json, what: string): Promise<Json> {
  const res = await post(url, { ...body, stream: false });
  assert.equal(res.status, 200, what);
  const answer = await res.json();
  assertValid(validResponse, answer, `${what} (JSON)`);
  return answer;
}

/** POSTs with stream: true, checks every event against its ResponseStreamEvent member. */
async function streamAnswer(url: string, body: Json, what: string) {
  const res = await post(url, { ...body, stream: true });
  assert.equal(res.status, 200, what);
  const events = sseEvents(await res.text());
  assert.ok(events.length > 2, what);
  for (const [i, e] of events.entries()) {
    assert.equal(e.event, e.data.type, `${what} event ${i}`);
    assertValid(validEvent, e.data, `${what} event ${i} (${e.event})`);
  }
  return events;
}

Deno.test("text answers and their streams match the spec, from OpenAI and Anthropic upstreams", async () => {
  const mock = await startMockUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      oai: mockProvider(mock.url, "oai", "openai"),
      anthro: mockProvider(mock.url, "anthro", "anthropic"),
    },
  });
  try {
    for (const model of ["oai/gpt-4o-mini", "anthro/claude-x"]) {
      const body = {
        model,
        input: "hello",
        instructions: "Be brief.",
        metadata: { k: "v" },
        text: { format: { type: "text" } },
      };
      const answer = await jsonAnswer(gw.url, body, model);
      assert.equal(answer.status, "completed", model);
      const events = await streamAnswer(gw.url, body, model);
      assert.equal(events.at(-1)!.event, "response.completed", model);
      const types = new Set(events.map((e) => e.event));
      for (
        const t of [
          "response.created",
          "response.in_progress",
          "response.output_item.added",
          "response.content_part.added",
          "response.output_text.delta",
          "response.output_text.done",
          "response.content_part.done",
          "response.output_item.done",
        ]
      ) assert.ok(types.has(t), `${model}: ${t}`);
    }
  } finally {
    await gw.shutdown(2_000);
    await mock.close();
  }
});

Deno.test("function-call answers and streams match the spec, and so do the stored routes", async () => {
  await withToolGateway(async (url) => {
    // nat is a native Responses API upstream (the passthrough): its own items come through.
    for (const model of ["oai/m1", "anthro/m1", "nat/m1"]) {
      const body = { model, input: "What is the weather in Paris?", tools: [weatherTool] };
      const r1 = await jsonAnswer(url, body, model);
      const call = (r1.output as Json[]).find((i) => i.type === "function_call");
      assert.ok(call, `${model}: ${JSON.stringify(r1.output)}`);
      const events = await streamAnswer(url, { ...body, tool_choice: "auto" }, model);
      const types = events.map((e) => e.event);
      assert.ok(types.includes("response.function_call_arguments.delta"), model);
      assert.ok(types.includes("response.function_call_arguments.done"), model);

      // The next turn carries the tool's result; its input items list shows it back.
      const r2 = await jsonAnswer(url, {
        model,
        previous_response_id: r1.id,
        input: [
          { type: "function_call_output", call_id: call.call_id, output: "sunny" },
          { role: "assistant", content: "Anything else?" },
          { role: "user", content: [{ type: "input_text", text: "Thanks." }] },
        ],
        tools: [weatherTool],
      }, `${model} turn 2`);

      const got = await fetch(`${url}/v1/responses/${r2.id}`);
      assert.equal(got.status, 200);
      assertValid(validResponse, await got.json(), `${model} GET`);
      for (const query of ["", "?order=asc", "?limit=1"]) {
        const list = await fetch(`${url}/v1/responses/${r2.id}/input_items${query}`);
        assert.equal(list.status, 200);
        const items = await list.json();
        assertValid(validItemList, items, `${model} input_items${query}`);
        if (query === "") assert.equal(items.data.length, 3);
      }
      const first = await (await fetch(`${url}/v1/responses/${r1.id}/input_items`)).json();
      assertValid(validItemList, first, `${model} input_items of a string input`);
      const del = await fetch(`${url}/v1/responses/${r2.id}`, { method: "DELETE" });
      assert.equal(del.status, 200);
      assertValid(validDeleted, await del.json(), `${model} DELETE`);
    }
  });
});

/** Upstreams that always stop at the token limit: OpenAI chat and Anthropic Messages, JSON and SSE. */
function lengthUpstreams() {
  const openaiStream = scriptedUpstream({
    steps: [
      chunk({ role: "assistant", content: "Once upon" }),
      chunk({ content: " a time" }),
      chunk({}, "length"),
      usageChunk(5, 4),
      sse("[DONE]"),
    ],
  });
  const openaiJson = scriptedUpstream({
    contentType: "application/json",
    steps: [JSON.stringify({
      id: "chatcmpl-len",
      object: "chat.completion",
      created: 1,
      model: "m",
      choices: [{
        index: 0,
        message: { role: "assistant", content: "Once upon a time" },
        finish_reason: "length",
      }],
      usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
    })],
  });
  const ev = (type: string, data: Json) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  const message = {
    id: "msg_len",
    type: "message",
    role: "assistant",
    model: "claude-x",
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 5, output_tokens: 1 },
  };
  const anthropicStream = scriptedUpstream({
    steps: [
      ev("message_start", { type: "message_start", message }),
      ev("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      }),
      ev("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: "Once upon a time" },
      }),
      ev("content_block_stop", { type: "content_block_stop", index: 0 }),
      ev("message_delta", {
        type: "message_delta",
        delta: { stop_reason: "max_tokens", stop_sequence: null },
        usage: { output_tokens: 4 },
      }),
      ev("message_stop", { type: "message_stop" }),
    ],
  });
  const anthropicJson = scriptedUpstream({
    contentType: "application/json",
    steps: [JSON.stringify({
      ...message,
      content: [{ type: "text", text: "Once upon a time" }],
      stop_reason: "max_tokens",
      usage: { input_tokens: 5, output_tokens: 4 },
    })],
  });
  return { openaiStream, openaiJson, anthropicStream, anthropicJson };
}

Deno.test("an answer stopped by max_output_tokens is an incomplete Response, valid JSON and stream", async () => {
  const up = lengthUpstreams();
  const provider = (url: string, type: "openai" | "anthropic") => ({
    type,
    baseUrl: `${url}/v1`,
    timeouts: { firstTokenMs: 2_000, totalMs: 10_000 },
  });
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      ostream: provider(up.openaiStream.url, "openai"),
      ojson: provider(up.openaiJson.url, "openai"),
      astream: provider(up.anthropicStream.url, "anthropic"),
      ajson: provider(up.anthropicJson.url, "anthropic"),
    },
  });
  try {
    for (
      const [json, stream] of [["ojson/m", "ostream/m"], ["ajson/claude-x", "astream/claude-x"]]
    ) {
      const body = { input: "Tell a story", max_output_tokens: 4 };
      const answer = await jsonAnswer(gw.url, { ...body, model: json }, json);
      assert.equal(answer.status, "incomplete", json);
      assert.deepEqual(answer.incomplete_details, { reason: "max_output_tokens" }, json);
      const events = await streamAnswer(gw.url, { ...body, model: stream }, stream);
      const last = events.at(-1)!;
      assert.equal(last.event, "response.incomplete", stream);
      const response = last.data.response as Json;
      assert.equal(response.status, "incomplete", stream);
      assert.deepEqual(response.incomplete_details, { reason: "max_output_tokens" }, stream);
    }
  } finally {
    await gw.shutdown(2_000);
    for (const u of Object.values(up)) await u.close();
  }
});

Deno.test("a stream cut mid-answer with no candidate left ends with a valid response.failed", async () => {
  const mock = await startMockUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      oai: mockProvider(mock.url, "oai", "openai"),
      anthro: mockProvider(mock.url, "anthro", "anthropic"),
    },
  });
  try {
    for (const [target, model] of [["oai", "oai/gpt-4o-mini"], ["anthro", "anthro/claude-x"]]) {
      mock.setFaults(target, [{ kind: "cut", afterChunks: 2 }]);
      const events = await streamAnswer(gw.url, { model, input: "hello" }, `${model} cut`);
      const last = events.at(-1)!;
      assert.equal(last.event, "response.failed", model);
      const response = last.data.response as { status: string; error: { code: string } };
      assert.equal(response.status, "failed", model);
      assert.equal(response.error.code, "server_error", model);
      assert.ok(events.some((e) => e.event === "response.output_text.delta"), model);
    }
  } finally {
    await gw.shutdown(2_000);
    await mock.close();
  }
});

Deno.test("the schemas reject answers missing what the spec requires (they can fail)", () => {
  const response: Json = {
    id: "resp_1",
    object: "response",
    created_at: 1,
    status: "completed",
    error: null,
    incomplete_details: null,
    instructions: null,
    model: "m",
    output: [{
      type: "message",
      id: "msg_1",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "hi", annotations: [], logprobs: [] }],
    }],
    parallel_tool_calls: true,
    metadata: {},
    tool_choice: "auto",
    tools: [],
    temperature: null,
    top_p: null,
  };
  assertValid(validResponse, response, "the minimal valid Response");
  const { parallel_tool_calls: _, ...noParallel } = response;
  assert.equal(validResponse(noParallel), false);
  assert.match(ajv.errorsText(validResponse.errors), /parallel_tool_calls/);
  const noLogprobs = structuredClone(response);
  delete (noLogprobs.output as { content: Json[] }[])[0].content[0].logprobs;
  assert.equal(validResponse(noLogprobs), false);
  assert.match(ajv.errorsText(validResponse.errors), /logprobs/);
  const noStatus = structuredClone(response);
  delete (noStatus.output as Json[])[0].status;
  assert.equal(validResponse(noStatus), false);
  const usage = {
    input_tokens: 1,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 1,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 2,
  };
  assert.equal(validResponse({ ...response, usage }), false);
  assert.match(ajv.errorsText(validResponse.errors), /cache_write_tokens/);
  assert.equal(validEvent({ type: "response.output_text.delta", sequence_number: 0 }), false);
  assert.equal(validEvent({ type: "response.made_up", sequence_number: 0 }), false);
  assert.equal(
    validItemList({ object: "list", data: [], has_more: false, first_id: null, last_id: null }),
    false,
  );
});
