// Error answers: OpenAI's shape, {"error": {"message", "type", "code", "param"}}, and the
// frame every route's error answer shares (JSON body, content type, Retry-After).
import type { ErrorBody } from "../openai/types.ts";

export function errorBody(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): ErrorBody {
  return { error: { message, type, code, param } };
}

export function errorResponse(
  status: number,
  message: string,
  type: string,
  code: string | null,
  opts: { param?: string | null; headers?: HeadersInit; retryAfterMs?: number } = {},
): Response {
  return jsonErrorResponse(
    status,
    errorBody(message, type, code, opts.param ?? null),
    new Headers(opts.headers),
    opts.retryAfterMs,
  );
}

/** How long a client should wait, as Retry-After says it: whole seconds, rounded up, at least 1. */
export const retryAfterSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * An error answer in any route's format: `body` as JSON under `contentType` (whatever `headers`
 * said), and Retry-After when the client should wait.
 */
export function jsonErrorResponse(
  status: number,
  body: unknown,
  headers: Headers,
  retryAfterMs?: number,
  contentType = "application/json",
): Response {
  headers.set("content-type", contentType);
  if (retryAfterMs !== undefined) {
    headers.set("retry-after", String(retryAfterSeconds(retryAfterMs)));
  }
  return new Response(JSON.stringify(body), { status, headers });
}
