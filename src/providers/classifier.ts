// Failure classification, kept apart from breaker and retry policy: this file only says *what*
// went wrong; the actors decide what to do about it. Pure: the current time is passed in.
import type { FailureKind } from "../events/catalogue.ts";
import type { UpstreamErrorInfo, UpstreamStreamError } from "./adapter.ts";

export interface Failure {
  kind: FailureKind;
  status?: number;
  message: string;
  type?: string;
  code?: string;
  retryAfterMs?: number;
  /** "provider": it breaks every model (refused connection, DNS/TLS). Else the model's own. */
  scope?: "provider" | "model";
}

// ---------------------------------------------------------------------------------------------
// Retry hints

/** `retry-after-ms`, then `retry-after` (seconds or HTTP date). The server's explicit answer. */
function explicitRetryAfterMs(headers: Headers, now: number): number | undefined {
  const ms = parseNumber(headers.get("retry-after-ms"));
  if (ms !== undefined) return Math.ceil(ms);
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  const seconds = parseNumber(value);
  if (seconds !== undefined) return Math.ceil(seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const OPENAI_BUCKETS = ["requests", "tokens"];
const ANTHROPIC_BUCKETS = ["requests", "tokens", "input-tokens", "output-tokens"];

/**
 * When the rate-limit buckets refill. A bucket whose `remaining` is 0 is the one that stopped
 * us, so only those count when any is; otherwise the latest reset wins (the safe side).
 */
function bucketResetMs(headers: Headers, now: number): number | undefined {
  const all: number[] = [];
  const exhausted: number[] = [];
  const add = (ms: number | undefined, remaining: string | null) => {
    if (ms === undefined) return;
    all.push(ms);
    if (remaining?.trim() === "0") exhausted.push(ms);
  };
  for (const b of OPENAI_BUCKETS) {
    const reset = headers.get(`x-ratelimit-reset-${b}`);
    add(reset ? parseGoDurationMs(reset) : undefined, headers.get(`x-ratelimit-remaining-${b}`));
  }
  for (const b of ANTHROPIC_BUCKETS) {
    const reset = Date.parse(headers.get(`anthropic-ratelimit-${b}-reset`) ?? "");
    add(
      Number.isNaN(reset) ? undefined : Math.max(0, reset - now),
      headers.get(`anthropic-ratelimit-${b}-remaining`),
    );
  }
  const pool = exhausted.length > 0 ? exhausted : all;
  return pool.length > 0 ? Math.max(...pool) : undefined;
}

/**
 * How long the upstream asks us to wait, in ms (never negative), or undefined when it does not
 * say. Explicit `retry-after-ms` / `retry-after` win over the rate-limit reset headers.
 */
export function parseRetryAfterMs(headers: Headers, now: number): number | undefined {
  return explicitRetryAfterMs(headers, now) ?? bucketResetMs(headers, now);
}

const GO_UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ns: 1e-6,
};

/** Go duration strings as OpenAI sends them ("1s", "6m0s", "20ms", "1h2m3.5s"). A bare number
 * is read as seconds, as some OpenAI-compatible servers send it. */
function parseGoDurationMs(text: string): number | undefined {
  const value = text.trim();
  const bare = parseNumber(value);
  if (bare !== undefined) return Math.ceil(bare * 1000);
  if (!/^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:h|ms|m|s|us|µs|μs|ns))+$/.test(value)) return undefined;
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)/g)) {
    total += Number(n) * GO_UNIT_MS[unit];
  }
  return Math.ceil(total);
}

function parseNumber(text: string | null | undefined): number | undefined {
  if (!text || !/^\s*\d+(?:\.\d+)?\s*$/.test(text)) return undefined;
  return Number(text);
}

// ---------------------------------------------------------------------------------------------
// What the error text says

function textOf(e: UpstreamErrorInfo): string {
  return `${e.type ?? ""} ${e.code ?? ""} ${e.message}`.toLowerCase();
}

const QUOTA_CODES = new Set([
  "insufficient_quota",
  "billing_error",
  "billing_hard_limit_reached",
  "enforced_spend_limit_reached",
]);
// OpenAI's quota 429, Anthropic's "credit balance is too low" (a 400) and spend-limit errors.
// Not a bare "billing": OpenAI's plain rate-limit messages link to the billing page.
const QUOTA_TEXT =
  /exceeded your current quota|credit balance is too low|insufficient (?:credits|balance|funds)|spend(?:ing)? limit|billing (?:hard )?limit/;

function isQuota(e: UpstreamErrorInfo): boolean {
  return QUOTA_CODES.has(e.code ?? "") || QUOTA_CODES.has(e.type ?? "") ||
    QUOTA_TEXT.test(textOf(e));
}

const CONTEXT_TEXT =
  /context_length_exceeded|prompt is too long|maximum context length|context (?:length|window|limit)|too many (?:input )?tokens/;

function isContextLength(e: UpstreamErrorInfo): boolean {
  return CONTEXT_TEXT.test(textOf(e));
}

const MODEL_CODES = new Set(["model_not_found", "model_decommissioned", "model_not_available"]);
const MODEL_TEXT =
  /model\b.*\b(?:does not exist|not found|not available|unavailable|not supported|isn't supported|no longer supported|decommissioned|deprecated|end of its life|not allowed|not permitted)|(?:no such|unknown|invalid|unsupported) model|access to (?:the )?model|model identifier is invalid|could not resolve the foundation model/;

function isAboutModel(e: UpstreamErrorInfo): boolean {
  return MODEL_CODES.has(e.code ?? "") || MODEL_TEXT.test(textOf(e));
}

// ---------------------------------------------------------------------------------------------
// Classification

/**
 * The kind of an HTTP failure. Judgement calls:
 * - 400/413/422 are the caller's fault, unless they say the model is gone or not available
 *   (another provider may serve it) or that the account is out of credit (Anthropic answers a
 *   spent balance with a 400). Context-length errors stay caller faults: no fallback will fit.
 * - 402 (payment required) → quota.
 * - 404 about the model (model_not_found, Anthropic's not_found_error on /messages) →
 *   model_unavailable; any other 404 means a wrong base URL or route, a provider-side fault we
 *   treat as transient so it counts against that provider and we fall over.
 * - 409 (Anthropic's retryable conflict_error) → transient.
 * - 424 (Bedrock's ModelErrorException / modelStreamErrorException: the model failed) → transient.
 * - The rate-limit reset headers only count for rate_limit failures: they are sent on every
 *   answer and say when a bucket refills, not when to retry a 500 or a quota error.
 */
export function classifyHttpFailure(
  input: {
    status: number;
    headers: Headers;
    error: UpstreamErrorInfo & BodyRetryHint;
    now: number;
  },
): Failure {
  const { status, headers, error, now } = input;
  const kind = kindOf(status, error);
  const fromHeaders = kind === "rate_limit"
    ? parseRetryAfterMs(headers, now)
    : explicitRetryAfterMs(headers, now);
  const retryAfterMs = fromHeaders ?? error.retryAfterMs;
  const failure: Failure = { kind, status, message: error.message };
  if (error.type !== undefined) failure.type = error.type;
  if (error.code !== undefined) failure.code = error.code;
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  return failure;
}

/** A retry delay some providers send in the error body instead of a header (Gemini's
 * google.rpc.RetryInfo, read by its adapter's parseError). A header, when present, wins. */
export interface BodyRetryHint {
  retryAfterMs?: number;
}

/**
 * Google's canonical error statuses (`type`) and ErrorInfo reasons (`code`), as the Gemini API
 * sends them (https://ai.google.dev/gemini-api/docs/troubleshooting):
 * - 429 RESOURCE_EXHAUSTED says "exceeded your current quota" for every limit: a per-minute one
 *   is a rate limit (with a RetryInfo delay); only a per-day quota (its QuotaFailure quotaId,
 *   which the adapter puts in `code`) lasts until the day resets.
 * - 400 with reason API_KEY_INVALID is a bad key, not a bad request.
 * - 400 FAILED_PRECONDITION means the project needs billing (or the region is not served).
 * - 404 NOT_FOUND on generateContent names the model ("models/x is not found").
 */
function googleKind(status: number, e: UpstreamErrorInfo): FailureKind | undefined {
  if (status === 429 && e.type === "RESOURCE_EXHAUSTED") {
    return /PerDay/i.test(e.code ?? "") ? "quota" : "rate_limit";
  }
  if (status === 400 && e.code === "API_KEY_INVALID") return "auth";
  if (status === 400 && e.type === "FAILED_PRECONDITION") return "quota";
  if (status === 404 && e.type === "NOT_FOUND") return "model_unavailable";
  return undefined;
}

function kindOf(status: number, e: UpstreamErrorInfo): FailureKind {
  const google = googleKind(status, e);
  if (google) return google;
  switch (status) {
    case 400:
    case 413:
    case 422:
      if (isContextLength(e)) return "caller_fault";
      if (isQuota(e)) return "quota";
      return isAboutModel(e) ? "model_unavailable" : "caller_fault";
    case 401:
    case 498: // Cohere's "invalid token" (cohere-ai SDK: InvalidTokenError)
      return "auth";
    case 402:
      return "quota";
    case 403:
      return isAboutModel(e) ? "model_unavailable" : "auth";
    case 404:
      return isAboutModel(e) || e.type === "not_found_error" ? "model_unavailable" : "transient";
    case 408:
      return "timeout";
    case 409:
    case 424:
      return "transient";
    case 429:
      return isQuota(e) ? "quota" : "rate_limit";
  }
  return status >= 500 && status <= 599 ? "transient" : "unknown";
}

const TRANSIENT_NAMES = new Set([
  "ConnectionRefused",
  "ConnectionReset",
  "ConnectionAborted",
  "NotConnected",
  "BrokenPipe",
  "UnexpectedEof",
  "Interrupted",
  "Http",
  "SyntaxError", // garbage in a 2xx body or stream: the upstream broke, not the caller
]);
const TRANSIENT_CODES =
  /^(?:ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/;

/**
 * The kind of an error thrown by fetch or while reading a body. Client aborts are not
 * recognised here: the caller knows its own signal and should report those separately.
 */
export function classifyNetworkError(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  const failure: Failure = { kind: networkKind(err, 0), message };
  if (unreachable(err, 0)) failure.scope = "provider";
  return failure;
}

const UNREACHABLE_NAMES = new Set(["ConnectionRefused", "AddrNotAvailable"]);
const UNREACHABLE_CODES = /^(?:ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/;
const UNREACHABLE_TEXT =
  /connection refused|dns error|failed to lookup|name or service not known|certificate|tls|ssl|no route to host|network is unreachable/i;

/**
 * The host cannot be reached at all (refused, DNS, TLS, no route): every model of the provider
 * fails alike. A reset or an early EOF happens per call after the connection was accepted, so
 * it stays the model's.
 */
function unreachable(err: unknown, depth: number): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (
    UNREACHABLE_NAMES.has(err.name) || (typeof code === "string" && UNREACHABLE_CODES.test(code))
  ) {
    return true;
  }
  if (UNREACHABLE_TEXT.test(err.message) && !/reset|broken pipe|eof/i.test(err.message)) {
    return true;
  }
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && depth < 3 && unreachable(cause, depth + 1);
}

function networkKind(err: unknown, depth: number): FailureKind {
  if (!(err instanceof Error) && !(err instanceof DOMException)) return "unknown";
  const code = (err as { code?: unknown }).code;
  if (err.name === "TimeoutError" || code === "ETIMEDOUT") return "timeout";
  if (TRANSIENT_NAMES.has(err.name) || (typeof code === "string" && TRANSIENT_CODES.test(code))) {
    return "transient";
  }
  // fetch wraps the real cause (Deno: "error sending request … Connection refused").
  const cause = (err as { cause?: unknown }).cause;
  const inner = cause !== undefined && depth < 3 ? networkKind(cause, depth + 1) : "unknown";
  if (inner !== "unknown") return inner;
  return err instanceof TypeError ? "transient" : "unknown";
}

/** Classifies an error event inside a 200 stream as if it had been the HTTP answer. */
export function classifyStreamError(err: UpstreamStreamError, now: number): Failure {
  const status = err.status ?? 500; // an error with no status is the upstream's own failure
  const failure = classifyHttpFailure({ status, headers: new Headers(), error: err.info, now });
  if (err.status === undefined) delete failure.status;
  return failure;
}

/** Caller faults never count against a provider and never fall over. */
export function isCallerFault(f: Failure): boolean {
  return f.kind === "caller_fault";
}
