// Decoded JSON, as every translator reads it: provider adapters (upstream answers) and the
// drop-in routes (client bodies in other SDKs' formats).

/** A decoded JSON object. */
export type Json = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** `text` decoded, when it is a JSON object; undefined for anything else, invalid JSON included. */
export function parseObject(text: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
