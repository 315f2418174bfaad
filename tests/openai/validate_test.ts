import assert from "node:assert/strict";
import {
  ChatRequestSchema,
  isPlainChatRequest,
  validateChatRequest,
} from "../../src/openai/validate.ts";

const hi = [{ role: "user", content: "hi" }];
const base = { model: "openai/gpt-4o-mini", messages: hi };

Deno.test("bad bodies are refused with a message and param naming the field", async (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    [
      "unknown role",
      { ...base, messages: [{ role: "robot", content: "x" }] },
      "messages[0].role",
      /expected one of "system"\|"developer"\|"user"\|"assistant"\|"tool"/,
    ],
    ["temperature too high", { ...base, temperature: 3 }, "temperature", /<=2/],
    ["temperature not a number", { ...base, temperature: "hot" }, "temperature", /number/],
    ["stream not boolean", { ...base, stream: "yes" }, "stream", /boolean/],
    ["empty messages", { ...base, messages: [] }, "messages", /at least one message/],
    ["messages missing", { model: "openai/gpt-4o" }, "messages", /array/],
    ["model missing", { messages: hi }, "model", /string/],
    ["model empty", { ...base, model: "" }, "model", /model is required/],
    [
      "tool message without tool_call_id",
      { ...base, messages: [{ role: "tool", content: "42" }] },
      "messages[0].tool_call_id",
      /a tool message needs tool_call_id/,
    ],
    [
      "user message without content",
      { ...base, messages: [...hi, { role: "user" }] },
      "messages[1].content",
      /content is required/,
    ],
    [
      "assistant without content nor tool_calls",
      { ...base, messages: [{ role: "assistant", content: null }] },
      "messages[0].content",
      /content is required/,
    ],
    [
      "unknown content part",
      { ...base, messages: [{ role: "user", content: [{ type: "audio", data: "…" }] }] },
      "messages[0].content[0].type",
      /Expected 'text' \| 'image_url'/,
    ],
    ["fallback not a string", { ...base, fallbacks: ["a/b", 3] }, "fallbacks[1]", /string/],
    [
      "too many fallbacks",
      { ...base, fallbacks: Array.from({ length: 11 }, (_, i) => `p/m${i}`) },
      "fallbacks",
      /10/,
    ],
    ["negative max_tokens", { ...base, max_tokens: -1 }, "max_tokens", />=0/],
    ["fractional n", { ...base, n: 1.5 }, "n", /int/],
    ["top_p over 1", { ...base, top_p: 1.1 }, "top_p", /<=1/],
    ["five stop sequences", { ...base, stop: ["a", "b", "c", "d", "e"] }, "stop", /Invalid/],
    ["unknown tool_choice", { ...base, tool_choice: "sometimes" }, "tool_choice", /Invalid/],
    [
      "tool without a name",
      { ...base, tools: [{ type: "function", function: { name: "" } }] },
      "tools[0].function.name",
      /Too small/,
    ],
    [
      "tool call without arguments",
      {
        ...base,
        messages: [{
          role: "assistant",
          tool_calls: [{ id: "c1", type: "function", function: { name: "f" } }],
        }],
      },
      "messages[0].tool_calls[0].function.arguments",
      /string/,
    ],
  ];
  for (const [name, body, param, message] of cases) {
    await t.step(name, () => {
      const r = validateChatRequest(body);
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.param ?? "", param);
      assert.ok(r.message.startsWith(`${param}: `), r.message);
      assert.match(r.message, message);
    });
  }
});

Deno.test("a body that is not a JSON object is refused with an empty param", () => {
  for (const body of [null, [], "hello", 42, true]) {
    const r = validateChatRequest(body);
    assert.equal(r.ok, false, JSON.stringify(body));
    if (r.ok) return;
    assert.equal(r.param ?? "", "");
    assert.match(r.message, /must be a JSON object/);
  }
});

Deno.test("good bodies pass, and unknown OpenAI fields are kept for the upstream", () => {
  const body = {
    ...base,
    fallbacks: ["claude/claude-3-5-haiku"],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.2,
    max_tokens: null,
    logprobs: true,
    top_logprobs: 3,
    parallel_tool_calls: false,
    metadata: { team: "search" },
    messages: [
      { role: "system", content: "be brief" },
      { role: "developer", content: "use tools" },
      {
        role: "user",
        content: [
          { type: "text", text: "what is this?" },
          { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "low" } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: "42" },
    ],
    tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
    tool_choice: { type: "function", function: { name: "f" } },
  };
  const r = validateChatRequest(body);
  assert.equal(r.ok, true, JSON.stringify(r));
  if (!r.ok) return;
  const v = r.value as unknown as Record<string, unknown>;
  assert.equal(v.logprobs, true);
  assert.equal(v.top_logprobs, 3);
  assert.equal(v.parallel_tool_calls, false);
  assert.deepEqual(v.metadata, { team: "search" });
  assert.deepEqual(r.value.messages, body.messages);
  assert.deepEqual(r.value.fallbacks, ["claude/claude-3-5-haiku"]);
});

Deno.test("the minimal body passes unchanged", () => {
  const r = validateChatRequest(base);
  assert.deepEqual(r, { ok: true, value: base });
});

Deno.test("unknown keys inside content parts are accepted and not kept for the upstream", () => {
  // The OpenAI Agents SDK replays a text part with keys of its own after a text+tool-call turn.
  const body = {
    ...base,
    messages: [
      { role: "user", content: [{ type: "text", text: "hi", annotations: [], cache: 1 }] },
      {
        role: "assistant",
        content: [{ type: "text", text: "calling", annotations: [], logprobs: [] }],
        tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "c1", content: [{ type: "text", text: "42", extra: true }] },
      {
        role: "user",
        content: [{
          type: "image_url",
          image_url: { url: "https://example.com/a.png", detail: "high", format: "png" },
          note: "x",
        }],
      },
    ],
  };
  const r = validateChatRequest(body);
  assert.equal(r.ok, true, JSON.stringify(r));
  if (!r.ok) return;
  assert.deepEqual(r.value.messages.map((m) => m.content), [
    [{ type: "text", text: "hi" }],
    [{ type: "text", text: "calling" }],
    [{ type: "text", text: "42" }],
    [{ type: "image_url", image_url: { url: "https://example.com/a.png", detail: "high" } }],
  ]);
});

Deno.test("a content part with extra keys and a wrong type still names the field", () => {
  const r = validateChatRequest({
    ...base,
    messages: [{ role: "user", content: [{ type: "text", text: 42, annotations: [] }] }],
  });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.param, "messages[0].content[0].text");
  assert.match(r.message, /^messages\[0\]\.content\[0\]\.text: .*string/);
});

Deno.test("the hand-checked common body: what zod would give back, and only bodies zod accepts", () => {
  const plain = [
    { model: "p/m", messages: [{ role: "user", content: "hi" }] },
    {
      model: "p/m",
      messages: [
        { role: "system", content: "be brief", name: "sys" },
        { role: "developer", content: "" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "hi" },
      ],
      stream: true,
      max_tokens: 16,
      max_completion_tokens: null,
      temperature: 0.2,
      top_p: 1,
      user: "u1",
      metadata: { any: "thing" },
    },
  ];
  for (const body of plain) {
    assert.equal(isPlainChatRequest(body), true, JSON.stringify(body));
    const r = validateChatRequest(structuredClone(body));
    assert.ok(r.ok);
    assert.deepEqual(r.value, ChatRequestSchema.parse(structuredClone(body)));
  }
  const leftToZod = [
    { model: "", messages: [{ role: "user", content: "hi" }] },
    { model: "p/m", messages: [] },
    { model: "p/m", messages: [{ role: "tool", content: "x", tool_call_id: "t" }] },
    { model: "p/m", messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] },
    { model: "p/m", messages: [{ role: "user", content: "hi", extra: 1 }] },
    { model: "p/m", messages: [{ role: "user", content: "hi" }], temperature: 3 },
    { model: "p/m", messages: [{ role: "user", content: "hi" }], max_tokens: 1.5 },
    { model: "p/m", messages: [{ role: "user", content: "hi" }], stream: "yes" },
    { model: "p/m", messages: [{ role: "user", content: "hi" }], fallbacks: ["a/b"] },
    { model: "p/m", messages: [{ role: "user", content: "hi" }], n: 2 },
  ];
  for (const body of leftToZod) assert.equal(isPlainChatRequest(body), false, JSON.stringify(body));
  const bad = validateChatRequest({
    model: "p/m",
    messages: [{ role: "user", content: "hi" }],
    temperature: 3,
  });
  assert.ok(!bad.ok && bad.param === "temperature", "errors still come from zod, naming the field");
});
