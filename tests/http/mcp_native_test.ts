import assert from "node:assert/strict";
import { nativeStep, nativeWithTools } from "../../src/http/mcp_native.ts";
import type { ChatMessage, ChatRequest, ToolDefinition } from "../../src/openai/types.ts";
import { NATIVE_RESPONSES } from "../../src/providers/openai/responses_api.ts";

const messages: ChatMessage[] = [{ role: "user", content: "Weather?" }];
const native = (msgs = messages) => ({
  body: { input: [{ type: "message", role: "user", content: "Weather?" }], tools: [] },
  messagesKey: JSON.stringify(msgs),
  nativeOnly: [],
});
const tool: ToolDefinition = {
  type: "function",
  function: { name: "wx__weather", description: "w", parameters: { type: "object" } },
};

Deno.test("nativeWithTools: flat function tools on the native body; none without one", () => {
  const req: ChatRequest = { model: "m", messages, [NATIVE_RESPONSES]: native() };
  const out = nativeWithTools(req, [tool]);
  assert.deepEqual((out[NATIVE_RESPONSES] as { body: { tools: unknown[] } }).body.tools, [
    { type: "function", name: "wx__weather", description: "w", parameters: { type: "object" } },
  ]);
  const plain: ChatRequest = { model: "m", messages };
  assert.equal(nativeWithTools(plain, [tool]), plain);
});

Deno.test("nativeStep: loop items appended and the key moved on; a plugin-changed request is left to translate", () => {
  const loop: ChatMessage[] = [
    ...messages,
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: "c1",
        type: "function",
        function: { name: "wx__weather", arguments: "{}" },
      }],
    },
    { role: "tool", tool_call_id: "c1", content: "Sunny" },
  ];
  const req: ChatRequest = { model: "m", messages, [NATIVE_RESPONSES]: native() };
  const step = nativeStep(req, loop);
  const n = step[NATIVE_RESPONSES] as ReturnType<typeof native>;
  assert.deepEqual(step.messages, loop);
  assert.equal(n.messagesKey, JSON.stringify(loop));
  assert.deepEqual(n.body.input.slice(1), [
    { type: "function_call", call_id: "c1", name: "wx__weather", arguments: "{}" },
    { type: "function_call_output", call_id: "c1", output: "Sunny" },
  ]);
  const changed: ChatRequest = {
    model: "m",
    messages,
    [NATIVE_RESPONSES]: native([{ role: "user", content: "rewritten" }]),
  };
  const kept = nativeStep(changed, loop);
  assert.equal(kept[NATIVE_RESPONSES], changed[NATIVE_RESPONSES]);
  assert.deepEqual(kept.messages, loop);
});
