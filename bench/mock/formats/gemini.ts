// Google Gemini API (generativelanguage): under `/{target}/v1beta` (or `/v1`),
//   POST models/{model}:generateContent             → GenerateContentResponse
//   POST models/{model}:streamGenerateContent?alt=sse → SSE of GenerateContentResponse objects
//        (without alt=sse: one JSON array of them, streamed)
//   POST models/{model}:embedContent, :batchEmbedContents
// Wire facts from Google's API reference: https://ai.google.dev/api/generate-content (request
// `contents`/`systemInstruction`, candidates, finishReason, usageMetadata, modelVersion,
// responseId), https://ai.google.dev/api/embeddings (embedding values) and
// https://ai.google.dev/gemini-api/docs/generate-content/api-errors (HTTP codes and their
// `status` strings; errors are `{"error": {"code", "message", "status", "details"?}}`).
// A stream has no terminator: its last event carries finishReason and the final usageMetadata;
// earlier events carry the running counts. Events end in CRLF CRLF, as the service sends them.
import type { Json, MockCall, MockErrorSpec, MockFormat, Refusal, RetryAfter } from "./format.ts";
import {
  BROKEN_JSON,
  dimensionsOf,
  embedding,
  JSON_HEADERS,
  jsonReply,
  list,
  partsText,
  SSE_HEADERS,
  sseData,
} from "./wire.ts";

const STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "NOT_IMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

const JSON_UTF8 = { "content-type": "application/json; charset=UTF-8" };

function googleError(status: number, spec: MockErrorSpec = {}, details?: Json[]): Response {
  const error: Json = {
    code: status,
    message: spec.message ?? `Mock upstream error ${status}.`,
    status: spec.type ?? STATUS[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION"),
  };
  if (details) error.details = details;
  return Response.json({ error }, { status, headers: JSON_UTF8 });
}

const METHODS: Record<string, { operation: "chat" | "embed"; stream: boolean }> = {
  generateContent: { operation: "chat", stream: false },
  streamGenerateContent: { operation: "chat", stream: true },
  embedContent: { operation: "embed", stream: false },
  batchEmbedContents: { operation: "embed", stream: false },
};

const methodOf = (c: MockCall) => {
  const path = decodeURIComponent(c.url.pathname);
  return path.slice(path.lastIndexOf(":") + 1);
};

/** A QuotaFailure detail naming one quota, as a 429 carries it. */
const quotaFailure = (c: MockCall, quotaId: string, quotaValue: string): Json => ({
  "@type": "type.googleapis.com/google.rpc.QuotaFailure",
  violations: [{
    quotaMetric: "generativelanguage.googleapis.com/generate_content_requests",
    quotaId,
    quotaDimensions: { location: "global", model: c.model },
    quotaValue,
  }],
});

const QUOTA_MESSAGE = "You exceeded your current quota, please check your plan and billing " +
  "details (mock).";

const contentText = (content: unknown) => partsText((content as Json | undefined)?.parts);

const REFUSALS: Record<Exclude<Refusal, "content_filter">, string> = {
  context_length:
    "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
  prefill: "Please ensure that multiturn requests end with a user role or a function response.",
};

/**
 * Gemini does not answer a blocked prompt with an error: it is a 200 whose promptFeedback names
 * the block reason and which has no candidates (one such event when streamed).
 */
function promptBlocked(c: MockCall): Response {
  const blocked = {
    promptFeedback: {
      blockReason: "SAFETY",
      safetyRatings: [
        { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true },
      ],
    },
    usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 },
    modelVersion: c.model,
    responseId: `resp_${c.target}_${c.seq}`,
  };
  if (!c.stream) return Response.json(blocked, { headers: JSON_UTF8 });
  return c.url.searchParams.get("alt") === "sse"
    ? new Response(sseData(blocked, "\r\n"), { headers: SSE_HEADERS })
    : new Response(`[${JSON.stringify(blocked)}]`, { headers: JSON_UTF8 });
}

/** The texts to embed: one for :embedContent, one per request for :batchEmbedContents. */
function embedTexts(c: MockCall): string[] {
  return methodOf(c) === "embedContent"
    ? [contentText(c.body.content)]
    : list(c.body.requests).map((r) => contentText(r.content));
}

/** The vector size asked for (`outputDimensionality`), the default, or undefined if invalid. */
function embedDimensions(c: MockCall): number | undefined {
  const requests = methodOf(c) === "embedContent" ? [c.body] : list(c.body.requests);
  return dimensionsOf(requests.map((r) => r.outputDimensionality).find((d) => d !== undefined));
}

export const gemini: MockFormat = {
  name: "gemini",
  baseUrl: "/v1beta",
  routes: [
    "POST /v1beta/models/{model}:generateContent",
    "POST /v1beta/models/{model}:streamGenerateContent?alt=sse",
    "POST /v1beta/models/{model}:embedContent",
    "POST /v1beta/models/{model}:batchEmbedContents",
  ],
  match(method, path) {
    const [version, collection, name, ...rest] = path;
    if (method !== "POST" || rest.length > 0 || !name) return;
    if (version !== "v1beta" && version !== "v1") return;
    if (collection !== "models" && collection !== "tunedModels") return;
    const colon = name.lastIndexOf(":");
    const spec = METHODS[name.slice(colon + 1)];
    if (colon < 1 || !spec) return;
    const model = name.slice(0, colon);
    return { ...spec, model: collection === "models" ? model : `tunedModels/${model}` };
  },
  model: (_body, route) => route.model!,
  streaming: (_body, route) => route.stream === true,
  validate(c) {
    const { body } = c;
    const missing = (field: string) =>
      googleError(400, { message: `* ${field}: ${field.split(".").at(-1)} is not specified` });
    switch (methodOf(c)) {
      case "embedContent":
        if (!contentText(body.content)) return missing("EmbedContentRequest.content");
        break;
      case "batchEmbedContents":
        if (list(body.requests).length === 0) return missing("BatchEmbedContentsRequest.requests");
        break;
      default:
        if (list(body.contents).length === 0) return missing("GenerateContentRequest.contents");
    }
    if (c.route.operation === "embed" && embedDimensions(c) === undefined) {
      return googleError(400, { message: "outputDimensionality must be from 1 to 4096 (mock)." });
    }
    return undefined;
  },
  prompt(c) {
    const { body } = c;
    if (c.route.operation === "embed") return embedTexts(c).join("");
    return contentText(body.systemInstruction) +
      list(body.contents).map((m) => contentText(m)).join("");
  },
  error: (status, spec) => googleError(status, spec),
  rateLimit: (c, retry: RetryAfter) =>
    googleError(429, { message: QUOTA_MESSAGE }, [
      quotaFailure(c, "GenerateRequestsPerMinutePerProjectPerModel", "60"),
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retry.sec}s` },
    ]),
  // A spent daily quota: the same 429 status, naming a per-day quota and no retry delay.
  quota: (c) =>
    googleError(429, { message: QUOTA_MESSAGE }, [
      quotaFailure(c, "GenerateRequestsPerDayPerProjectPerModel", "1000"),
    ]),
  reject: (c, why) =>
    why === "content_filter"
      ? promptBlocked(c)
      : googleError(400, { message: REFUSALS[why], type: "INVALID_ARGUMENT" }),
  answer(c, { text, pieces, input, output, complete }) {
    if (c.route.operation === "embed") {
      const dims = embedDimensions(c)!;
      const values = embedTexts(c).map((t) => ({ values: embedding(t, dims) }));
      const body = methodOf(c) === "embedContent"
        ? { embedding: values[0] }
        : { embeddings: values };
      return jsonReply(JSON.stringify(body), JSON_UTF8);
    }
    const responseId = `resp_${c.target}_${c.seq}`;
    const usage = (candidates: number) => ({
      promptTokenCount: input,
      candidatesTokenCount: candidates,
      totalTokenCount: input + candidates,
    });
    const response = (part: string, usageMetadata: Json, finishReason?: string) => ({
      candidates: [{
        content: { parts: [{ text: part }], role: "model" },
        ...(finishReason ? { finishReason } : {}),
        index: 0,
      }],
      usageMetadata,
      modelVersion: c.model,
      responseId,
    });
    if (!c.stream) {
      return jsonReply(JSON.stringify(response(text, usage(output), "STOP")), JSON_UTF8);
    }
    let sent = "";
    const events = pieces.map((piece, i) => {
      sent += piece;
      const last = complete && i === pieces.length - 1;
      return last
        ? response(piece, usage(output), "STOP")
        : response(piece, usage(Math.ceil(sent.length / 4)));
    });
    if (c.url.searchParams.get("alt") === "sse") {
      return { headers: SSE_HEADERS, chunks: events.map((e) => sseData(e, "\r\n")), firstPiece: 0 };
    }
    // Without alt=sse the stream is a single JSON array, sent element by element.
    const chunks = events.map((e, i) => `${i === 0 ? "[" : ",\r\n"}${JSON.stringify(e)}`);
    if (complete) chunks.push("]");
    return { headers: JSON_UTF8, chunks, firstPiece: 0 };
  },
  malformed: (c) =>
    c.stream && c.url.searchParams.get("alt") === "sse"
      ? { headers: SSE_HEADERS, chunks: ['data: {"candidates": [ oops\r\n\r\n'] }
      : { headers: JSON_HEADERS, chunks: [BROKEN_JSON] },
};
