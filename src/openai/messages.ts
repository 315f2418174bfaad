// Building canonical values: the rules every translation into the OpenAI shapes follows, whether
// it reads an upstream's answer (provider adapters) or a client's body (drop-in routes).
import type { ToolCall } from "./types.ts";

/**
 * An assistant turn: its text, and its tool calls when it made any. A turn that only calls tools
 * has `content: null`, as OpenAI sends it.
 */
export function assistantMessage(
  text: string,
  toolCalls: ToolCall[],
): { role: "assistant"; content: string | null; tool_calls?: ToolCall[] } {
  return {
    role: "assistant",
    content: text === "" && toolCalls.length > 0 ? null : text,
    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
  };
}

/**
 * The message of a completion choice translated from another vendor's answer: an assistant turn
 * with `refusal: null`, which OpenAI's schema requires (string or null) in every choice message.
 */
export function answerMessage(
  text: string,
  toolCalls: ToolCall[],
): { role: "assistant"; content: string | null; refusal: null; tool_calls?: ToolCall[] } {
  return { ...assistantMessage(text, toolCalls), refusal: null };
}

/** A function call whose input is a decoded value; OpenAI carries it as JSON text ({} if none). */
export function toolCall(id: string, name: string, input: unknown): ToolCall {
  return { id, type: "function", function: { name, arguments: JSON.stringify(input ?? {}) } };
}

/** Image bytes in an image_url part: a base64 `data:` URL. */
export const dataUrl = (mediaType: string, base64: string) => `data:${mediaType};base64,${base64}`;

/** The media type and base64 bytes of a `data:` URL; undefined for any other URL. */
export function parseDataUrl(url: string): { mediaType: string; base64: string } | undefined {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { mediaType: m[1], base64: m[2] } : undefined;
}
