// Gateway errors → Anthropic's error shape: {"type":"error","error":{"type","message"}}.

// ---------------------------------------------------------------------------------------------
// Errors

const TYPE_BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/**
 * The status and Anthropic error type for a gateway error. The status decides, as in
 * Anthropic's table: an upstream 401 reaches the client as a 502 api_error (the gateway's key
 * failed, not the client's). "Every candidate unavailable right now" (our 503) is what
 * Anthropic calls overloaded: 529 overloaded_error, so Anthropic clients back off and retry.
 */
export function anthropicError(status: number, type: string): { status: number; type: string } {
  if (status === 503 || type === "unavailable") return { status: 529, type: "overloaded_error" };
  const known = TYPE_BY_STATUS[status];
  if (known) return { status, type: known };
  return { status, type: status >= 500 ? "api_error" : "invalid_request_error" };
}

/** The type of an `event: error` after a stream was committed, from our failure kind. */
export function streamErrorType(kind: string, status?: number): string {
  if (status === 529 || kind === "unavailable") return "overloaded_error";
  if (kind === "rate_limit") return "rate_limit_error";
  if (kind === "timeout") return "timeout_error";
  return "api_error";
}

export function anthropicErrorBody(type: string, message: string, requestId?: string) {
  return {
    type: "error" as const,
    error: { type, message },
    ...(requestId ? { request_id: requestId } : {}),
  };
}
