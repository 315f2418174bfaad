// Azure OpenAI: OpenAI's wire format on a per-deployment URL, authenticated with `api-key`.
// Requests, answers, streams and errors are the OpenAI adapter's; this file only moves the model
// into the URL and reads Azure's own error codes. Sources: the Azure OpenAI data-plane inference
// REST reference (POST {endpoint}/openai/deployments/{deployment-id}/chat/completions
// ?api-version=…, and …/embeddings), the content-filtering concept page (400 `content_filter`
// with innererror `ResponsibleAIPolicyViolation`; finish_reason `content_filter`), and the openai
// npm SDK's AzureOpenAI client (base URL `${endpoint}/openai`, path `/deployments/{model}/…`,
// header `api-key`).
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "../../openai/types.ts";
import type {
  AdapterContext,
  ProviderAdapter,
  StreamDecoder,
  UpstreamErrorInfo,
  UpstreamRequest,
} from "../adapter.ts";
import { isObject, type Json } from "../upstream_json.ts";
import { openaiAdapter } from "../openai/adapter.ts";
import { nativeItemOf, passthroughOf, responsesBody } from "../openai/responses_api.ts";
import type { SseEvent } from "../sse.ts";

/** The latest GA data-plane inference api-version when config names none. */
export const AZURE_DEFAULT_API_VERSION = "2024-10-21";

const apiVersion = (ctx: AdapterContext) => ctx.settings.apiVersion ?? AZURE_DEFAULT_API_VERSION;

/** `{baseUrl}/openai/deployments/{deployment}/{operation}?api-version=…` */
function deploymentUrl(ctx: AdapterContext, operation: "chat/completions" | "embeddings"): string {
  // The resource endpoint is the base URL; tolerate one already ending in /openai (SDK style).
  const endpoint = ctx.baseUrl.replace(/\/openai\/?$/, "");
  const deployment = ctx.settings.deployments?.[ctx.model] ?? ctx.model;
  return `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}/${operation}` +
    `?api-version=${encodeURIComponent(apiVersion(ctx))}`;
}

/**
 * `stream_options` arrived with api-version 2024-09-01-preview and is in the 2024-10-21 GA spec;
 * older versions answer 400 "Unrecognized request argument" (Azure/azure-rest-api-specs#29157,
 * griptape-ai/griptape#1640). Dated versions before that get a stream without usage instead.
 */
function takesStreamOptions(version: string): boolean {
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(version)?.[1];
  return date === undefined || date >= "2024-09-01";
}

/** The OpenAI request, re-addressed: deployment URL, `api-key` instead of a bearer token, and no
 * `model` in the body (the deployment decides the model). */
function toAzure(
  up: UpstreamRequest,
  ctx: AdapterContext,
  operation: "chat/completions" | "embeddings",
): UpstreamRequest {
  const { authorization: _bearer, ...headers } = up.headers;
  if (ctx.apiKey !== "") headers["api-key"] = ctx.apiKey;
  const text = typeof up.body === "string" ? up.body : new TextDecoder().decode(up.body);
  const { model: _model, ...body } = JSON.parse(text) as Json;
  if (!takesStreamOptions(apiVersion(ctx))) delete body.stream_options;
  return { ...up, url: deploymentUrl(ctx, operation), headers, body: JSON.stringify(body) };
}

function rebuild(
  up: UpstreamRequest | Promise<UpstreamRequest>,
  f: (u: UpstreamRequest) => UpstreamRequest,
): UpstreamRequest | Promise<UpstreamRequest> {
  return up instanceof Promise ? up.then(f) : f(up);
}

/**
 * The Responses API lives on the v1 surface, `{endpoint}/openai/v1/responses`, with no
 * deployment in the URL and no api-version: the deployment name is the body's `model`
 * (learn.microsoft.com, Azure OpenAI "Responses API" how-to and API version lifecycle).
 */
function buildResponsesRequest(native: Json, ctx: AdapterContext): UpstreamRequest {
  const endpoint = ctx.baseUrl.replace(/\/openai(?:\/v1)?\/?$/, "");
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: ctx.stream ? "text/event-stream" : "application/json",
  };
  if (ctx.apiKey !== "") headers["api-key"] = ctx.apiKey;
  return {
    url: `${endpoint}/openai/v1/responses`,
    method: "POST",
    headers,
    body: responsesBody(native, ctx, ctx.settings.deployments?.[ctx.model] ?? ctx.model),
  };
}

function buildChatRequest(request: ChatRequest, ctx: AdapterContext) {
  const native = passthroughOf(request, ctx.settings);
  if (native) return buildResponsesRequest(native, ctx);
  return rebuild(
    openaiAdapter.buildChatRequest(request, ctx),
    (u) => toAzure(u, ctx, "chat/completions"),
  );
}

function parseChatResponse(body: unknown, ctx: AdapterContext): ChatCompletion {
  return openaiAdapter.parseChatResponse(body, ctx);
}

/**
 * OpenAI's decoder, minus Azure's annotation chunks: a stream opens with a chunk that carries only
 * `prompt_filter_results` (empty `choices`, empty id and model). It says nothing to an OpenAI
 * client, so it is dropped; the trailing usage chunk (empty `choices` with `usage`) is kept.
 */
function createStreamDecoder(ctx: AdapterContext): StreamDecoder {
  const inner = openaiAdapter.createStreamDecoder(ctx);
  return {
    get finished() {
      return inner.finished;
    },
    push(event: SseEvent): ChatChunk[] {
      return inner.push(event).filter((c) =>
        c.choices.length > 0 || !!c.usage || nativeItemOf(c) !== undefined
      );
    },
  };
}

/**
 * OpenAI's error reading, plus Azure's codes in the taxonomy's words:
 * - a content-filter refusal (code `content_filter`, or innererror `ResponsibleAIPolicyViolation`)
 *   is about this prompt: code `content_filter`, a caller fault that no fallback should retry;
 * - `DeploymentNotFound` means this model (its deployment) is not on the resource: reported as
 *   `model_not_found` so only that model cools down and the candidate chain moves on.
 */
function parseError(status: number, bodyText: string): UpstreamErrorInfo {
  const info = openaiAdapter.parseError(status, bodyText);
  let inner: unknown;
  try {
    const raw = JSON.parse(bodyText);
    inner = isObject(raw) && isObject(raw.error) ? raw.error.innererror : undefined;
  } catch {
    return info;
  }
  if (isObject(inner) && inner.code === "ResponsibleAIPolicyViolation") {
    info.code = "content_filter";
  }
  if (info.code === "DeploymentNotFound") info.code = "model_not_found";
  return info;
}

function buildEmbeddingsRequest(request: EmbeddingsRequest, ctx: AdapterContext) {
  return rebuild(
    openaiAdapter.buildEmbeddingsRequest!(request, ctx),
    (u) => toAzure(u, ctx, "embeddings"),
  );
}

function parseEmbeddingsResponse(body: unknown, ctx: AdapterContext): EmbeddingsResponse {
  return openaiAdapter.parseEmbeddingsResponse!(body, ctx);
}

export const azureAdapter: ProviderAdapter = {
  family: "azure",
  buildChatRequest,
  parseChatResponse,
  createStreamDecoder,
  parseError,
  buildEmbeddingsRequest,
  parseEmbeddingsResponse,
};
