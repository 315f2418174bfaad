// AWS Bedrock Runtime Converse / ConverseStream ⇄ OpenAI Chat Completions, signed with SigV4
// (or a Bedrock API key as a bearer token). Shapes from the Bedrock API reference:
// docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html,
// API_runtime_ConverseStream.html, API_runtime_ConverseStreamOutput.html, API_runtime_TokenUsage.html.
// Embeddings: Titan text embeddings through InvokeModel (API_runtime_InvokeModel.html; body per
// docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html).
import { answerMessage, parseDataUrl, toolCall } from "../../openai/messages.ts";
import type {
  ChatChunk,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  ContentPart,
  EmbeddingsRequest,
  EmbeddingsResponse,
  FinishReason,
  ToolCall,
  Usage,
} from "../../openai/types.ts";
import {
  type AdapterContext,
  type ProviderAdapter,
  type StreamDecoder,
  type UpstreamErrorInfo,
  type UpstreamRequest,
  UpstreamStreamError,
} from "../adapter.ts";
import {
  isObject,
  type Json,
  num,
  parseStreamObject,
  readErrorBody,
  truncate,
} from "../upstream_json.ts";
import type { SseEvent } from "../sse.ts";
import {
  ChunkWriter,
  contentBlocks,
  embeddingTexts,
  instructionTexts,
  isInstruction,
  mergeTurns,
  textOf,
  toolArguments,
  type Turn,
} from "../translate.ts";
import { readEventStream, stringHeader } from "./eventstream.ts";
import { signRequest, uriEncode } from "./sigv4.ts";

/** SigV4 signing name of Bedrock Runtime. */
export const BEDROCK_SERVICE = "bedrock";

type Block = Json;
type BedrockMessage = Turn<Block>;

const textDecoder = new TextDecoder();

// ---------------------------------------------------------------------------------------------
// Request

const IMAGE_FORMATS: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};
const IMAGE_EXTENSIONS: Record<string, string> = {
  png: "png",
  jpg: "jpeg",
  jpeg: "jpeg",
  gif: "gif",
  webp: "webp",
};

/** Bedrock takes image bytes (base64 in JSON) or an S3 location, never an http URL. */
function imageBlock(url: string): Block {
  const data = parseDataUrl(url);
  if (data) {
    const format = IMAGE_FORMATS[data.mediaType.toLowerCase()];
    if (!format) {
      throw new Error(`bedrock: unsupported image type ${data.mediaType} (png, jpeg, gif, webp)`);
    }
    return { image: { format, source: { bytes: data.base64 } } };
  }
  if (/^s3:\/\//i.test(url)) {
    const format = IMAGE_EXTENSIONS[/\.([a-z]+)$/i.exec(url)?.[1].toLowerCase() ?? ""];
    if (!format) throw new Error(`bedrock: cannot tell the image format of ${truncate(url, 80)}`);
    return { image: { format, source: { s3Location: { uri: url } } } };
  }
  throw new Error(
    `bedrock: images must be data: URLs or s3:// locations, not ${truncate(url, 40)}`,
  );
}

function partToBlock(part: ContentPart): Block | undefined {
  if (part.type === "text") return part.text === "" ? undefined : { text: part.text };
  return imageBlock(part.image_url.url);
}

function toolUse(call: ToolCall): Block {
  const input = toolArguments("bedrock", call);
  return { toolUse: { toolUseId: call.id, name: call.function.name, input } };
}

function toBedrockMessage(m: ChatMessage): BedrockMessage {
  if (m.role === "tool") {
    const blocks = contentBlocks(m.content, partToBlock);
    return {
      role: "user",
      content: [{
        toolResult: {
          toolUseId: m.tool_call_id ?? "",
          content: blocks.length > 0 ? blocks : [{ text: textOf(m.content) }],
        },
      }],
    };
  }
  const content = contentBlocks(m.content, partToBlock);
  if (m.role === "assistant") content.push(...(m.tool_calls ?? []).map(toolUse));
  return { role: m.role === "assistant" ? "assistant" : "user", content };
}

/**
 * toolConfig. Bedrock has no "none" tool choice: then tools are left out, unless the conversation
 * already holds tool blocks (Converse refuses those without a toolConfig), in which case they are
 * sent without a toolChoice. Tool history with no tools declared gets minimal specs by name.
 */
function toolConfig(request: ChatRequest, messages: BedrockMessage[]): Json | undefined {
  const usedNames = new Set<string>();
  let hasToolBlocks = false;
  for (const m of messages) {
    for (const b of m.content) {
      if (isObject(b.toolUse)) usedNames.add(String(b.toolUse.name));
      if ("toolUse" in b || "toolResult" in b) hasToolBlocks = true;
    }
  }
  const choice = request.tool_choice;
  let tools = (request.tools ?? []).map((t) => ({
    toolSpec: {
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      inputSchema: { json: t.function.parameters ?? { type: "object", properties: {} } },
    },
  }));
  if (tools.length === 0 && hasToolBlocks) {
    tools = [...usedNames].map((name) => ({
      toolSpec: { name, inputSchema: { json: { type: "object", properties: {} } } },
    }));
  }
  if (tools.length === 0 || (choice === "none" && !hasToolBlocks)) return undefined;
  const config: Json = { tools };
  if (choice === "auto") config.toolChoice = { auto: {} };
  else if (choice === "required") config.toolChoice = { any: {} };
  else if (isObject(choice)) config.toolChoice = { tool: { name: choice.function.name } };
  return config;
}

/** The Converse request body (shared with the drop-in route's tests). */
export function converseBody(request: ChatRequest): Json {
  const system = instructionTexts(request.messages).map((text) => ({ text }));
  const turns = request.messages.filter((m) => !isInstruction(m));
  const messages = mergeTurns(turns.map(toBedrockMessage), (b) => "toolResult" in b);
  const body: Json = { messages };
  if (system.length > 0) body.system = system;
  const inference: Json = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined) inference.maxTokens = maxTokens;
  // OpenAI allows temperature up to 2; the models on Bedrock take 0–1: clamp, don't fail over.
  if (request.temperature !== undefined) inference.temperature = Math.min(1, request.temperature);
  if (request.top_p !== undefined) inference.topP = request.top_p;
  if (request.stop !== undefined) {
    inference.stopSequences = typeof request.stop === "string" ? [request.stop] : request.stop;
  }
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;
  const tools = toolConfig(request, messages);
  if (tools) body.toolConfig = tools;
  return body;
}

/** The region to sign for: from settings, else from a bedrock-runtime.<region>… base URL. */
function regionOf(ctx: AdapterContext): string {
  const region = ctx.settings.region ??
    /^bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(ctx.baseUrl).host)
      ?.[1];
  if (!region) throw new Error("bedrock: a region is needed to sign requests (config: region)");
  return region;
}

/**
 * SigV4 with the configured AWS credentials; else a Bedrock API key as `Authorization: Bearer`;
 * else no authentication (a local stand-in).
 */
async function authorize(
  url: string,
  headers: Record<string, string>,
  body: string,
  ctx: AdapterContext,
): Promise<Record<string, string>> {
  const credentials = ctx.settings.credentials;
  if (credentials) {
    return await signRequest({
      method: "POST",
      url,
      headers,
      body,
      region: regionOf(ctx),
      service: BEDROCK_SERVICE,
      credentials,
      now: ctx.now,
      contentSha256: true,
    });
  }
  if (ctx.apiKey !== "") return { ...headers, authorization: `Bearer ${ctx.apiKey}` };
  return headers;
}

/** `${baseUrl}/model/{modelId}/{operation}`, the model id URI-encoded (":" → %3A, "/" → %2F). */
export function modelUrl(baseUrl: string, model: string, operation: string): string {
  return `${baseUrl}/model/${uriEncode(model)}/${operation}`;
}

async function buildChatRequest(
  request: ChatRequest,
  ctx: AdapterContext,
): Promise<UpstreamRequest> {
  const url = modelUrl(ctx.baseUrl, ctx.model, ctx.stream ? "converse-stream" : "converse");
  const body = JSON.stringify(converseBody(request));
  const headers: Record<string, string> = {
    ...ctx.settings.headers,
    "content-type": "application/json",
    accept: ctx.stream ? "application/vnd.amazon.eventstream" : "application/json",
  };
  return { url, method: "POST", headers: await authorize(url, headers, body, ctx), body };
}

// ---------------------------------------------------------------------------------------------
// Response

export function finishReason(stop: unknown): FinishReason | null {
  switch (stop) {
    case null:
    case undefined:
      return null;
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "guardrail_intervened":
    case "content_filtered":
      return "content_filter";
    default: // end_turn, stop_sequence, and reasons added after this was written
      return "stop";
  }
}

/**
 * Bedrock counts prompt-cache reads and writes apart from inputTokens (AWS "Prompt caching"
 * user guide); OpenAI counts cached tokens within prompt_tokens.
 */
export function toUsage(raw: unknown): Usage {
  const u = isObject(raw) ? raw : {};
  const cacheRead = num(u.cacheReadInputTokens);
  const prompt = num(u.inputTokens) + cacheRead + num(u.cacheWriteInputTokens);
  const completion = num(u.outputTokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}

function parseChatResponse(body: unknown, ctx: AdapterContext): ChatCompletion {
  const message = isObject(body) && isObject(body.output) ? body.output.message : undefined;
  if (!isObject(body) || !isObject(message) || !Array.isArray(message.content)) {
    throw new Error(
      `bedrock: upstream body is not a Converse answer: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  const blocks = message.content.filter(isObject);
  const text = blocks.flatMap((b) => (typeof b.text === "string" ? [b.text] : [])).join("");
  const toolCalls = blocks.flatMap((b) =>
    isObject(b.toolUse)
      ? [toolCall(String(b.toolUse.toolUseId), String(b.toolUse.name), b.toolUse.input)]
      : []
  );
  return {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.nowSec,
    model: ctx.model,
    choices: [{
      index: 0,
      message: answerMessage(text, toolCalls),
      finish_reason: finishReason(body.stopReason) ?? "stop",
      logprobs: null,
    }],
    usage: toUsage(body.usage),
  };
}

// ---------------------------------------------------------------------------------------------
// Stream

/** HTTP status of each exception ConverseStream can send inside a 200 stream. */
export const STREAM_EXCEPTION_STATUS: Record<string, number> = {
  internalServerException: 500,
  modelStreamErrorException: 424,
  serviceUnavailableException: 503,
  throttlingException: 429,
  validationException: 400,
};

/**
 * Frames → events for the decoder: an event frame becomes {event: its `:event-type`, data: its
 * payload}; an exception (or error) frame becomes {event: "exception", data: {"type", "message"}}.
 */
async function* readStream(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<SseEvent> {
  for await (const m of readEventStream(body, signal)) {
    const kind = stringHeader(m, ":message-type");
    const payload = textDecoder.decode(m.payload);
    if (kind === "event") {
      yield { event: stringHeader(m, ":event-type") ?? "", data: payload };
    } else if (kind === "exception") {
      const type = stringHeader(m, ":exception-type") ?? "exception";
      let message = payload;
      try {
        const parsed = JSON.parse(payload);
        if (isObject(parsed) && typeof parsed.message === "string") message = parsed.message;
      } catch { /* a non-JSON exception payload is its own message */ }
      yield { event: "exception", data: JSON.stringify({ type, message }) };
    } else if (kind === "error") {
      const type = stringHeader(m, ":error-code") ?? "error";
      const message = stringHeader(m, ":error-message") ?? type;
      yield { event: "exception", data: JSON.stringify({ type, message }) };
    }
  }
}

function createStreamDecoder(ctx: AdapterContext): StreamDecoder {
  let finished = false;
  const out = new ChunkWriter(ctx);
  const toolIndex = new Map<number, number>(); // contentBlockIndex → OpenAI tool_calls index

  function handle(event: string, e: Json): ChatChunk[] {
    switch (event) {
      case "messageStart":
        return [out.delta({ role: "assistant", content: "" })];
      case "contentBlockStart": {
        const start = isObject(e.start) ? e.start : {};
        if (!isObject(start.toolUse)) return [];
        const index = toolIndex.size;
        toolIndex.set(num(e.contentBlockIndex), index);
        return [out.tool({
          index,
          id: String(start.toolUse.toolUseId),
          type: "function",
          function: { name: String(start.toolUse.name), arguments: "" },
        })];
      }
      case "contentBlockDelta": {
        const d = isObject(e.delta) ? e.delta : {};
        if (typeof d.text === "string") {
          return d.text === "" ? [] : [out.delta({ content: d.text })];
        }
        const index = toolIndex.get(num(e.contentBlockIndex));
        const input = isObject(d.toolUse) ? d.toolUse.input : undefined;
        if (index !== undefined && typeof input === "string" && input !== "") {
          return [out.tool({ index, function: { arguments: input } })];
        }
        return []; // reasoningContent, citations: not in OpenAI's shape
      }
      case "messageStop":
        return [out.delta({}, finishReason(e.stopReason) ?? "stop")];
      case "metadata":
        // The last event of a ConverseStream answer: usage (and latency metrics).
        finished = true;
        return [out.usage(toUsage(e.usage))];
      case "exception": {
        const type = typeof e.type === "string" ? e.type : "exception";
        const message = typeof e.message === "string" && e.message !== "" ? e.message : type;
        throw new UpstreamStreamError({ message, type }, STREAM_EXCEPTION_STATUS[type] ?? 500);
      }
      default: // contentBlockStop, and event types added after this was written
        return [];
    }
  }

  return {
    get finished() {
      return finished;
    },
    push(event: SseEvent): ChatChunk[] {
      if (finished || event.data.trim() === "") return [];
      return handle(event.event ?? "", parseStreamObject("bedrock", event.data));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * Bedrock answers errors as `{"message": "..."}` with the exception name in the
 * `x-amzn-errortype` header, which parseError does not see; `__type` / `code` in the body are read
 * when present. Classification works from the status and the message.
 */
function parseError(status: number, bodyText: string): UpstreamErrorInfo {
  return readErrorBody(status, bodyText, (raw, fallback) => {
    if (!isObject(raw)) return { message: fallback };
    const message = [raw.message, raw.Message].find((m) => typeof m === "string" && m !== "");
    const info: UpstreamErrorInfo = { message: (message as string | undefined) ?? fallback };
    const type = [raw.__type, raw.code].find((t) => typeof t === "string" && t !== "");
    if (typeof type === "string") info.type = type.replace(/^.*#/, "").replace(/:.*$/, "");
    return info;
  });
}

// ---------------------------------------------------------------------------------------------
// Embeddings (Titan text embeddings: one input per InvokeModel call)

async function buildEmbeddingsRequest(
  request: EmbeddingsRequest,
  ctx: AdapterContext,
): Promise<UpstreamRequest> {
  const texts = embeddingTexts(request.input);
  if (texts?.length !== 1) {
    throw new Error("bedrock: Titan embeddings take exactly one text input per request");
  }
  const payload: Json = { inputText: texts[0] };
  if (request.dimensions !== undefined) payload.dimensions = request.dimensions;
  const url = modelUrl(ctx.baseUrl, ctx.model, "invoke");
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    ...ctx.settings.headers,
    "content-type": "application/json",
    accept: "application/json",
  };
  return { url, method: "POST", headers: await authorize(url, headers, body, ctx), body };
}

function parseEmbeddingsResponse(body: unknown, ctx: AdapterContext): EmbeddingsResponse {
  if (!isObject(body) || !Array.isArray(body.embedding)) {
    throw new Error(
      `bedrock: upstream body is not a Titan embedding: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  const tokens = num(body.inputTextTokenCount);
  return {
    object: "list",
    data: [{ object: "embedding", index: 0, embedding: body.embedding.map(Number) }],
    model: ctx.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

export const bedrockAdapter: ProviderAdapter = {
  family: "bedrock",
  buildChatRequest,
  parseChatResponse,
  createStreamDecoder,
  parseError,
  readStream,
  buildEmbeddingsRequest,
  parseEmbeddingsResponse,
};
