// OpenAI-shaped error answers: {"error": {"message", "type", "code", "param"}}.
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
  const headers = new Headers(opts.headers);
  headers.set("content-type", "application/json");
  if (opts.retryAfterMs !== undefined) {
    headers.set("retry-after", String(Math.max(1, Math.ceil(opts.retryAfterMs / 1000))));
  }
  return new Response(JSON.stringify(errorBody(message, type, code, opts.param ?? null)), {
    status,
    headers,
  });
}
