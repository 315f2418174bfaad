// Reading what upstreams send: the JSON helpers every adapter shares, the parsing of one stream
// event, and the frame of parseError (the body's JSON, else its text, else the status).
import { isObject, type Json } from "../lib/json.ts";
import type { UpstreamErrorInfo } from "./adapter.ts";

export { isObject, type Json };

/** `s` cut to `n` characters, with an ellipsis when anything was cut (for error messages). */
export const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** A count the upstream may leave out: its number, else 0. */
export const num = (v: unknown) => (typeof v === "number" ? v : 0);

/** A string with something in it, else undefined. */
export const nonEmptyString = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * One stream event's JSON. Garbage is a SyntaxError, which the classifier treats as the
 * upstream's fault (a garbled stream), never the caller's.
 */
export function parseStreamJson(family: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new SyntaxError(`${family}: invalid JSON in stream: ${truncate(text, 200)}`);
  }
}

// The upstream's own JSON text of a decoded object that the gateway did not change, so an answer
// in the same format can be sent on as it came instead of serialised again. Kept on the object
// under a symbol, not in a WeakMap: one is recorded per stream chunk, and every WeakMap entry is
// an ephemeron that each garbage collection must process. Non-enumerable, so a copy (`{...v}`,
// structuredClone) never carries it and JSON never shows it.
const SOURCE = Symbol("upstream JSON text");

/** Records `text` as the exact JSON of `value` (which must not be changed afterwards). */
export function withSource<T extends object>(value: T, text: string): T {
  Object.defineProperty(value, SOURCE, { value: text });
  return value;
}

/** The JSON text `value` was decoded from unchanged, if recorded. */
export const sourceOf = (value: object): string | undefined =>
  (value as { [SOURCE]?: string })[SOURCE];

/** One stream event that must be a JSON object, as in every format but OpenAI's. */
export function parseStreamObject(family: string, text: string): Json {
  const event = parseStreamJson(family, text);
  if (!isObject(event)) throw new SyntaxError(`${family}: stream event is not an object`);
  return event;
}

/**
 * The frame of ProviderAdapter.parseError: `read` gets the decoded body and the message to use
 * when it names none (the body's text, cut short, or "HTTP <status>" for an empty one). A body
 * that is not JSON (an HTML page from a proxy, a plain-text 502, …) is only that message.
 */
export function readErrorBody<T extends UpstreamErrorInfo>(
  status: number,
  bodyText: string,
  read: (raw: unknown, fallback: string) => T,
): T | UpstreamErrorInfo {
  const fallback = truncate(bodyText.trim(), 500) || `HTTP ${status}`;
  try {
    return read(JSON.parse(bodyText), fallback);
  } catch {
    return { message: fallback };
  }
}

/**
 * The HTTP status an error object inside a 200 (a stream event, or a 200 error body) gives in
 * `error.code`, if that is one: vLLM, OpenRouter and Google put it there.
 */
export function errorCodeStatus(raw: unknown): number | undefined {
  const code = isObject(raw) && isObject(raw.error) ? Number(raw.error.code) : NaN;
  return Number.isInteger(code) && code >= 400 && code <= 599 ? code : undefined;
}
