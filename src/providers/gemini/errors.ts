// Google's API error body, {"error": {"code", "message", "status", "details": [...]}}, as the
// Gemini API sends it (https://ai.google.dev/gemini-api/docs/troubleshooting) with google.rpc
// detail messages (ErrorInfo, QuotaFailure, RetryInfo). Read apart from the adapter because
// every Google API (Vertex AI too) answers errors this way.
import type { UpstreamErrorInfo } from "../adapter.ts";
import type { BodyRetryHint } from "../classifier.ts";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

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
  const info: GoogleErrorInfo = { message: str(e.message) ?? fallback };
  if (str(e.status)) info.type = String(e.status);
  const details = Array.isArray(e.details) ? e.details.filter(isObject) : [];
  // ErrorInfo.reason tells e.g. an invalid key (API_KEY_INVALID) from a bad field; a 429's
  // QuotaFailure names the quota hit (per minute, or per day).
  const reason = details.map((d) => str(d.reason)).find((r) => r);
  const quota = details.flatMap((d) => (Array.isArray(d.violations) ? d.violations : []))
    .map((v) => (isObject(v) ? str(v.quotaId) : undefined)).find((q) => q);
  const code = reason ?? quota;
  if (code) info.code = code;
  const retry = retryDelayMs(details);
  if (retry !== undefined) info.retryAfterMs = retry;
  return info;
}

/** The HTTP status an error object inside a 200 (a stream event) stands for, if it says. */
export function googleErrorStatus(raw: Json): number | undefined {
  const code = isObject(raw.error) ? Number(raw.error.code) : NaN;
  return Number.isInteger(code) && code >= 400 && code <= 599 ? code : undefined;
}

/** ProviderAdapter.parseError for Google APIs: the body of a non-2xx answer. */
export function parseGoogleError(status: number, bodyText: string): GoogleErrorInfo {
  const fallback = truncate(bodyText.trim(), 500) || `HTTP ${status}`;
  try {
    return googleErrorInfo(JSON.parse(bodyText), fallback);
  } catch {
    return { message: fallback }; // an HTML page from a proxy, a plain-text 502, …
  }
}
