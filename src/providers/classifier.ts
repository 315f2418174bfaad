// Failure classification, kept apart from breaker and retry policy: this file only says *what*
// went wrong; the actors decide what to do about it. Pure: the current time is passed in.
import type { FailureKind } from "../events/catalogue.ts";
import type { UpstreamErrorInfo, UpstreamStreamError } from "./adapter.ts";

export interface Failure {
  kind: FailureKind;
  status?: number;
  message: string;
  type?: string;
  /** The upstream's own error code (e.g. "context_length_exceeded"), when it sent one. */
  code?: string;
  retryAfterMs?: number;
  /**
   * "provider" when the failure breaks every model of the provider (connection refused, DNS,
   * TLS, unreachable host, a rejected key); absent for model-scoped failures (5xx, timeouts,
   * resets after connecting, malformed bodies, a model gone, …). "gateway" when the gateway
   * itself caused it (a deadline that ran out while its own event loop was stalled): it says
   * nothing about the provider and counts against no breaker.
   */
  scope?: "provider" | "model" | "gateway";
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

// Content the provider's safety system refused: another provider would be a way around it, so
// this stays the caller's (no fallback).
const POLICY_TEXT =
  /content_policy_violation|content_filter|content management policy|safety system|responsible ?ai|usage polic(?:y|ies)|flagged as (?:potentially )?(?:harmful|inappropriate|unsafe)|\bflagged by\b|blocked (?:by|due to) (?:our |the )?(?:safety|content)/;

function isContentPolicy(e: UpstreamErrorInfo): boolean {
  return POLICY_TEXT.test(textOf(e));
}

// What this model cannot take, though another may: the prompt is over its context window, the
// requested output over its output limit, an input kind or tools it does not support, or an
// assistant prefill it refuses.
const CONTEXT_TEXT =
  /context_length_exceeded|prompt is too long|input is too long|maximum context length|context (?:length|window|limit)|too many (?:input |prompt )?tokens|input token count.*exceeds|reduce the length of the messages/;
const OUTPUT_LIMIT_TEXT =
  /max(?:_completion)?_tokens\b[^.]*\b(?:too large|exceeds?|greater than|above|must be less than|must be at most)|maximum value for .?max(?:_completion|_output)?_?tokens|maximum (?:allowed )?number of (?:output|completion) tokens|supports at most \d+ (?:completion|output) tokens|max_?output_?tokens\b[^.]*\b(?:too large|exceeds?|greater than|maximum)/;
const INPUT_KIND_TEXT =
  /does ?n[o']t support (?:image|vision|audio|video|pdf|document|file|multimodal|tool|function)|(?:image|vision|audio|video|pdf|multimodal|tool|function(?: calling)?|tool use|tool calling)s? (?:input |inputs |use |calling )?(?:is|are) (?:not|only) (?:supported|enabled|available)|image_url is only supported|function calling is not enabled|(?:is|are) not supported (?:with|by|for|on) this model|does ?n[o']t support .* with this model|unsupported_parameter/;
const PREFILL_TEXT =
  /assistant message prefill|prefill(?:ing)? (?:is )?not supported|must end with a user (?:message|turn)|final assistant content cannot end with trailing whitespace/;

function isCapability(e: UpstreamErrorInfo): boolean {
  const text = textOf(e);
  return CONTEXT_TEXT.test(text) || OUTPUT_LIMIT_TEXT.test(text) ||
    INPUT_KIND_TEXT.test(text) || PREFILL_TEXT.test(text);
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
 *   spent balance with a 400).
 * - …or unless they say this model cannot take the request: a prompt over its context window,
 *   max_tokens above its output limit, an input kind (images, audio, …) or tools it does not
 *   support, an assistant prefill it refuses. That is `capability`: not the provider's fault (it
 *   counts against nothing) and not a reason to retry the same model, but a model with a bigger
 *   window or more features may serve it, so the supervisor falls over; only when no candidate
 *   can, the client gets the provider's 400.
 * - Content-policy refusals (`content_policy_violation`, `content_filter`, the safety system)
 *   stay caller faults even though they are "about" the request: falling over to a laxer
 *   provider would route around a refusal, and the same text would be refused again anyway.
 * - 401/403 about the key → auth, with scope "provider": a rejected key breaks every model.
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
  if (kind === "auth") failure.scope = "provider";
  if (error.type !== undefined) failure.type = error.type;
  if (error.code !== undefined) failure.code = error.code;
  else if (kind === "capability" && CONTEXT_TEXT.test(textOf(error))) {
    // OpenAI's code for it, given to the providers that send none (Anthropic, Bedrock, …), so
    // a client can test one code whoever answered.
    failure.code = "context_length_exceeded";
  }
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
      if (isContentPolicy(e)) return "caller_fault";
      if (isCapability(e)) return "capability";
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

// Failures to reach the provider at all, before any request was sent: nothing any model of it
// can answer. Deno's fetch says "client error (Connect)" for each of them (refused, DNS, TLS,
// unreachable); Node-style codes and the OS wording are matched too. A reset, EOF or broken
// pipe after the connection was accepted is not here on purpose: those happen per call.
const PROVIDER_WIDE_TEXT =
  /client error \(connect\)|connection refused|econnrefused|dns error|failed to lookup|enotfound|eai_again|name or service not known|nodename nor servname|no such host|getaddrinfo|certificate|\btls\b|\bssl\b|handshake|received corrupt message|host is unreachable|network is unreachable|no route to host|ehostunreach|enetunreach|connectionrefused/;

/**
 * The kind of an error thrown by fetch or while reading a body. Client aborts are not
 * recognised here: the caller knows its own signal and should report those separately.
 * Connection refused, DNS, TLS and unreachable-host errors get scope "provider".
 */
export function classifyNetworkError(err: unknown): Failure {
  const message = err instanceof Error ? err.message : String(err);
  const kind = networkKind(err, 0);
  const failure: Failure = { kind, message: detailOf(err, message) };
  if (kind !== "timeout" && PROVIDER_WIDE_TEXT.test(chainText(err, 0))) {
    failure.scope = "provider";
  }
  return failure;
}

/** Names, codes and messages of an error and its causes, lower-cased, for the scope test. */
function chainText(err: unknown, depth: number): string {
  if (!(err instanceof Error) && !(err instanceof DOMException)) return "";
  const code = (err as { code?: unknown }).code;
  const cause = (err as { cause?: unknown }).cause;
  const own = `${err.name} ${typeof code === "string" ? code : ""} ${err.message}`.toLowerCase();
  return depth < 3 && cause !== undefined ? `${own} ${chainText(cause, depth + 1)}` : own;
}

/** Deno's fetch says only "fetch failed" and keeps the reason in `cause`: name both. */
function detailOf(err: unknown, message: string): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (message !== "fetch failed" || !(cause instanceof Error) || !cause.message) return message;
  return `${message}: ${cause.message}`;
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
