// Anthropic Messages ⇄ canonical OpenAI translation, table-driven: request bodies, answers, error
// mapping and the stream encoder's event order.
import assert from "node:assert/strict";
import { anthropicToChat } from "../../../src/formats/anthropic/request.ts";
import { parseFallbacksHeader } from "../../../src/http/call.ts";
import type { ChatRequest } from "../../../src/openai/types.ts";

const base = { model: "anthro/claude-x", max_tokens: 100 };
const hello = [{ role: "user", content: "hello" }];

function ok(body: unknown, header: string[] = []): ChatRequest {
  const r = anthropicToChat(body, header);
  if (!r.ok) throw new Error(`expected a translation, got: ${r.message}`);
  return r.value;
}

Deno.test("request: scalar fields map to their OpenAI names; top_k is dropped", () => {
  const cases: { name: string; body: Record<string, unknown>; want: Partial<ChatRequest> }[] = [
    {
      name: "minimal",
      body: { ...base, messages: hello },
      want: {
        model: "anthro/claude-x",
        max_tokens: 100,
        messages: [{ role: "user", content: "hello" }],
      },
    },
    {
      name: "sampling and stop",
      body: {
        ...base,
        messages: hello,
        temperature: 0.3,
        top_p: 0.9,
        top_k: 40,
        stop_sequences: ["END", "STOP"],
        stream: true,
        metadata: { user_id: "u-42" },
      },
      want: {
        model: "anthro/claude-x",
        max_tokens: 100,
        messages: [{ role: "user", content: "hello" }],
        temperature: 0.3,
        top_p: 0.9,
        stop: ["END", "STOP"],
        stream: true,
        user: "u-42",
      },
    },
    {
      name: "system as a string",
      body: { ...base, system: "Be brief.", messages: hello },
      want: {
        model: "anthro/claude-x",
        max_tokens: 100,
        messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hello" }],
      },
    },
    {
      name: "system as text blocks (cache_control ignored)",
      body: {
        ...base,
        system: [
          { type: "text", text: "Be brief." },
          { type: "text", text: "Be kind.", cache_control: { type: "ephemeral" } },
        ],
        messages: hello,
      },
      want: {
        model: "anthro/claude-x",
        max_tokens: 100,
        messages: [
          { role: "system", content: "Be brief.\nBe kind." },
          { role: "user", content: "hello" },
        ],
      },
    },
  ];
  for (const c of cases) assert.deepEqual(ok(c.body), c.want, c.name);
});

Deno.test("request: fallbacks come from the body, else from the header", () => {
  const body = { ...base, messages: hello };
  assert.deepEqual(ok({ ...body, fallbacks: ["oai/gpt-4o-mini"] }, ["x/y"]).fallbacks, [
    "oai/gpt-4o-mini",
  ]);
  assert.deepEqual(ok(body, ["x/y", "z/w"]).fallbacks, ["x/y", "z/w"]);
  assert.equal(ok(body).fallbacks, undefined);
  assert.deepEqual(parseFallbacksHeader(" a/b ,c/d,, "), ["a/b", "c/d"]);
  assert.deepEqual(parseFallbacksHeader(undefined), []);
});

Deno.test("request: images become image_url parts (base64 → data: URL)", () => {
  const r = ok({
    ...base,
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        {
          type: "image",
          source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" },
        },
        { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
      ],
    }],
  });
  assert.deepEqual(r.messages, [{
    role: "user",
    content: [
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
    ],
  }]);
});

Deno.test("request: a tool conversation becomes tool_calls and tool messages in order", () => {
  const r = ok({
    ...base,
    tools: [{
      name: "get_weather",
      description: "Weather for a city",
      input_schema: { type: "object", properties: { city: { type: "string" } } },
    }],
    tool_choice: { type: "tool", name: "get_weather", disable_parallel_tool_use: true },
    messages: [
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "…", signature: "sig" },
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_2", name: "get_weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "18°C" },
          {
            type: "tool_result",
            tool_use_id: "toolu_2",
            content: [{ type: "text", text: "21°C" }, { type: "text", text: "sunny" }],
          },
          { type: "text", text: "Which is warmer?" },
        ],
      },
    ],
  });
  assert.deepEqual(r.tools, [{
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  }]);
  assert.deepEqual(r.tool_choice, { type: "function", function: { name: "get_weather" } });
  assert.equal(r.parallel_tool_calls, false);
  assert.deepEqual(r.messages, [
    { role: "user", content: "Weather in Paris and Rome?" },
    {
      role: "assistant",
      content: "Checking.",
      tool_calls: [
        {
          id: "toolu_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        },
        {
          id: "toolu_2",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Rome"}' },
        },
      ],
    },
    { role: "tool", tool_call_id: "toolu_1", content: "18°C" },
    { role: "tool", tool_call_id: "toolu_2", content: "21°C\nsunny" },
    { role: "user", content: "Which is warmer?" },
  ]);
});

Deno.test("request: an assistant turn of tool calls only has null content", () => {
  const r = ok({
    ...base,
    messages: [
      ...hello,
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1" }] },
    ],
  });
  assert.deepEqual(r.messages.slice(1), [
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "{}" } }],
    },
    { role: "tool", tool_call_id: "t1", content: "" },
  ]);
});

Deno.test("request: images inside a tool_result follow the tool message as a user message", () => {
  const r = ok({
    ...base,
    messages: [
      ...hello,
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "shot", input: {} }] },
      {
        role: "user",
        content: [{
          type: "tool_result",
          tool_use_id: "t1",
          content: [
            { type: "text", text: "screenshot:" },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "AAA" } },
          ],
        }],
      },
    ],
  });
  assert.deepEqual(r.messages.slice(2), [
    { role: "tool", tool_call_id: "t1", content: "screenshot:" },
    {
      role: "user",
      content: [{ type: "image_url", image_url: { url: "data:image/jpeg;base64,AAA" } }],
    },
  ]);
});

Deno.test("request: tool_choice auto/any/none map to auto/required/none", () => {
  const cases = [
    [{ type: "auto" }, "auto"],
    [{ type: "any" }, "required"],
    [{ type: "none" }, "none"],
  ] as const;
  for (const [choice, want] of cases) {
    const r = ok({ ...base, messages: hello, tool_choice: choice });
    assert.equal(r.tool_choice, want);
    assert.equal(r.parallel_tool_calls, undefined);
  }
});

Deno.test("request: system-role messages and output_config.format translate", () => {
  const r = ok({
    ...base,
    messages: [{ role: "system", content: "Answer in JSON." }, ...hello],
    output_config: { format: { type: "json_schema", schema: { type: "object" } } },
  });
  assert.deepEqual(r.messages[0], { role: "system", content: "Answer in JSON." });
  assert.deepEqual(r.response_format, {
    type: "json_schema",
    json_schema: { name: "output", schema: { type: "object" } },
  });
});

Deno.test("request: what cannot be translated is refused naming the field", () => {
  const cases: { name: string; body: unknown; param: string; match: RegExp }[] = [
    { name: "not an object", body: [1], param: "", match: /JSON object/ },
    {
      name: "max_tokens missing",
      body: { model: "a/b", messages: hello },
      param: "max_tokens",
      match: /max_tokens/,
    },
    {
      name: "model missing",
      body: { max_tokens: 5, messages: hello },
      param: "model",
      match: /model/,
    },
    {
      name: "no messages",
      body: { ...base, messages: [] },
      param: "messages",
      match: /at least one/,
    },
    {
      name: "temperature above Anthropic's 1",
      body: { ...base, messages: hello, temperature: 1.5 },
      param: "temperature",
      match: /temperature/,
    },
    {
      name: "unknown role",
      body: { ...base, messages: [{ role: "robot", content: "x" }] },
      param: "messages[0].role",
      match: /role/,
    },
    {
      name: "document block",
      body: {
        ...base,
        messages: [{
          role: "user",
          content: [{ type: "document", source: { type: "url", url: "https://x/y.pdf" } }],
        }],
      },
      param: "messages[0].content[0].type",
      match: /"document" is not supported/,
    },
    {
      name: "image from the Files API",
      body: {
        ...base,
        messages: [{
          role: "user",
          content: [{ type: "image", source: { type: "file", file_id: "f1" } }],
        }],
      },
      param: "messages[0].content[0].source.type",
      match: /Files API/,
    },
    {
      name: "image without a source",
      body: { ...base, messages: [{ role: "user", content: [{ type: "image" }] }] },
      param: "messages[0].content[0].source",
      match: /source/,
    },
    {
      name: "server tool",
      body: {
        ...base,
        messages: hello,
        tools: [{ type: "web_search_20250305", name: "web_search" }],
      },
      param: "tools[0].type",
      match: /server tool "web_search_20250305"/,
    },
    {
      name: "custom tool without input_schema",
      body: { ...base, messages: hello, tools: [{ name: "f" }] },
      param: "tools[0].input_schema",
      match: /input_schema/,
    },
    {
      name: "tool_use in a user turn",
      body: {
        ...base,
        messages: [{
          role: "user",
          content: [{ type: "tool_use", id: "t", name: "f", input: {} }],
        }],
      },
      param: "messages[0].content[0].type",
      match: /assistant messages/,
    },
    {
      name: "tool_result in an assistant turn",
      body: {
        ...base,
        messages: [{ role: "assistant", content: [{ type: "tool_result", tool_use_id: "t" }] }],
      },
      param: "messages[0].content[0].type",
      match: /user messages/,
    },
    {
      name: "too many fallbacks",
      body: { ...base, messages: hello, fallbacks: Array(11).fill("a/b") },
      param: "fallbacks",
      match: /fallbacks/,
    },
  ];
  for (const c of cases) {
    const r = anthropicToChat(c.body);
    assert.equal(r.ok, false, c.name);
    if (r.ok) continue;
    assert.equal(r.param ?? "", c.param, c.name);
    assert.match(r.message, c.match, c.name);
  }
});

// ---------------------------------------------------------------------------------------------
