// Small helpers several wire formats share: SSE framing, JSON replies, prompt text, and the
// deterministic embedding vectors.
import type { Json, MockReply, MockRoute } from "./format.ts";

export const JSON_HEADERS = { "content-type": "application/json" };
export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};

/** A body no JSON parser accepts; the non-streaming half of every "malformed" fault. */
export const BROKEN_JSON = '{"id": "mock", "choices": [ oops';

/** An SSE event with only a data line (OpenAI, Gemini). */
export const sseData = (data: unknown, eol = "\n") => `data: ${JSON.stringify(data)}${eol}${eol}`;

/** A named SSE event whose data repeats the name as `type` (Anthropic, Cohere). */
export const sseEvent = (event: string, data: Json) =>
  `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;

/** `match` for formats whose routes are fixed POST paths, each one operation. */
export const postRoutes =
  (routes: Record<string, MockRoute["operation"]>) =>
  (method: string, path: readonly string[]): MockRoute | undefined => {
    const route = path.join("/");
    // Own keys only: a path such as "constructor" names no route.
    return method === "POST" && Object.hasOwn(routes, route)
      ? { operation: routes[route] }
      : undefined;
  };

/** `model` for formats that name it in the body. */
export const bodyModel = (body: Json) => typeof body.model === "string" ? body.model : "unknown";

/** A one-chunk JSON reply. */
export function jsonReply(body: string, headers: Record<string, string> = {}): MockReply {
  return { headers: { ...JSON_HEADERS, ...headers }, chunks: [body] };
}

/** The text of a string or of a list of `{text}` parts; anything else counts as empty. */
export function partsText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (typeof p?.text === "string" ? p.text : "")).join("");
}

/** A list of objects, or [] when the value is anything else. */
export const list = (value: unknown): Json[] =>
  Array.isArray(value) ? value.filter((v) => typeof v === "object" && v !== null) : [];

/** Embedding size when a request does not ask for one: small, so tests and benchmarks stay fast. */
export const DEFAULT_DIMENSIONS = 16;
export const MAX_DIMENSIONS = 4096;

/**
 * A unit-length vector that depends only on the text and the size: the same text always embeds
 * the same, different texts (almost surely) differently. FNV-1a seeds an xorshift32 stream.
 */
export function embedding(text: string, dimensions = DEFAULT_DIMENSIONS): number[] {
  let seed = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    seed = Math.imul(seed ^ byte, 0x01000193) >>> 0;
  }
  seed ||= 1;
  const raw = Array.from({ length: dimensions }, () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 0x80000000 - 1;
  });
  const norm = Math.hypot(...raw) || 1;
  return raw.map((v) => Math.round((v / norm) * 1e8) / 1e8);
}

/** A requested embedding size if it is a sane integer, else the default. */
export function dimensionsOf(value: unknown): number | undefined {
  if (value === undefined) return DEFAULT_DIMENSIONS;
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_DIMENSIONS
    ? value as number
    : undefined;
}

/**
 * Whether a chat body ends with the model's own turn (a prefill to continue from): the last of
 * `messages` is the assistant's, or the last of Gemini's `contents` the model's.
 */
export function endsWithAssistant(body: Json): boolean {
  const role = list(body.messages ?? body.contents).at(-1)?.role;
  return role === "assistant" || role === "model";
}
