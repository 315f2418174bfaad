// A format's 200 JSON answer, as Hono's c.json writes it: the body as JSON, the given headers and
// `application/json` unless they name another content type. The headers stay a plain record:
// copying them into a Headers object first would have the runtime copy them twice per answer.
export function jsonResponse(body: unknown, headers: Record<string, string>): Response {
  return jsonTextResponse(JSON.stringify(body), headers);
}

/** The same answer from JSON text already written (e.g. an upstream's own, see withExtra). */
export function jsonTextResponse(text: string, headers: Record<string, string>): Response {
  return new Response(text, {
    status: 200,
    headers: "content-type" in headers
      ? headers
      : { "content-type": "application/json", ...headers },
  });
}

/**
 * `{...value, [key]: extra}` as JSON text, written from `source` (the exact JSON text of `value`,
 * an object) by splicing the one field in before its closing brace, not by serialising `value`
 * again. Undefined when that would not give the same object: `value` already has `key`, or the
 * text does not end in "}".
 */
export function withExtra(
  source: string,
  value: object,
  key: string,
  extra: unknown,
): string | undefined {
  if (Object.hasOwn(value, key)) return undefined;
  let end = source.length - 1;
  while (end > 0 && source.charCodeAt(end) <= 32) end--;
  if (source.charCodeAt(end) !== 125 /* } */ || Object.keys(value).length === 0) return undefined;
  return `${source.slice(0, end)},${JSON.stringify(key)}:${JSON.stringify(extra)}}`;
}
