// Google Vertex AI ⇄ OpenAI: Google's Gemini models through generateContent /
// streamGenerateContent (the Gemini translation, src/providers/gemini/), Anthropic's Claude models
// (`claude-*`) through rawPredict / streamRawPredict (the Messages translation,
// src/providers/anthropic/, without `model` and with anthropic_version "vertex-2023-10-16"), text
// embeddings through predict. Every call carries `Authorization: Bearer <token>`: the provider's
// service-account token (settings.accessToken, src/providers/vertex/token.ts), else the key from
// `keys` used as an access token (e.g. `gcloud auth print-access-token`).
// References: cloud.google.com/vertex-ai/docs/reference/rest (generateContent, predict, rawPredict),
// cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude.
import type { ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from "../../openai/types.ts";
import {
  type AdapterContext,
  type ProviderAdapter,
  type StreamDecoder,
  type UpstreamErrorInfo,
  type UpstreamRequest,
  UpstreamStreamError,
} from "../adapter.ts";
import { anthropicAdapter, buildBody as anthropicBody } from "../anthropic/adapter.ts";
import { buildBody as geminiBody, geminiAdapter } from "../gemini/adapter.ts";
import { parseGoogleError } from "../gemini/errors.ts";
import { embeddingTexts } from "../translate.ts";
import { isObject, num, truncate } from "../upstream_json.ts";
import { isClaudeModel, publisherModelUrl } from "./urls.ts";

/** The Messages API version Vertex AI's Claude models take, in the body. */
export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16";

/** The bearer token for this attempt; a missing one is the provider's auth failure. */
async function bearer(ctx: AdapterContext): Promise<string> {
  const token = ctx.settings.accessToken ? await ctx.settings.accessToken() : ctx.apiKey;
  if (token === "") {
    throw new UpstreamStreamError({
      message:
        'vertex: no credentials: set "credentials" to a service account key file ("env:NAME") or "keys" to an access token',
      type: "UNAUTHENTICATED",
      code: "missing_credentials",
    }, 401);
  }
  return token;
}

async function headersFor(ctx: AdapterContext, stream: boolean): Promise<Record<string, string>> {
  return {
    ...ctx.settings.headers,
    "content-type": "application/json",
    accept: stream ? "text/event-stream" : "application/json",
    authorization: `Bearer ${await bearer(ctx)}`,
  };
}

async function buildChatRequest(request: ChatRequest, ctx: AdapterContext) {
  if (isClaudeModel(ctx.model)) {
    const { model: _model, ...body } = anthropicBody(request, ctx);
    return {
      url: publisherModelUrl(
        ctx.baseUrl,
        "anthropic",
        ctx.model,
        ctx.stream ? "streamRawPredict" : "rawPredict",
      ),
      method: "POST" as const,
      headers: await headersFor(ctx, ctx.stream),
      body: JSON.stringify({ anthropic_version: VERTEX_ANTHROPIC_VERSION, ...body }),
    };
  }
  return {
    url: publisherModelUrl(
      ctx.baseUrl,
      "google",
      ctx.model,
      ctx.stream ? "streamGenerateContent?alt=sse" : "generateContent",
    ),
    method: "POST" as const,
    headers: await headersFor(ctx, ctx.stream),
    body: JSON.stringify(geminiBody(request)),
  };
}

const translation = (ctx: AdapterContext) =>
  isClaudeModel(ctx.model) ? anthropicAdapter : geminiAdapter;

/**
 * Vertex answers in Google's error shape ({"error": {"code", "message", "status"}}), also for
 * Claude models when the request does not get to the model (auth, quota, a model not enabled);
 * a Claude model's own errors come in Anthropic's shape ({"type": "error", "error": {…}}).
 */
function parseError(status: number, bodyText: string): UpstreamErrorInfo {
  try {
    const body = JSON.parse(bodyText);
    if (isObject(body) && body.type === "error") {
      return anthropicAdapter.parseError(status, bodyText);
    }
  } catch { /* not JSON: read as Google's */ }
  return parseGoogleError(status, bodyText);
}

// ---------------------------------------------------------------------------------------------
// Embeddings: predict on a text-embedding model, `instances: [{content}]` →
// `predictions[].embeddings.values` (token counts in `embeddings.statistics.token_count`).

async function buildEmbeddingsRequest(
  request: EmbeddingsRequest,
  ctx: AdapterContext,
): Promise<UpstreamRequest> {
  const inputs = embeddingTexts(request.input);
  if (!inputs) throw new Error("vertex: embeddings take text; token-id input is not supported");
  return {
    url: publisherModelUrl(ctx.baseUrl, "google", ctx.model, "predict"),
    method: "POST",
    headers: await headersFor(ctx, false),
    body: JSON.stringify({
      instances: inputs.map((content) => ({ content })),
      ...(request.dimensions ? { parameters: { outputDimensionality: request.dimensions } } : {}),
    }),
  };
}

function parseEmbeddingsResponse(body: unknown, ctx: AdapterContext): EmbeddingsResponse {
  if (!isObject(body) || !Array.isArray(body.predictions)) {
    throw new Error(
      `vertex: body is not a predict response: ${truncate(JSON.stringify(body) ?? "", 200)}`,
    );
  }
  let tokens = 0;
  const data = body.predictions.map((p, index) => {
    const e = isObject(p) && isObject(p.embeddings) ? p.embeddings : undefined;
    const values = e && Array.isArray(e.values) ? e.values : undefined;
    if (!values?.every((v) => typeof v === "number")) {
      throw new Error(`vertex: predictions[${index}] has no embeddings.values`);
    }
    if (e && isObject(e.statistics)) tokens += num(e.statistics.token_count);
    return { object: "embedding" as const, index, embedding: values as number[] };
  });
  return {
    object: "list",
    data,
    model: ctx.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

export const vertexAdapter: ProviderAdapter = {
  family: "vertex",
  buildChatRequest,
  parseChatResponse: (body, ctx) => translation(ctx).parseChatResponse(body, ctx),
  createStreamDecoder: (ctx): StreamDecoder => translation(ctx).createStreamDecoder(ctx),
  parseError,
  buildEmbeddingsRequest,
  parseEmbeddingsResponse,
};
