// A format's 200 JSON answer, as Hono's c.json writes it: the body as JSON, the given headers and
// `application/json` unless they name another content type. The headers stay a plain record:
// copying them into a Headers object first would have the runtime copy them twice per answer.
export function jsonResponse(body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: "content-type" in headers
      ? headers
      : { "content-type": "application/json", ...headers },
  });
}
