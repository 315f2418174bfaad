// A canonical completion → a ConverseResponse (ConverseOutput, TokenUsage, ConverseMetrics). Pure.
import { isObject, type Json } from "../../lib/json.ts";
import type { ChatCompletion, FinishReason, ToolCall, Usage } from "../../openai/types.ts";

// ---------------------------------------------------------------------------------------------
// Response: canonical → Converse

export function stopReason(finish: FinishReason | null | undefined): string {
  switch (finish) {
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "content_filtered";
    default:
      return "end_turn";
  }
}

/** OpenAI counts cached tokens within prompt_tokens; Bedrock reports them beside inputTokens. */
export function converseUsage(u: Usage | null | undefined): Json {
  const cached = u?.prompt_tokens_details?.cached_tokens ?? 0;
  const prompt = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? 0;
  const usage: Json = {
    inputTokens: Math.max(0, prompt - cached),
    outputTokens: output,
    totalTokens: prompt + output,
  };
  if (cached > 0) usage.cacheReadInputTokens = cached;
  return usage;
}

function toolInput(call: ToolCall): unknown {
  try {
    const input = JSON.parse(call.function.arguments || "{}");
    return isObject(input) ? input : { value: input };
  } catch {
    return { arguments: call.function.arguments }; // a model that wrote broken JSON
  }
}

/** A chat completion as a ConverseResponse. */
export function chatToConverse(c: ChatCompletion, latencyMs: number): Json {
  const choice = c.choices[0];
  const content: Json[] = [];
  if (choice?.message.content) content.push({ text: choice.message.content });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({
      toolUse: { toolUseId: call.id, name: call.function.name, input: toolInput(call) },
    });
  }
  return {
    output: { message: { role: "assistant", content } },
    stopReason: stopReason(choice?.finish_reason),
    usage: converseUsage(c.usage),
    metrics: { latencyMs: Math.round(latencyMs) },
  };
}
