// A canonical completion → an Anthropic Message (the JSON answer). Pure.
import { type Json, parseObject } from "../../lib/json.ts";
import type { ChatCompletion, FinishReason, Usage } from "../../openai/types.ts";

// ---------------------------------------------------------------------------------------------
// Response

export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

/**
 * OpenAI's finish_reason → Anthropic's stop_reason. OpenAI does not say which stop string
 * matched (nor whether one did), so "stop" is always end_turn and stop_sequence stays null.
 */
export function stopReason(finish: FinishReason | null | undefined): StopReason {
  switch (finish) {
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** OpenAI counts cached prompt tokens within prompt_tokens; Anthropic counts them apart. */
export function anthropicUsage(u: Usage | null | undefined): AnthropicUsage {
  const cached = u?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (u?.prompt_tokens ?? 0) - cached),
    output_tokens: u?.completion_tokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/** Message ids look like Anthropic's: an upstream `msg_…` id is kept, others get the prefix. */
export const messageId = (id: string) => (id.startsWith("msg_") ? id : `msg_${id}`);

/** Anthropic wants a tool's input as an object; arguments that are not one (cut off by
 * max_tokens, or not JSON) cannot be represented and become {}. */
function toolInput(args: string): Json {
  return parseObject(args) ?? {};
}

export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: (
    | { type: "text"; text: string }
    | { type: "tool_use"; id: string; name: string; input: Json }
  )[];
  stop_reason: StopReason;
  stop_sequence: null;
  usage: AnthropicUsage;
}

/** A canonical completion (first choice) as an Anthropic Message. */
export function chatToAnthropic(c: ChatCompletion): AnthropicMessage {
  const choice = c.choices[0];
  const content: AnthropicMessage["content"] = [];
  const text = choice?.message.content;
  if (typeof text === "string" && text !== "") content.push({ type: "text", text });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({
      type: "tool_use",
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments),
    });
  }
  return {
    id: messageId(c.id),
    type: "message",
    role: "assistant",
    model: c.model,
    content,
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(c.usage),
  };
}
