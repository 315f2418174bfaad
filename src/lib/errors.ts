// The one error-as-data shape of the hot path: what went wrong (status, taxonomy type, code, the
// offending field, a message, the underlying cause) and what the answer must carry (headers,
// Retry-After). Producers (body reading, the planner, the governor, the pipeline) return it;
// each wire format turns it into its own shape only at the edge (OpenAI's
// {"error":{"message","type","code","param"}}, Anthropic's, Google's, Bedrock's).

/** An error as data. */
export interface GatewayError {
  ok: false;
  status: number;
  /** From the failure taxonomy (`invalid_request_error`, `unavailable`, `rate_limited`, …). */
  type: string;
  code: string;
  /** The request field at fault, as the client named it (`messages[1].content`), else null. */
  param: string | null;
  message: string;
  /** Headers the answer carries (x-request-id, the gateway's headers, www-authenticate). */
  headers?: Record<string, string>;
  /** How long the client should wait (Retry-After). */
  retryAfterMs?: number;
  /** What caused it (a classified upstream failure, a thrown error), for logs; never sent. */
  cause?: unknown;
}

/** A route the gateway does not serve (a 404 `not_found`), naming what it does serve. */
export function notFound(message: string): GatewayError {
  return {
    ok: false,
    status: 404,
    type: "invalid_request_error",
    code: "not_found",
    param: null,
    message,
  };
}

/** A value, or the error that stopped it. */
export type Result<T> = { ok: true; value: T } | GatewayError;

/**
 * A request the gateway refuses as it reads it: a 400 `invalid_request_error` naming the offending
 * field (`param`, as the client named it; "" or none for the body as a whole).
 */
export function invalidRequest(
  message: string,
  param: string | null = null,
  code = "invalid_request",
): GatewayError {
  return {
    ok: false,
    status: 400,
    type: "invalid_request_error",
    code,
    param: param || null,
    message,
  };
}
