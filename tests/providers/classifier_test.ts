import assert from "node:assert/strict";
import type { FailureKind } from "../../src/events/catalogue.ts";
import {
  adapterFor,
  classifyHttpFailure,
  classifyNetworkError,
  classifyStreamError,
  isCallerFault,
  parseRetryAfterMs,
  UpstreamStreamError,
} from "../../src/providers/mod.ts";
import { fixtureText } from "./fixtures/load.ts";

const NOW = Date.parse("2025-03-01T12:00:00Z");

Deno.test("parseRetryAfterMs reads every header form, never negative", () => {
  const rows: [Record<string, string>, number | undefined][] = [
    [{}, undefined],
    [{ "retry-after-ms": "250" }, 250],
    [{ "retry-after-ms": "12.4" }, 13],
    [{ "retry-after": "7" }, 7000],
    [{ "retry-after": "1.5" }, 1500],
    [{ "retry-after": "Sat, 01 Mar 2025 12:00:30 GMT" }, 30_000],
    [{ "retry-after": "Sat, 01 Mar 2025 11:59:00 GMT" }, 0], // already past
    [{ "retry-after": "soon" }, undefined],
    [{ "retry-after-ms": "100", "retry-after": "9" }, 100], // the precise one wins
    [{ "retry-after": "2", "x-ratelimit-reset-tokens": "6m0s" }, 2000], // explicit beats reset
    [{ "x-ratelimit-reset-requests": "1s" }, 1000],
    [{ "x-ratelimit-reset-requests": "20ms" }, 20],
    [{ "x-ratelimit-reset-tokens": "6m0s" }, 360_000],
    [{ "x-ratelimit-reset-tokens": "1h2m3.5s" }, 3_723_500],
    [{ "x-ratelimit-reset-tokens": "1500us" }, 2],
    [{ "x-ratelimit-reset-requests": "2" }, 2000], // bare seconds from compatible servers
    [{ "x-ratelimit-reset-requests": "later" }, undefined],
    [{ "x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s" }, 360_000],
    [{ // only the exhausted bucket counts
      "x-ratelimit-reset-requests": "1s",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-tokens": "6m0s",
      "x-ratelimit-remaining-tokens": "1200",
    }, 1000],
    [{ "anthropic-ratelimit-requests-reset": "2025-03-01T12:00:05Z" }, 5000],
    [{
      "anthropic-ratelimit-requests-reset": "2025-03-01T12:00:05Z",
      "anthropic-ratelimit-output-tokens-reset": "2025-03-01T12:00:40+00:00",
    }, 40_000],
    [{ "anthropic-ratelimit-tokens-reset": "2025-03-01T11:00:00Z" }, 0],
  ];
  for (const [headers, expected] of rows) {
    assert.equal(parseRetryAfterMs(new Headers(headers), NOW), expected, JSON.stringify(headers));
  }
});

interface Row {
  name: string;
  status: number;
  family?: "openai" | "anthropic" | "gemini";
  /** Raw body text, or a fixture path ("anthropic/…json"). */
  body: string;
  headers?: Record<string, string>;
  kind: FailureKind;
  retryAfterMs?: number;
}

const ROWS: Row[] = [
  { name: "bad param", status: 400, body: "openai/error_bad_param.json", kind: "caller_fault" },
  { name: "context", status: 400, body: "openai/error_context_length.json", kind: "capability" },
  {
    name: "prompt is too long",
    status: 400,
    family: "anthropic",
    body: "anthropic/error_prompt_too_long.json",
    kind: "capability",
  },
  {
    name: "413",
    status: 413,
    family: "anthropic",
    body:
      '{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}',
    kind: "caller_fault",
  },
  { name: "422", status: 422, body: '{"detail":"validation failed"}', kind: "caller_fault" },
  {
    name: "400 decommissioned model",
    status: 400,
    body:
      '{"error":{"message":"The model `llama2-70b` has been decommissioned and is no longer supported.","type":"invalid_request_error","code":"model_decommissioned"}}',
    kind: "model_unavailable",
  },
  {
    name: "400 spent credit",
    status: 400,
    family: "anthropic",
    body: "anthropic/error_credit_balance.json",
    kind: "quota",
  },
  { name: "401", status: 401, body: "openai/error_invalid_key.json", kind: "auth" },
  {
    name: "401 anthropic",
    status: 401,
    family: "anthropic",
    body: "anthropic/error_auth.json",
    kind: "auth",
  },
  { name: "402", status: 402, body: '{"error":{"message":"Insufficient credits"}}', kind: "quota" },
  {
    name: "403 region",
    status: 403,
    body:
      '{"error":{"message":"Country, region, or territory not supported","code":"unsupported_country_region_territory"}}',
    kind: "auth",
  },
  {
    name: "403 model not allowed",
    status: 403,
    body:
      '{"error":{"message":"Project `proj_x` does not have access to model `o3`","code":"model_not_found"}}',
    kind: "model_unavailable",
  },
  {
    name: "404 model",
    status: 404,
    body: "openai/error_model_not_found.json",
    kind: "model_unavailable",
  },
  {
    name: "404 anthropic model",
    status: 404,
    family: "anthropic",
    body: "anthropic/error_model_not_found.json",
    kind: "model_unavailable",
  },
  { name: "404 wrong route", status: 404, body: "404 page not found", kind: "transient" },
  {
    name: "400 bedrock invalid model id",
    status: 400,
    body: '{"message":"The provided model identifier is invalid."}',
    kind: "model_unavailable",
  },
  {
    name: "400 bedrock model needs an inference profile",
    status: 400,
    body:
      `{"message":"Invocation of model ID anthropic.claude-sonnet-4-6 with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model."}`,
    kind: "model_unavailable",
  },
  {
    name: "404 bedrock model end of life",
    status: 404,
    body:
      '{"message":"This model version has reached the end of its life. Please refer to the AWS documentation for more details."}',
    kind: "model_unavailable",
  },
  {
    name: "424 bedrock ModelErrorException",
    status: 424,
    body: '{"message":"The model encountered an error while processing the request."}',
    kind: "transient",
  },
  { name: "408", status: 408, body: "Request Timeout", kind: "timeout" },
  {
    name: "429 rate limit, billing link in text",
    status: 429,
    body: "openai/error_rate_limit.json",
    headers: { "x-ratelimit-reset-requests": "120ms", "x-ratelimit-remaining-requests": "0" },
    kind: "rate_limit",
    retryAfterMs: 120,
  },
  {
    name: "429 anthropic with retry-after",
    status: 429,
    family: "anthropic",
    body: "anthropic/error_rate_limit.json",
    headers: {
      "retry-after": "17",
      "anthropic-ratelimit-input-tokens-reset": "2025-03-01T12:01:00Z",
    },
    kind: "rate_limit",
    retryAfterMs: 17_000,
  },
  {
    name: "429 anthropic reset header only",
    status: 429,
    family: "anthropic",
    body: "anthropic/error_rate_limit.json",
    headers: { "anthropic-ratelimit-input-tokens-reset": "2025-03-01T12:01:00Z" },
    kind: "rate_limit",
    retryAfterMs: 60_000,
  },
  { name: "429 quota", status: 429, body: "openai/error_insufficient_quota.json", kind: "quota" },
  {
    name: "429 quota ignores bucket resets",
    status: 429,
    body: "openai/error_insufficient_quota.json",
    headers: { "x-ratelimit-reset-tokens": "6m0s" },
    kind: "quota",
  },
  {
    name: "429 anthropic spend limit",
    status: 429,
    family: "anthropic",
    body: "anthropic/error_spend_limit.json",
    kind: "quota",
  },
  { name: "500", status: 500, body: "", kind: "transient" },
  {
    name: "500 ignores bucket resets",
    status: 500,
    body: '{"error":{"message":"The server had an error"}}',
    headers: { "x-ratelimit-reset-requests": "8ms" },
    kind: "transient",
  },
  {
    name: "502 html",
    status: 502,
    body: "<html><h1>502 Bad Gateway</h1></html>",
    kind: "transient",
  },
  {
    name: "503 with HTTP-date retry-after",
    status: 503,
    body: "Service Unavailable",
    headers: { "retry-after": "Sat, 01 Mar 2025 12:02:00 GMT" },
    kind: "transient",
    retryAfterMs: 120_000,
  },
  { name: "504", status: 504, body: "", kind: "transient" },
  {
    name: "529 overloaded",
    status: 529,
    family: "anthropic",
    body: "anthropic/error_overloaded.json",
    kind: "transient",
  },
  { name: "599", status: 599, body: "", kind: "transient" },
  { name: "418", status: 418, body: "I'm a teapot", kind: "unknown" },
  { name: "302", status: 302, body: "", kind: "unknown" },
  // Gemini: Google's {"error": {code, message, status, details}} (ai.google.dev troubleshooting).
  {
    name: "429 gemini RESOURCE_EXHAUSTED with quota wording and RetryInfo",
    status: 429,
    family: "gemini",
    body:
      '{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}',
    kind: "rate_limit",
    retryAfterMs: 37_000,
  },
  {
    name: "429 gemini per-day quota",
    status: 429,
    family: "gemini",
    body:
      '{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier","quotaValue":"250"}]}]}}',
    kind: "quota",
  },
  {
    name: "400 gemini invalid key",
    status: 400,
    family: "gemini",
    body:
      '{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}',
    kind: "auth",
  },
  {
    name: "400 gemini bad argument",
    status: 400,
    family: "gemini",
    body:
      '{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}',
    kind: "caller_fault",
  },
  {
    name: "400 gemini billing needed",
    status: 400,
    family: "gemini",
    body:
      '{"error":{"code":400,"message":"Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio.","status":"FAILED_PRECONDITION"}}',
    kind: "quota",
  },
  {
    name: "404 gemini model",
    status: 404,
    family: "gemini",
    body:
      '{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.","status":"NOT_FOUND"}}',
    kind: "model_unavailable",
  },
  {
    name: "403 gemini permission",
    status: 403,
    family: "gemini",
    body:
      '{"error":{"code":403,"message":"Method doesn\'t allow unregistered callers.","status":"PERMISSION_DENIED"}}',
    kind: "auth",
  },
  {
    name: "503 gemini overloaded",
    status: 503,
    family: "gemini",
    body:
      '{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}',
    kind: "transient",
  },
];

Deno.test("classifyHttpFailure: status + headers + body → kind and retry hint", async () => {
  for (const row of ROWS) {
    const adapter = adapterFor(row.family ?? "openai")!;
    const text = /^\w+\/[\w.]+\.json$/.test(row.body) ? await fixtureText(row.body) : row.body;
    const error = adapter.parseError(row.status, text);
    const f = classifyHttpFailure({
      status: row.status,
      headers: new Headers(row.headers),
      error,
      now: NOW,
    });
    assert.equal(f.kind, row.kind, row.name);
    assert.equal(f.retryAfterMs, row.retryAfterMs, `${row.name}: retryAfterMs`);
    assert.equal(f.status, row.status);
    assert.equal(f.message, error.message);
    assert.equal(isCallerFault(f), row.kind === "caller_fault", `${row.name}: isCallerFault`);
  }
});

// What one model cannot take but another may: capability (fall over, no same-model retry).
const CAPABILITY: [string, number, string][] = [
  [
    "gemini input tokens",
    400,
    '{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}',
  ],
  ["bedrock input too long", 400, '{"message":"Input is too long for requested model."}'],
  [
    "mistral context",
    400,
    '{"object":"error","message":"Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 maximum context length","type":"invalid_request_error"}',
  ],
  [
    "groq context code",
    400,
    '{"error":{"message":"Please reduce the length of the messages or completion.","type":"invalid_request_error","code":"context_length_exceeded"}}',
  ],
  [
    "openai max_tokens",
    400,
    '{"error":{"message":"max_tokens is too large: 100000. This model supports at most 16384 completion tokens, whereas you provided 100000.","type":"invalid_request_error","param":"max_tokens","code":"invalid_value"}}',
  ],
  [
    "max_completion_tokens",
    400,
    '{"error":{"message":"max_completion_tokens is too large: 200000.","param":"max_completion_tokens"}}',
  ],
  [
    "vllm maximum value",
    400,
    '{"object":"error","message":"The maximum value for `max_tokens` is 4096.","type":"BadRequestError","code":400}',
  ],
  [
    "anthropic output limit",
    400,
    '{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: 300000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4"}}',
  ],
  [
    "no image input",
    400,
    '{"error":{"message":"This model does not support image input.","type":"invalid_request_error"}}',
  ],
  [
    "image_url on a text model",
    400,
    '{"error":{"message":"Invalid content type. image_url is only supported by certain models.","type":"invalid_request_error","param":"messages.[0].content.[1].type"}}',
  ],
  [
    "ollama tools",
    400,
    '{"error":{"message":"registry.ollama.ai/library/llama2:latest does not support tools","type":"api_error"}}',
  ],
  ["tools not supported", 400, '{"error":{"message":"tools are not supported for this model"}}'],
  [
    "function calling not enabled",
    400,
    '{"error":{"code":400,"message":"Function calling is not enabled for models/gemini-1.0-pro-vision","status":"INVALID_ARGUMENT"}}',
  ],
  [
    "reasoning model parameter",
    400,
    '{"error":{"message":"Unsupported parameter: \'max_tokens\' is not supported with this model. Use \'max_completion_tokens\' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}',
  ],
  [
    "prefill refused",
    400,
    '{"type":"error","error":{"type":"invalid_request_error","message":"This model does not support assistant message prefill. The conversation must end with a user message."}}',
  ],
  [
    "prefill trailing whitespace",
    400,
    '{"type":"error","error":{"type":"invalid_request_error","message":"messages: final assistant content cannot end with trailing whitespace"}}',
  ],
  [
    "413 prompt too long",
    413,
    '{"type":"error","error":{"type":"request_too_large","message":"prompt is too long: 250000 tokens > 200000 maximum"}}',
  ],
];

// Refused content and plain bad requests stay the caller's: no retry, no fallback.
const CALLER: [string, number, string][] = [
  [
    "content policy code",
    400,
    '{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","code":"content_policy_violation"}}',
  ],
  [
    "azure content filter",
    400,
    '{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI\'s content management policy.","type":null,"param":"prompt","code":"content_filter","status":400}}',
  ],
  [
    "policy that mentions the context",
    400,
    '{"error":{"message":"This prompt was flagged by our safety system; the context window is not the problem.","code":"content_policy_violation"}}',
  ],
  [
    "max_tokens below 1",
    400,
    '{"error":{"message":"Invalid \'max_tokens\': integer below minimum value. Expected a value >= 1, but got 0 instead.","param":"max_tokens","code":"integer_below_min_value"}}',
  ],
  [
    "bad messages",
    400,
    '{"error":{"message":"messages: roles must alternate between \\"user\\" and \\"assistant\\""}}',
  ],
];

Deno.test("classifyHttpFailure: what this model cannot take is capability, keeping the code", () => {
  for (const [name, status, body] of CAPABILITY) {
    const family = body.includes('"type":"error"')
      ? "anthropic"
      : /"status":"/.test(body)
      ? "gemini"
      : "openai";
    const error = adapterFor(family)!.parseError(status, body);
    const f = classifyHttpFailure({ status, headers: new Headers(), error, now: NOW });
    assert.equal(f.kind, "capability", name);
    assert.equal(f.scope, undefined, `${name}: model-scoped`);
    assert.equal(isCallerFault(f), false, name);
  }
  const ctx = classifyHttpFailure({
    status: 400,
    headers: new Headers(),
    error: {
      message: "This model's maximum context length is 8192 tokens.",
      code: "context_length_exceeded",
    },
    now: NOW,
  });
  assert.deepEqual([ctx.kind, ctx.code], ["capability", "context_length_exceeded"]);
  const anthropic = classifyHttpFailure({
    status: 400,
    headers: new Headers(),
    error: {
      message: "prompt is too long: 215003 tokens > 200000 maximum",
      type: "invalid_request_error",
    },
    now: NOW,
  });
  assert.equal(
    anthropic.code,
    "context_length_exceeded",
    "OpenAI's code when the provider sends none",
  );
  const image = classifyHttpFailure({
    status: 400,
    headers: new Headers(),
    error: { message: "This model does not support image input." },
    now: NOW,
  });
  assert.deepEqual(
    [image.kind, image.code],
    ["capability", undefined],
    "no code made up for others",
  );
});

Deno.test("classifyHttpFailure: content policy and plain bad requests stay caller faults", () => {
  for (const [name, status, body] of CALLER) {
    const error = adapterFor("openai")!.parseError(status, body);
    const f = classifyHttpFailure({ status, headers: new Headers(), error, now: NOW });
    assert.equal(f.kind, "caller_fault", name);
    assert.ok(isCallerFault(f), name);
  }
});

Deno.test("classifyHttpFailure: a rejected key is provider-wide, everything else model-scoped", () => {
  const rows: [number, string, FailureKind, "provider" | undefined][] = [
    [401, '{"error":{"message":"Incorrect API key provided"}}', "auth", "provider"],
    [
      403,
      '{"error":{"message":"Country, region, or territory not supported","code":"unsupported_country_region_territory"}}',
      "auth",
      "provider",
    ],
    [498, '{"message":"invalid api token"}', "auth", "provider"],
    [
      403,
      '{"error":{"message":"Project does not have access to model `o3`","code":"model_not_found"}}',
      "model_unavailable",
      undefined,
    ],
    [
      404,
      '{"error":{"message":"The model `gpt-9` does not exist","code":"model_not_found"}}',
      "model_unavailable",
      undefined,
    ],
    [500, '{"error":{"message":"The server had an error"}}', "transient", undefined],
    [529, '{"error":{"message":"Overloaded"}}', "transient", undefined],
    [429, '{"error":{"message":"Rate limit reached"}}', "rate_limit", undefined],
    [408, "Request Timeout", "timeout", undefined],
  ];
  for (const [status, body, kind, scope] of rows) {
    const error = adapterFor("openai")!.parseError(status, body);
    const f = classifyHttpFailure({ status, headers: new Headers(), error, now: NOW });
    assert.deepEqual([f.kind, f.scope], [kind, scope], `${status} ${body}`);
  }
});

Deno.test("classifyHttpFailure keeps the provider's type and code for events and error bodies", () => {
  const f = classifyHttpFailure({
    status: 429,
    headers: new Headers(),
    error: { message: "quota", type: "insufficient_quota", code: "insufficient_quota" },
    now: NOW,
  });
  assert.deepEqual(f, {
    kind: "quota",
    status: 429,
    message: "quota",
    type: "insufficient_quota",
    code: "insufficient_quota",
  });
});

Deno.test("classifyNetworkError tells timeouts from broken connections", () => {
  const refused = new TypeError("error sending request for url (http://127.0.0.1:9/)", {
    cause: Object.assign(new Error("Connection refused (os error 111)"), {
      name: "ConnectionRefused",
    }),
  });
  const rows: [unknown, FailureKind][] = [
    [new DOMException("Signal timed out.", "TimeoutError"), "timeout"],
    [Object.assign(new Error("deadline"), { name: "TimeoutError" }), "timeout"],
    [Object.assign(new Error("read ETIMEDOUT"), { code: "ETIMEDOUT" }), "timeout"],
    [refused, "transient"],
    [new TypeError("Failed to fetch"), "transient"],
    [new Deno.errors.ConnectionReset("connection reset by peer"), "transient"],
    [new Deno.errors.UnexpectedEof("unexpected end of file"), "transient"],
    [Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "transient"],
    [new SyntaxError('openai: invalid JSON in stream: {"id'), "transient"],
    [new Error("something odd"), "unknown"],
    [new RangeError("bad"), "unknown"],
    ["a string", "unknown"],
    [undefined, "unknown"],
  ];
  for (const [err, kind] of rows) {
    const f = classifyNetworkError(err);
    assert.equal(f.kind, kind, String(err));
    assert.equal(f.status, undefined);
    assert.equal(typeof f.message, "string");
  }
  assert.equal(classifyNetworkError(refused).message, refused.message);
});

Deno.test("classifyNetworkError: reaching the provider at all failing is provider-wide", () => {
  // Deno's fetch: TypeError("fetch failed") with the reason in `cause`.
  const fetchFailed = (msg: string) => new TypeError("fetch failed", { cause: new Error(msg) });
  const rows: [unknown, FailureKind, "provider" | undefined][] = [
    [
      fetchFailed(
        "error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)",
      ),
      "transient",
      "provider",
    ],
    [
      fetchFailed(
        "error sending request for url (http://nope.invalid/): client error (Connect): dns error: failed to lookup address information: Name or service not known",
      ),
      "transient",
      "provider",
    ],
    [
      fetchFailed(
        "error sending request for url (https://x/): client error (Connect): invalid peer certificate: UnknownIssuer",
      ),
      "transient",
      "provider",
    ],
    [
      fetchFailed("tcp connect error: Network is unreachable (os error 101)"),
      "transient",
      "provider",
    ],
    [
      Object.assign(new Error("getaddrinfo ENOTFOUND api.x"), { code: "ENOTFOUND" }),
      "transient",
      "provider",
    ],
    [
      Object.assign(new Error("getaddrinfo EAI_AGAIN api.x"), { code: "EAI_AGAIN" }),
      "transient",
      "provider",
    ],
    [
      Object.assign(new Error("connect EHOSTUNREACH"), { code: "EHOSTUNREACH" }),
      "transient",
      "provider",
    ],
    [
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      "transient",
      "provider",
    ],
    // After the connection was accepted: per call, so model-scoped.
    [
      fetchFailed(
        "error sending request from 127.0.0.1:1 for http://127.0.0.1:2/ (127.0.0.1:2): client error (SendRequest): connection closed before message completed",
      ),
      "transient",
      undefined,
    ],
    [new Deno.errors.ConnectionReset("connection reset by peer"), "transient", undefined],
    [new Deno.errors.UnexpectedEof("unexpected end of file"), "transient", undefined],
    [Object.assign(new Error("write EPIPE"), { code: "EPIPE" }), "transient", undefined],
    [new SyntaxError("openai: invalid JSON in stream"), "transient", undefined],
    [new DOMException("no first token after 10 ms", "TimeoutError"), "timeout", undefined],
  ];
  for (const [err, kind, scope] of rows) {
    const f = classifyNetworkError(err);
    assert.deepEqual([f.kind, f.scope], [kind, scope], String((err as Error).cause ?? err));
  }
  assert.match(
    classifyNetworkError(rows[0][0]).message,
    /^fetch failed: .*Connection refused/,
    'the cause is named, not only "fetch failed"',
  );
});

Deno.test("classifyStreamError classifies in-stream errors like HTTP answers", () => {
  const rows: [UpstreamStreamError, FailureKind][] = [
    [
      new UpstreamStreamError({ message: "Overloaded", type: "overloaded_error" }, 529),
      "transient",
    ],
    [
      new UpstreamStreamError({ message: "slow down", type: "rate_limit_error" }, 429),
      "rate_limit",
    ],
    [new UpstreamStreamError({ message: "You exceeded your current quota" }, 429), "quota"],
    [new UpstreamStreamError({ message: "bad tool schema" }, 400), "caller_fault"],
    [
      new UpstreamStreamError({ message: "prompt is too long: 9 tokens > 8 maximum" }, 400),
      "capability",
    ],
    [new UpstreamStreamError({ message: "mystery" }), "transient"],
  ];
  for (const [err, kind] of rows) {
    const f = classifyStreamError(err, NOW);
    assert.equal(f.kind, kind, err.message);
    assert.equal(f.status, err.status);
    assert.equal(f.retryAfterMs, undefined);
  }
});

Deno.test("classifyNetworkError on real fetch failures: refused port, timeout signal", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close(); // nothing listens there any more
  const refused = await fetch(`http://127.0.0.1:${port}/`).catch((e) => e);
  assert.equal(classifyNetworkError(refused).kind, "transient");
  assert.equal(
    classifyNetworkError(refused).scope,
    "provider",
    "a refused connection is provider-wide",
  );

  // A server that accepts the connection and never answers.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of silent) conns.push(c);
  })();
  const timedOut = await fetch(`http://127.0.0.1:${silent.addr.port}/`, {
    signal: AbortSignal.timeout(30),
  }).catch((e) => e);
  assert.equal(classifyNetworkError(timedOut).kind, "timeout");
  silent.close();
  for (const c of conns) c.close();
  await accepting;
});
