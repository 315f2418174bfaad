// A format's 200 JSON answer, as Hono's c.json writes it: the body as JSON, the given headers and
// `application/json` unless they name another content type.
export function jsonResponse(body: unknown, headers: HeadersInit): Response {
  const h = new Headers(headers);
  if (!h.has("content-type")) h.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status: 200, headers: h });
}
