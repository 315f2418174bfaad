// Converse ⇄ canonical translation for the Bedrock drop-in route: requests in, answers and
// stream events out, errors named as Bedrock names them; plus round trips through the Bedrock
// adapter (what the route receives, the adapter would send upstream unchanged).
import assert from "node:assert/strict";
import { ConverseInputError, converseToChat } from "../../../src/formats/bedrock/request.ts";
import { validateChatRequest } from "../../../src/openai/validate.ts";
import { converseBody } from "../../../src/providers/bedrock/adapter.ts";

const PNG = "iVBORw0KGgo=";

const toolConversation = {
  system: [{ text: "Be brief." }, { cachePoint: { type: "default" } }],
  messages: [
    {
      role: "user",
      content: [
        { text: "Weather in Paris? Here is the sky:" },
        { image: { format: "png", source: { bytes: PNG } } },
      ],
    },
    {
      role: "assistant",
      content: [
        { text: "Checking." },
        { toolUse: { toolUseId: "tu_1", name: "weather", input: { city: "Paris" } } },
      ],
    },
    {
      role: "user",
      content: [
        { toolResult: { toolUseId: "tu_1", content: [{ text: "18 C" }] } },
        { text: "Thanks, and tomorrow?" },
      ],
    },
  ],
  inferenceConfig: { maxTokens: 300, temperature: 0.3, topP: 0.8, stopSequences: ["END"] },
  toolConfig: {
    tools: [{
      toolSpec: {
        name: "weather",
        description: "Weather by city",
        inputSchema: { json: { type: "object", properties: { city: { type: "string" } } } },
      },
    }],
    toolChoice: { auto: {} },
  },
};

Deno.test("converseToChat: a tool conversation becomes the canonical request", () => {
  const chat = converseToChat(toolConversation, {
    model: "aws/claude",
    stream: true,
    fallbacks: ["oai/gpt-4o-mini"],
  });
  assert.deepEqual(chat, {
    model: "aws/claude",
    fallbacks: ["oai/gpt-4o-mini"],
    stream: true,
    messages: [
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "Weather in Paris? Here is the sky:" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        ],
      },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [{
          id: "tu_1",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Paris"}' },
        }],
      },
      { role: "tool", tool_call_id: "tu_1", content: "18 C" },
      { role: "user", content: [{ type: "text", text: "Thanks, and tomorrow?" }] },
    ],
    max_tokens: 300,
    temperature: 0.3,
    top_p: 0.8,
    stop: ["END"],
    tools: [{
      type: "function",
      function: {
        name: "weather",
        description: "Weather by city",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    }],
    tool_choice: "auto",
  });
  assert.ok(validateChatRequest(chat).ok, "the result passes the gateway's own validation");
});

Deno.test("converseToChat → Bedrock adapter gives back the same Converse body", () => {
  const chat = validateChatRequest(
    converseToChat(toolConversation, { model: "a/b", stream: false }),
  );
  assert.ok(chat.ok);
  const { system: _withCachePoint, ...rest } = toolConversation;
  assert.deepEqual(converseBody(chat.value), { ...rest, system: [{ text: "Be brief." }] });
});

Deno.test("converseToChat: tool choice any/tool, json tool results, s3 images, guard content", () => {
  const chat = converseToChat({
    messages: [
      {
        role: "user",
        content: [
          { guardContent: { text: { text: "guarded" } } },
          { image: { format: "jpeg", source: { s3Location: { uri: "s3://b/k.jpg" } } } },
        ],
      },
      { role: "assistant", content: [{ toolUse: { toolUseId: "t", name: "f", input: {} } }] },
      {
        role: "user",
        content: [{ toolResult: { toolUseId: "t", content: [{ json: { ok: true } }] } }],
      },
    ],
    toolConfig: { tools: [{ toolSpec: { name: "f" } }], toolChoice: { any: {} } },
  }, { model: "a/b", stream: false });
  const messages = chat.messages as unknown[];
  assert.deepEqual(messages[0], {
    role: "user",
    content: [
      { type: "text", text: "guarded" },
      { type: "image_url", image_url: { url: "s3://b/k.jpg" } },
    ],
  });
  assert.deepEqual(messages[1], {
    role: "assistant",
    content: null,
    tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: "{}" } }],
  });
  assert.deepEqual(messages[2], { role: "tool", tool_call_id: "t", content: '{"ok":true}' });
  assert.equal(chat.tool_choice, "required");
  assert.deepEqual(chat.tools, [{ type: "function", function: { name: "f" } }]);
  const specific = converseToChat({
    messages: [{ role: "user", content: [{ text: "x" }] }],
    toolConfig: { tools: [{ toolSpec: { name: "f" } }], toolChoice: { tool: { name: "f" } } },
  }, { model: "a/b", stream: false });
  assert.deepEqual(specific.tool_choice, { type: "function", function: { name: "f" } });
});

Deno.test("converseToChat: what the gateway cannot take is a clear input error", () => {
  const rows: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{ messages: [] }, /at least one message/],
    [
      {
        messages: [{ role: "user", content: [{ text: "x" }] }],
        guardrailConfig: { guardrailIdentifier: "g", guardrailVersion: "1" },
      },
      /guardrailConfig is not supported/,
    ],
    [{ messages: [{ role: "system", content: [] }] }, /role must be user or assistant/],
    [{ messages: [{ role: "user", content: "hi" }] }, /list of content blocks/],
    [
      { messages: [{ role: "user", content: [{ document: { format: "pdf" } }] }] },
      /document blocks are not supported/,
    ],
    [
      { messages: [{ role: "user", content: [{ toolUse: { toolUseId: "t", name: "f" } }] }] },
      /belongs in an assistant message/,
    ],
    [
      { messages: [{ role: "user", content: [{ image: { format: "bmp", source: {} } }] }] },
      /png, jpeg, gif or webp/,
    ],
    [
      {
        messages: [{ role: "user", content: [{ text: "x" }] }],
        toolConfig: { tools: [{ toolSpec: { name: "f" } }], toolChoice: { none: {} } },
      },
      /toolChoice must be auto, any or tool/,
    ],
  ];
  for (const [body, why] of rows) {
    assert.throws(
      () => converseToChat(body, { model: "a/b", stream: false }),
      (e: Error) => e instanceof ConverseInputError && why.test(e.message),
      String(why),
    );
  }
});
