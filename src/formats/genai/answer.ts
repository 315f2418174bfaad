// A canonical completion → a Gemini GenerateContentResponse, as the @google/genai SDK reads it
// back (generateContentResponseFromMldev). Pure.
import { type Json, parseObject } from "../../lib/json.ts";
import type { ChatCompletion, FinishReason, Usage } from "../../openai/types.ts";

// ---------------------------------------------------------------------------------------------
// Response: ChatCompletion / ChatChunk → GenerateContentResponse

/** Gemini reports function calls with STOP. */
export function finishOf(reason: FinishReason | null | undefined): string | undefined {
  switch (reason) {
    case null:
    case undefined:
      return undefined;
    case "length":
      return "MAX_TOKENS";
    case "content_filter":
      return "SAFETY";
    default:
      return "STOP";
  }
}

/** Gemini counts thinking tokens apart from candidatesTokenCount, OpenAI within completion. */
export function usageMetadata(u: Usage): Json {
  const thoughts = u.completion_tokens_details?.reasoning_tokens ?? 0;
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    promptTokenCount: u.prompt_tokens,
    candidatesTokenCount: Math.max(0, u.completion_tokens - thoughts),
    totalTokenCount: u.total_tokens,
    ...(cached > 0 ? { cachedContentTokenCount: cached } : {}),
    ...(thoughts > 0 ? { thoughtsTokenCount: thoughts } : {}),
  };
}

/** Gemini's args are an object; arguments that are not one (a broken upstream) become {}. */
export function functionCallPart(call: { id?: string; name: string; arguments: string }): Json {
  return {
    functionCall: {
      ...(call.id ? { id: call.id } : {}),
      name: call.name,
      args: parseObject(call.arguments) ?? {},
    },
  };
}

export function candidate(index: number, parts: Json[], finish?: string): Json {
  return { content: { role: "model", parts }, ...(finish ? { finishReason: finish } : {}), index };
}

export function toGenaiResponse(c: ChatCompletion): Json {
  return {
    candidates: c.choices.map((ch) => {
      const text = ch.message.content ?? "";
      const parts: Json[] = text === "" ? [] : [{ text }];
      for (const call of ch.message.tool_calls ?? []) {
        parts.push(functionCallPart({ id: call.id, ...call.function }));
      }
      return candidate(ch.index, parts, finishOf(ch.finish_reason));
    }),
    ...(c.usage ? { usageMetadata: usageMetadata(c.usage) } : {}),
    modelVersion: c.model,
    responseId: c.id,
  };
}
