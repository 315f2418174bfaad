// Google's API error body, {"error": {"code", "message", "status", "details": [...]}}, as the
// Gemini API sends it (https://ai.google.dev/gemini-api/docs/troubleshooting) with google.rpc
// detail messages (ErrorInfo, QuotaFailure, RetryInfo). Read apart from the adapter because
// every Google API (Vertex AI too) answers errors this way.
import type { UpstreamErrorInfo } from "../adapter.ts";
import type { BodyRetryHint } from "../classifier.ts";
import {
  errorCodeStatus,
  isObject,
  type Json,
  nonEmptyString,
  readErrorBody,
} from "../upstream_json.ts";

/**
 * An error as Google describes it: `type` is the canonical status (RESOURCE_EXHAUSTED, …),
 * `code` the ErrorInfo reason or else the QuotaFailure's quotaId, plus RetryInfo's delay.
 */
export type GoogleErrorInfo = UpstreamErrorInfo & BodyRetryHint;

/** google.rpc.RetryInfo's retryDelay is a protobuf Duration in JSON: "22s", "0.5s". */
function retryDelayMs(details: Json[]): number | undefined {
  for (const d of details) {
    if (!String(d["@type"]).endsWith("google.rpc.RetryInfo")) continue;
    const m = /^(\d+(?:\.\d+)?)s$/.exec(String(d.retryDelay ?? ""));
    if (m) return Math.ceil(Number(m[1]) * 1000);
  }
  return undefined;
}

/** Reads a decoded error body; `fallback` is the message when it says none. */
export function googleErrorInfo(raw: unknown, fallback: string): GoogleErrorInfo {
  // The JSON-array stream framing wraps errors in an array too.
  const top = Array.isArray(raw) ? raw[0] : raw;
  const e = isObject(top) && isObject(top.error) ? top.error : undefined;
  if (!e) return { message: fallback };
  const info: GoogleErrorInfo = { message: nonEmptyString(e.message) ?? fallback };
  if (nonEmptyString(e.status)) info.type = String(e.status);
  const details = Array.isArray(e.details) ? e.details.filter(isObject) : [];
  // ErrorInfo.reason tells e.g. an invalid key (API_KEY_INVALID) from a bad field; a 429's
  // QuotaFailure names the quota hit (per minute, or per day).
  const reason = details.map((d) => nonEmptyString(d.reason)).find((r) => r);
  const quota = details.flatMap((d) => (Array.isArray(d.violations) ? d.violations : []))
    .map((v) => (isObject(v) ? nonEmptyString(v.quotaId) : undefined)).find((q) => q);
  const code = reason ?? quota;
  if (code) info.code = code;
  const retry = retryDelayMs(details);
  if (retry !== undefined) info.retryAfterMs = retry;
  return info;
}

/** The HTTP status an error object inside a 200 (a stream event) stands for, if it says. */
export const googleErrorStatus: (raw: Json) => number | undefined = errorCodeStatus;

/** ProviderAdapter.parseError for Google APIs: the body of a non-2xx answer. */
export function parseGoogleError(status: number, bodyText: string): GoogleErrorInfo {
  return readErrorBody(status, bodyText, googleErrorInfo);
}
