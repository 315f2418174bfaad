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
import {
  errorCodeStatus,
  isObject,
  type Json,
  parseStreamJson,
  readErrorBody,
  truncate,
  withSource,
} from "../upstream_json.ts";
import type { SseEvent } from "../sse.ts";
import { bearerHeaders } from "../translate.ts";
import {
  createResponsesStreamDecoder,
  isResponseObject,
  isResponsesEvent,
  NATIVE_RESPONSES,
  parseResponsesAnswer,
  passthroughOf,
  responsesBody,
} from "./responses_api.ts";

/** Ids, types and codes: some compatible servers send numbers where OpenAI sends strings. */
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

function buildChatRequest(request: ChatRequest, ctx: AdapterContext) {
  const accept = ctx.stream ? "text/event-stream" : "application/json";
  // A call that came in on POST /v1/responses goes to the upstream's own Responses API.
  const native = passthroughOf(request, ctx.settings);
  if (native) {
    return {
      url: `${ctx.baseUrl}/responses`,
      method: "POST" as const,
      headers: bearerHeaders(ctx, accept),
      body: responsesBody(native, ctx),
    };
  }
  // The gateway's own fields never go upstream.
  const {
    fallbacks: _gatewayOnly,
    [NATIVE_RESPONSES]: _native,
    stream_options,
    ...rest
  } = request;
  const body: Json = { ...rest, model: ctx.model, stream: ctx.stream };
  // Usage only arrives in a stream when asked for; OpenAI rejects stream_options without stream.
  if (ctx.stream) body.stream_options = { ...stream_options, include_usage: true };
  return {
    url: `${ctx.baseUrl}/chat/completions`,
    method: "POST" as const,
    headers: bearerHeaders(ctx, accept),
    body: JSON.stringify(body),
  };
}

/** Some compatible servers answer 200 with an error body (no `answer` field): report it like a
 * stream error. */
function throwErrorBody(body: unknown, answer: "choices" | "data"): void {
  if (isObject(body) && body.error !== undefined && body[answer] === undefined) {
    throw new UpstreamStreamError(errorInfo(body, "upstream error"), errorCodeStatus(body));
  }
}

/**
 * A choice as OpenAI's schema requires it: compatible servers often leave out `logprobs` and the
 * message's `refusal`, which the schema requires (null when there is none).
 */
function schemaChoice(choice: unknown): unknown {
  if (!isObject(choice)) return choice;
  const message = isObject(choice.message) && !("refusal" in choice.message)
    ? { ...choice.message, refusal: null }
    : choice.message;
  return { ...choice, message, logprobs: choice.logprobs ?? null };
}

/** A choice already as OpenAI's schema requires it (nothing for schemaChoice to add). */
const schemaReady = (choice: unknown) =>
  isObject(choice) && choice.logprobs !== undefined && isObject(choice.message) &&
  "refusal" in choice.message;

function parseChatResponse(body: unknown, ctx: AdapterContext): ChatCompletion {
  if (isResponseObject(body)) return parseResponsesAnswer(body, ctx);
  throwErrorBody(body, "choices");
  if (!isObject(body) || !Array.isArray(body.choices)) {
    throw new Error(
      `openai: upstream body is not a chat completion: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  if (
    typeof body.id === "string" && body.object === "chat.completion" &&
    typeof body.created === "number" && typeof body.model === "string" &&
    body.choices.every(schemaReady)
  ) {
    // Complete as it came: the upstream's decoded body itself, so its text can be sent on as is
    // (execute.ts records it; the OpenAI format splices in extra_fields).
    return body as unknown as ChatCompletion;
  }
  return {
    ...body,
    id: str(body.id) ?? ctx.id,
    object: "chat.completion",
    created: typeof body.created === "number" ? body.created : ctx.nowSec,
    model: str(body.model) ?? ctx.model,
    choices: body.choices.map(schemaChoice),
  } as ChatCompletion;
}

/** Chat chunks, or the Responses API's events when the request went there (told by the first). */
function createStreamDecoder(ctx: AdapterContext): StreamDecoder {
  const chat = createChatStreamDecoder(ctx);
  let inner: StreamDecoder | undefined;
  return {
    get finished() {
      return inner?.finished ?? false;
    },
    push(event: SseEvent): ChatChunk[] {
      if (!inner) {
        if (event.data.trim() === "") return [];
        inner = isResponsesEvent(event) ? createResponsesStreamDecoder(ctx) : chat;
      }
      return inner.push(event);
    },
  };
}

function createChatStreamDecoder(ctx: AdapterContext): StreamDecoder {
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
      const chunk = parseStreamJson("openai", data);
      if (isObject(chunk) && chunk.error !== undefined) {
        throw new UpstreamStreamError(
          errorInfo(chunk, "upstream stream error"),
          errorCodeStatus(chunk),
        );
      }
      if (!isObject(chunk) || !Array.isArray(chunk.choices)) {
        throw new SyntaxError(`openai: stream event is not a chunk: ${truncate(data, 200)}`);
      }
      if (
        chunk.object === "chat.completion.chunk" && typeof chunk.id === "string" &&
        typeof chunk.created === "number" && typeof chunk.model === "string"
      ) {
        // Complete as it came: relayed to OpenAI clients as the upstream's own text.
        return [withSource(chunk as unknown as ChatChunk, data)];
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
  return readErrorBody(status, bodyText, errorInfo);
}

// Embeddings: POST {baseUrl}/embeddings (OpenAI API reference, "Create embeddings"; response shape
// as the openai npm SDK's CreateEmbeddingResponse). The client's fields pass through, all but the
// gateway's own `fallbacks`, with the upstream model name.
function buildEmbeddingsRequest(request: EmbeddingsRequest, ctx: AdapterContext) {
  const { fallbacks: _gatewayOnly, ...rest } = request;
  return {
    url: `${ctx.baseUrl}/embeddings`,
    method: "POST" as const,
    headers: bearerHeaders(ctx, "application/json"),
    body: JSON.stringify({ ...rest, model: ctx.model }),
  };
}

function parseEmbeddingsResponse(body: unknown, ctx: AdapterContext): EmbeddingsResponse {
  throwErrorBody(body, "data");
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
