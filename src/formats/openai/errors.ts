// Gateway errors in OpenAI's shape: {"error": {"message", "type", "code", "param"}}.
import type { CallError } from "../../http/call.ts";
import { errorResponse } from "../../http/errors.ts";

export function openaiError(e: CallError): Response {
  return errorResponse(e.status, e.message, e.type, e.code, {
    param: e.param,
    headers: e.headers,
    retryAfterMs: e.retryAfterMs,
  });
}
