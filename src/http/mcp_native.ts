// MCP tools on a call that came in on POST /v1/responses and may take the native Responses API
// passthrough (src/providers/openai/responses_api.ts). The passthrough sends the client's body,
// not the canonical request, so what the MCP layer changes on the canonical request is mirrored
// on that body: the added tools as flat Responses function tools, and, in the auto loop, each
// step's tool calls and results as function_call / function_call_output input items (with the
// decoded messages key moved on, so the passthrough still sees "unchanged by a plugin"). A
// request whose messages a plugin already changed is left alone: it is translated, as before.
import type { ChatMessage, ChatRequest, ToolDefinition } from "../openai/types.ts";
import { NATIVE_RESPONSES, nativeResponsesOf } from "../providers/openai/responses_api.ts";

type Json = Record<string, unknown>;

/** `req` with `added` also on its native Responses body as flat function tools. */
export function nativeWithTools(req: ChatRequest, added: ToolDefinition[]): ChatRequest {
  const n = nativeResponsesOf(req);
  if (!n || added.length === 0) return req;
  const flat = added.map((t) => ({
    type: "function",
    name: t.function.name,
    ...(t.function.description !== undefined && { description: t.function.description }),
    parameters: t.function.parameters ?? { type: "object", properties: {} },
  }));
  const tools = Array.isArray(n.body.tools) ? n.body.tools as unknown[] : [];
  return { ...req, [NATIVE_RESPONSES]: { ...n, body: { ...n.body, tools: [...tools, ...flat] } } };
}

/** The Responses input items of the loop's own messages (assistant tool calls, tool results). */
function itemsOf(messages: ChatMessage[]): Json[] {
  const items: Json[] = [];
  for (const m of messages) {
    if (m.role === "assistant") {
      if (typeof m.content === "string" && m.content) {
        items.push({ type: "message", role: "assistant", content: m.content });
      }
      for (const c of m.tool_calls ?? []) {
        items.push({
          type: "function_call",
          call_id: c.id,
          name: c.function.name,
          arguments: c.function.arguments,
        });
      }
    } else if (m.role === "tool") {
      items.push({ type: "function_call_output", call_id: m.tool_call_id, output: m.content });
    }
  }
  return items;
}

/**
 * A step of the auto loop on `messages` (those of `req` and the loop's own after them), with the
 * native body carrying the loop's items too when `req` would have taken the passthrough.
 */
export function nativeStep(req: ChatRequest, messages: ChatMessage[]): ChatRequest {
  const step: ChatRequest = { ...req, messages };
  const n = nativeResponsesOf(req);
  if (!n || JSON.stringify(req.messages) !== n.messagesKey) return step;
  const input = Array.isArray(n.body.input) ? n.body.input as unknown[] : [];
  const added = itemsOf(messages.slice(req.messages.length));
  return {
    ...step,
    [NATIVE_RESPONSES]: {
      ...n,
      body: { ...n.body, input: [...input, ...added] },
      messagesKey: JSON.stringify(messages),
    },
  };
}
