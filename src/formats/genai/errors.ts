// Gateway errors in Google's shape, as the SDK raises them (throwIfStreamErrorChunk).
import { type Json } from "../../lib/json.ts";

// ---------------------------------------------------------------------------------------------
// Errors: {"error": {"code", "message", "status", "details"}}

const GOOGLE_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  408: "DEADLINE_EXCEEDED",
  409: "ABORTED",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** Google's canonical status name for an HTTP status. */
export function googleStatus(status: number): string {
  return GOOGLE_STATUS[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION");
}

/**
 * Google's error body. The gateway's own code and failure type travel in a google.rpc.ErrorInfo
 * detail, and a wait in a google.rpc.RetryInfo detail, where Google puts them.
 */
export function genaiErrorBody(e: {
  status: number;
  message: string;
  type: string;
  code: string | null;
  param?: string | null;
  retryAfterMs?: number;
}): Json {
  const details: Json[] = [{
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason: e.code ?? e.type,
    domain: "failover-gateway",
    metadata: { type: e.type, ...(e.param ? { param: e.param } : {}) },
  }];
  if (e.retryAfterMs !== undefined) {
    details.push({
      "@type": "type.googleapis.com/google.rpc.RetryInfo",
      retryDelay: `${Math.max(1, Math.ceil(e.retryAfterMs / 1000))}s`,
    });
  }
  return { error: { code: e.status, message: e.message, status: googleStatus(e.status), details } };
}
