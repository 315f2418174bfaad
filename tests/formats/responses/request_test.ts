import assert from "node:assert/strict";
import {
  itemsToMessages,
  parseResponsesBody,
  responsesToChat,
} from "../../../src/formats/responses/request.ts";
import { nativeResponsesOf } from "../../../src/providers/openai/responses_api.ts";

function decode(body: Record<string, unknown>, history?: Record<string, unknown>[]) {
  const parsed = parseResponsesBody({ model: "p/m", ...body });
  if (!parsed.ok) return parsed;
  return responsesToChat(parsed.value, { history });
}

Deno.test("a string input is one user message; instructions come first as a system one", () => {
  const r = decode({ input: "hi", instructions: "Be brief." });
  assert.ok(r.ok);
  assert.deepEqual(r.value.request.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "hi" },
  ]);
  assert.deepEqual(r.value.input, [{ type: "message", role: "user", content: "hi" }]);
});

Deno.test("items translate: roles, parts, images, function calls and outputs, reasoning dropped", () => {
  const r = decode({
    input: [
      { role: "developer", content: "rules" },
      {
        type: "message",
        role: "user",
        content: [
          { type: "input_text", text: "look" },
          { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" },
        ],
      },
      { type: "reasoning", id: "rs_1", summary: [] },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "calling" }] },
      { type: "function_call", call_id: "c1", name: "f", arguments: '{"a":1}' },
      { type: "function_call", call_id: "c2", name: "g", arguments: "{}" },
      { type: "function_call_output", call_id: "c1", output: "one" },
      {
        type: "function_call_output",
        call_id: "c2",
        output: [{ type: "input_text", text: "two" }],
      },
    ],
  });
  assert.ok(r.ok, JSON.stringify(r));
  assert.deepEqual(r.value.request.messages, [
    { role: "system", content: "rules" },
    {
      role: "user",
      content: [
        { type: "text", text: "look" },
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
      ],
    },
    {
      role: "assistant",
      content: "calling",
      tool_calls: [
        { id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } },
        { id: "c2", type: "function", function: { name: "g", arguments: "{}" } },
      ],
    },
    { role: "tool", tool_call_id: "c1", content: "one" },
    { role: "tool", tool_call_id: "c2", content: "two" },
  ]);
});

Deno.test("settings map to chat: tools, tool_choice, limits, reasoning, text.format", () => {
  const r = decode({
    input: "hi",
    tools: [{
      type: "function",
      name: "get_weather",
      description: "d",
      parameters: { type: "object" },
      strict: true,
    }],
    tool_choice: { type: "function", name: "get_weather" },
    parallel_tool_calls: false,
    max_output_tokens: 50,
    temperature: 0.5,
    top_p: 0.9,
    reasoning: { effort: "low" },
    text: {
      format: { type: "json_schema", name: "out", schema: { type: "object" }, strict: true },
    },
    user: "u1",
    metadata: { a: "b" },
    store: true,
    stream: true,
    fallbacks: ["q/n"],
  });
  assert.ok(r.ok, JSON.stringify(r));
  const req = r.value.request;
  assert.deepEqual(req.tools, [{
    type: "function",
    function: {
      name: "get_weather",
      description: "d",
      parameters: { type: "object" },
      strict: true,
    },
  }]);
  assert.deepEqual(req.tool_choice, { type: "function", function: { name: "get_weather" } });
  assert.equal(req.parallel_tool_calls, false);
  assert.equal(req.max_tokens, 50);
  assert.equal(req.temperature, 0.5);
  assert.equal(req.top_p, 0.9);
  assert.equal(req.reasoning_effort, "low");
  assert.deepEqual(req.response_format, {
    type: "json_schema",
    json_schema: { name: "out", schema: { type: "object" }, strict: true },
  });
  assert.equal(req.user, "u1");
  assert.equal(req.stream, true);
  assert.deepEqual(req.fallbacks, ["q/n"]);
  // The gateway's own business, never sent upstream.
  assert.equal("metadata" in req, false);
  assert.equal("store" in req, false);
  const json = decode({ input: "hi", text: { format: { type: "json_object" } } });
  assert.ok(json.ok);
  assert.deepEqual(json.value.request.response_format, { type: "json_object" });
});

Deno.test("history comes between the instructions and the new input", () => {
  const r = decode({ input: "again", instructions: "sys" }, [
    { type: "message", role: "user", content: "first", id: "msg_1" },
    {
      type: "message",
      id: "msg_2",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: "answer", annotations: [] }],
    },
  ]);
  assert.ok(r.ok);
  assert.deepEqual(r.value.request.messages.map((m) => [m.role, m.content]), [
    ["system", "sys"],
    ["user", "first"],
    ["assistant", "answer"],
    ["user", "again"],
  ]);
});

Deno.test("refusals name the field", () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ input: 42 }, "input", /input/],
    [{ input: "x", tools: [{ type: "function" }] }, "tools[0].name", /name/],
    [
      { input: [{ role: "user", content: [{ type: "input_file" }] }] },
      "input[0].content[0].type",
      /input_file/,
    ],
    [
      { input: [{ role: "user", content: [{ type: "input_image", file_id: "f" }] }] },
      "input[0].content[0].image_url",
      /file_id/,
    ],
    [{ input: [{ type: "item_reference", id: "x" }] }, "input[0].type", /item_reference/],
    [
      { input: [{ type: "function_call", name: "f", arguments: "{}" }] },
      "input[0].call_id",
      /call_id/,
    ],
    [{ input: "x", tool_choice: { type: "function" } }, "tool_choice", /tool_choice/],
    [{ input: "x", temperature: "hot" }, "temperature", /temperature/],
    [{ input: [] }, "input", /at least one/],
    [
      {
        input: [{
          role: "assistant",
          content: [{ type: "input_image", image_url: "http://x/i.png" }],
        }],
      },
      "input[0].content",
      /text only/,
    ],
  ];
  for (const [body, param, message] of cases) {
    const r = decode(body);
    assert.equal(r.ok, false, JSON.stringify(body));
    if (r.ok) continue;
    assert.equal(r.status, 400);
    assert.equal(r.param, param, JSON.stringify(body));
    assert.match(r.message, message);
  }
  assert.equal(parseResponsesBody([]).ok, false);
});

Deno.test("itemsToMessages: a function_call with no assistant text before it opens its own turn", () => {
  const r = itemsToMessages([
    { role: "user", content: "q" },
    { type: "function_call", call_id: "c", name: "f", arguments: "{}" },
  ], "input");
  assert.ok(r.ok);
  assert.deepEqual(r.value[1], {
    role: "assistant",
    content: null,
    tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
  });
});

Deno.test("the native body: the client's, less the gateway's fields, with the whole conversation", () => {
  const parsed = parseResponsesBody({
    model: "nat/m",
    input: [
      { type: "function_call_output", call_id: "c1", output: "ok" },
      { type: "web_search_call", id: "ws_1", status: "completed" },
    ],
    tools: [{ type: "web_search" }, { type: "function", name: "f" }],
    tool_choice: { type: "web_search_preview" },
    include: ["reasoning.encrypted_content"],
    fallbacks: ["x/y"],
    store: true,
    stream: true,
    previous_response_id: "resp_1",
  });
  assert.ok(parsed.ok);
  const body = parsed.value;
  const history = [
    { type: "message", id: "msg_a_1", role: "user", content: "hi" },
    { type: "reasoning", id: "rs_a_2", summary: [] },
    { type: "reasoning", id: "rs_a_3", summary: [], encrypted_content: "e" },
    { type: "function_call", id: "fc_a_4", call_id: "c1", name: "f", arguments: "{}" },
  ];
  const r = responsesToChat(body, { history });
  assert.ok(r.ok);
  const native = nativeResponsesOf(r.value.request)!;
  assert.deepEqual(native.nativeOnly, [
    'tools[0].type "web_search"',
    'tool_choice.type "web_search_preview"',
  ]);
  assert.deepEqual(native.body, {
    input: [
      { type: "message", role: "user", content: "hi" },
      { type: "reasoning", summary: [], encrypted_content: "e" },
      { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
      { type: "function_call_output", call_id: "c1", output: "ok" },
      { type: "web_search_call", status: "completed" },
    ],
    tools: [{ type: "web_search" }, { type: "function", name: "f" }],
    tool_choice: { type: "web_search_preview" },
    include: ["reasoning.encrypted_content"],
  });
  assert.equal(native.messagesKey, JSON.stringify(r.value.request.messages));
  // The translation keeps the function tool only, and drops what has no chat equivalent.
  assert.deepEqual(r.value.request.tools?.map((t) => t.function.name), ["f"]);
  assert.equal(r.value.request.tool_choice, undefined);
  assert.deepEqual(r.value.request.messages.map((m) => m.role), ["user", "assistant", "tool"]);
});
