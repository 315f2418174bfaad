// OpenAI Chat Completions, and every server that speaks it (vLLM, Groq, Together, Ollama, …).
// The canonical types already are this wire format, so the adapter mostly passes through.
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "../../openai/types.ts";
import {
  type AdapterContext,
  type ProviderAdapter,
  type StreamDecoder,
  type UpstreamErrorInfo,
  UpstreamStreamError,
} from "../adapter.ts";
import type { SseEvent } from "../sse.ts";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);
const str = (v: unknown) =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;

/** Reads OpenAI's `{"error": {...}}` object, or the looser shapes some compatible servers use. */
function errorInfo(raw: unknown, fallback: string): UpstreamErrorInfo {
  const e = isObject(raw) && "error" in raw ? raw.error : raw;
  if (typeof e === "string" && e !== "") return { message: e };
  if (!isObject(e)) return { message: fallback };
  const info: UpstreamErrorInfo = { message: str(e.message) || fallback };
  const type = str(e.type), code = str(e.code), param = str(e.param);
  if (type) info.type = type;
  if (code) info.code = code;
  if (param) info.param = param;
  return info;
}

/** vLLM and OpenRouter put the HTTP status in `code` of an in-stream error. */
function statusOf(raw: unknown): number | undefined {
  const code = isObject(raw) && isObject(raw.error) ? Number(raw.error.code) : NaN;
  return Number.isInteger(code) && code >= 400 && code <= 599 ? code : undefined;
}

function buildChatRequest(request: ChatRequest, ctx: AdapterContext) {
  const { fallbacks: _gatewayOnly, stream_options, ...rest } = request;
  const body: Json = { ...rest, model: ctx.model, stream: ctx.stream };
  // Usage only arrives in a stream when asked for; OpenAI rejects stream_options without stream.
  if (ctx.stream) body.stream_options = { ...stream_options, include_usage: true };
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: ctx.stream ? "text/event-stream" : "application/json",
  };
  if (ctx.apiKey !== "") headers.authorization = `Bearer ${ctx.apiKey}`;
  return {
    url: `${ctx.baseUrl}/chat/completions`,
    method: "POST" as const,
    headers,
    body: JSON.stringify(body),
  };
}

function parseChatResponse(body: unknown, ctx: AdapterContext): ChatCompletion {
  // Some compatible servers answer 200 with an error body; report it like a stream error.
  if (isObject(body) && body.error !== undefined && body.choices === undefined) {
    throw new UpstreamStreamError(errorInfo(body, "upstream error"), statusOf(body));
  }
  if (!isObject(body) || !Array.isArray(body.choices)) {
    throw new Error(
      `openai: upstream body is not a chat completion: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  return {
    ...body,
    id: str(body.id) ?? ctx.id,
    object: "chat.completion",
    created: typeof body.created === "number" ? body.created : ctx.nowSec,
    model: str(body.model) ?? ctx.model,
  } as ChatCompletion;
}

function createStreamDecoder(ctx: AdapterContext): StreamDecoder {
  let finished = false;
  return {
    get finished() {
      return finished;
    },
    push(event: SseEvent): ChatChunk[] {
      const data = event.data.trim();
      if (finished || data === "") return [];
      if (data === "[DONE]") {
        finished = true;
        return [];
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(data);
      } catch {
        // SyntaxError: the classifier treats a garbled stream as the upstream's fault.
        throw new SyntaxError(`openai: invalid JSON in stream: ${truncate(data, 200)}`);
      }
      if (isObject(chunk) && chunk.error !== undefined) {
        throw new UpstreamStreamError(errorInfo(chunk, "upstream stream error"), statusOf(chunk));
      }
      if (!isObject(chunk) || !Array.isArray(chunk.choices)) {
        throw new SyntaxError(`openai: stream event is not a chunk: ${truncate(data, 200)}`);
      }
      return [{
        ...chunk,
        id: str(chunk.id) ?? ctx.id,
        object: "chat.completion.chunk",
        created: typeof chunk.created === "number" ? chunk.created : ctx.nowSec,
        model: str(chunk.model) ?? ctx.model,
      } as ChatChunk];
    },
  };
}

function parseError(status: number, bodyText: string): UpstreamErrorInfo {
  const fallback = truncate(bodyText.trim(), 500) || `HTTP ${status}`;
  try {
    return errorInfo(JSON.parse(bodyText), fallback);
  } catch {
    return { message: fallback }; // an HTML page from a proxy, a plain-text 502, …
  }
}

// Embeddings: POST {baseUrl}/embeddings (OpenAI API reference, "Create embeddings"; response shape
// as the openai npm SDK's CreateEmbeddingResponse). The client's fields pass through, all but the
// gateway's own `fallbacks`, with the upstream model name.
function buildEmbeddingsRequest(request: EmbeddingsRequest, ctx: AdapterContext) {
  const { fallbacks: _gatewayOnly, ...rest } = request;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
  };
  if (ctx.apiKey !== "") headers.authorization = `Bearer ${ctx.apiKey}`;
  return {
    url: `${ctx.baseUrl}/embeddings`,
    method: "POST" as const,
    headers,
    body: JSON.stringify({ ...rest, model: ctx.model }),
  };
}

function parseEmbeddingsResponse(body: unknown, ctx: AdapterContext): EmbeddingsResponse {
  if (isObject(body) && body.error !== undefined && body.data === undefined) {
    throw new UpstreamStreamError(errorInfo(body, "upstream error"), statusOf(body));
  }
  if (!isObject(body) || !Array.isArray(body.data)) {
    throw new Error(
      `openai: upstream body is not an embeddings list: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  const data = body.data.map((d, i) => {
    const e = isObject(d) ? d.embedding : undefined;
    if (!Array.isArray(e) && typeof e !== "string") {
      throw new Error(`openai: embeddings item ${i} has no embedding`);
    }
    const index = isObject(d) && typeof d.index === "number" ? d.index : i;
    return { object: "embedding" as const, index, embedding: e as number[] | string };
  });
  const u = isObject(body.usage) ? body.usage : {};
  const prompt = typeof u.prompt_tokens === "number" ? u.prompt_tokens : 0;
  return {
    object: "list",
    data,
    model: str(body.model) ?? ctx.model,
    usage: {
      prompt_tokens: prompt,
      total_tokens: typeof u.total_tokens === "number" ? u.total_tokens : prompt,
    },
  };
}

export const openaiAdapter: ProviderAdapter = {
  family: "openai",
  buildChatRequest,
  parseChatResponse,
  createStreamDecoder,
  parseError,
  buildEmbeddingsRequest,
  parseEmbeddingsResponse,
};
