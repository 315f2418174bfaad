// Cohere v2 Chat and Embed ⇄ OpenAI Chat Completions and Embeddings.
// Wire format from Cohere's v2 API reference (docs.cohere.com/v2/reference/chat, /chat-stream,
// /embed, /errors) and the request/response schemas of the official cohere-ai SDK
// (cohere-typescript: V2ChatRequest, V2ChatResponse, V2ChatStreamResponse, V2EmbedRequest,
// EmbedByTypeResponse). Errors are `{"message": "..."}`; the HTTP status says what kind.
import { answerMessage } from "../../openai/messages.ts";
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
  ToolDefinition,
  Usage,
} from "../../openai/types.ts";
import {
  type AdapterContext,
  type ProviderAdapter,
  type StreamDecoder,
  type UpstreamErrorInfo,
  UpstreamStreamError,
} from "../adapter.ts";
import {
  isObject,
  type Json,
  parseStreamObject,
  readErrorBody,
  truncate,
} from "../upstream_json.ts";
import type { SseEvent } from "../sse.ts";
import { bearerHeaders, ChunkWriter, embeddingTexts, textOf } from "../translate.ts";

const str = (v: unknown) => (typeof v === "string" ? v : undefined);

// ---------------------------------------------------------------------------------------------
// Request

/** User content: a string, or text and image_url parts (Cohere's `Content` union has both). */
function userContent(content: ChatMessage["content"]): string | Json[] {
  if (typeof content === "string" || content === null) return content ?? "";
  return content.map((p: ContentPart) =>
    p.type === "text"
      ? { type: "text", text: p.text }
      : { type: "image_url", image_url: p.image_url }
  );
}

function toolCallOut(call: ToolCall): Json {
  return {
    id: call.id,
    type: "function",
    function: { name: call.function.name, arguments: call.function.arguments },
  };
}

function toCohereMessage(m: ChatMessage): Json {
  switch (m.role) {
    case "system":
    case "developer":
      return { role: "system", content: textOf(m.content) };
    case "user":
      return { role: "user", content: userContent(m.content) };
    case "tool":
      return { role: "tool", tool_call_id: m.tool_call_id ?? "", content: textOf(m.content) };
    case "assistant": {
      const out: Json = { role: "assistant" };
      const text = textOf(m.content);
      // An assistant turn that only calls tools carries no content (empty content is refused).
      if (text !== "") out.content = text;
      if (m.tool_calls?.length) out.tool_calls = m.tool_calls.map(toolCallOut);
      return out;
    }
  }
}

function toolOut(t: ToolDefinition): Json {
  const fn: Json = {
    name: t.function.name,
    parameters: t.function.parameters ?? { type: "object", properties: {} },
  };
  if (t.function.description) fn.description = t.function.description;
  return { type: "function", function: fn };
}

/**
 * Cohere's tool_choice is only REQUIRED or NONE ("auto" is leaving it out). A named function is
 * expressed as REQUIRED with that tool alone, which is what OpenAI's named choice means.
 */
function tools(request: ChatRequest): { tools?: Json[]; tool_choice?: string } {
  const all = request.tools ?? [];
  const choice = request.tool_choice;
  if (choice === "none") return all.length ? { tools: all.map(toolOut), tool_choice: "NONE" } : {};
  if (choice === "required") return { tools: all.map(toolOut), tool_choice: "REQUIRED" };
  if (typeof choice === "object") {
    const named = all.filter((t) => t.function.name === choice.function.name);
    if (named.length === 0) {
      throw new Error(`cohere: tool_choice names ${choice.function.name}, which is not in tools`);
    }
    return { tools: named.map(toolOut), tool_choice: "REQUIRED" };
  }
  return all.length ? { tools: all.map(toolOut) } : {};
}

function responseFormat(rf: ChatRequest["response_format"]): Json | undefined {
  if (!rf || rf.type === "text") return undefined;
  if (rf.type === "json_object") return { type: "json_object" };
  // OpenAI's {type: "json_schema", json_schema: {name, schema, strict}} → Cohere's json_schema.
  const schema = isObject(rf.json_schema) ? rf.json_schema.schema : undefined;
  return isObject(schema) ? { type: "json_object", json_schema: schema } : { type: "json_object" };
}

function buildBody(request: ChatRequest, ctx: AdapterContext): Json {
  const body: Json = {
    model: ctx.model,
    messages: request.messages.map(toCohereMessage),
    ...tools(request),
  };
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.top_p !== undefined) body.p = request.top_p;
  if (request.stop !== undefined) {
    body.stop_sequences = typeof request.stop === "string" ? [request.stop] : request.stop;
  }
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.frequency_penalty !== undefined) body.frequency_penalty = request.frequency_penalty;
  if (request.presence_penalty !== undefined) body.presence_penalty = request.presence_penalty;
  const format = responseFormat(request.response_format);
  if (format) body.response_format = format;
  if (ctx.stream) body.stream = true;
  return body;
}

function buildChatRequest(request: ChatRequest, ctx: AdapterContext) {
  return {
    url: `${ctx.baseUrl}/chat`,
    method: "POST" as const,
    headers: bearerHeaders(ctx, ctx.stream ? "text/event-stream" : "application/json"),
    body: JSON.stringify(buildBody(request, ctx)),
  };
}

// ---------------------------------------------------------------------------------------------
// Response

/** ChatFinishReason: COMPLETE, STOP_SEQUENCE, MAX_TOKENS, TOOL_CALL, ERROR, TIMEOUT (and v1's
 * ERROR_TOXIC / ERROR_LIMIT). ERROR and TIMEOUT are the upstream failing: see `failedFinish`. */
function finishReason(reason: unknown): FinishReason | null {
  switch (reason) {
    case null:
    case undefined:
      return null;
    case "MAX_TOKENS":
    case "ERROR_LIMIT":
      return "length";
    case "TOOL_CALL":
      return "tool_calls";
    case "ERROR_TOXIC":
      return "content_filter";
    default: // COMPLETE, STOP_SEQUENCE, and reasons added after this was written
      return "stop";
  }
}

/** A generation that ended in ERROR or TIMEOUT is the provider's failure: fall over, not succeed. */
function failedFinish(reason: unknown, error: unknown): UpstreamStreamError | undefined {
  if (reason !== "ERROR" && reason !== "TIMEOUT") return undefined;
  const message = str(error) || `cohere: generation ended with ${reason}`;
  return new UpstreamStreamError(
    { message, type: String(reason) },
    reason === "TIMEOUT" ? 504 : 500,
  );
}

/** Usage: `tokens` counts what the model saw; `billed_units` is the fallback when it is absent. */
function toUsage(raw: unknown): Usage {
  const u = isObject(raw) ? raw : {};
  const tokens = isObject(u.tokens) ? u.tokens : {};
  const billed = isObject(u.billed_units) ? u.billed_units : {};
  const pick = (k: string) =>
    typeof tokens[k] === "number"
      ? tokens[k] as number
      : typeof billed[k] === "number"
      ? billed[k] as number
      : 0;
  const prompt = pick("input_tokens");
  const completion = pick("output_tokens");
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (typeof u.cached_tokens === "number") {
    usage.prompt_tokens_details = { cached_tokens: u.cached_tokens };
  }
  return usage;
}

function toolCallsIn(raw: unknown): ToolCall[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((c) => {
    const fn = isObject(c.function) ? c.function : {};
    return {
      id: String(c.id ?? ""),
      type: "function",
      function: { name: String(fn.name ?? ""), arguments: str(fn.arguments) ?? "{}" },
    };
  });
}

function parseChatResponse(body: unknown, ctx: AdapterContext): ChatCompletion {
  if (!isObject(body) || !isObject(body.message)) {
    throw new Error(
      `cohere: upstream body is not a chat response: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  const failed = failedFinish(body.finish_reason, undefined);
  if (failed) throw failed;
  const m = body.message;
  const parts = Array.isArray(m.content) ? m.content.filter(isObject) : [];
  const text = parts.flatMap((p) => (p.type === "text" ? [String(p.text ?? "")] : [])).join("");
  const toolCalls = toolCallsIn(m.tool_calls);
  return {
    id: str(body.id) ?? ctx.id,
    object: "chat.completion",
    created: ctx.nowSec,
    model: ctx.model, // Cohere's answer does not name the model
    choices: [{
      index: 0,
      message: answerMessage(text, toolCalls),
      finish_reason: finishReason(body.finish_reason),
      logprobs: null,
    }],
    usage: toUsage(body.usage),
  };
}

// ---------------------------------------------------------------------------------------------
// Stream: SSE events typed message-start, content-start/-delta/-end, tool-plan-delta,
// tool-call-start/-delta/-end, citation-start/-end, message-end (finish_reason, usage), debug.

function createStreamDecoder(ctx: AdapterContext): StreamDecoder {
  let finished = false;
  const out = new ChunkWriter(ctx);
  const toolIndex = new Map<number, number>(); // Cohere event index → OpenAI tool_calls index
  let lastTool = -1;
  const messageOf = (e: Json) =>
    isObject(e.delta) && isObject(e.delta.message) ? e.delta.message : {};

  function handle(e: Json): ChatChunk[] {
    switch (e.type) {
      case "message-start":
        if (typeof e.id === "string") out.id = e.id;
        return [out.delta({ role: "assistant", content: "" })];
      case "content-start":
      case "content-delta": {
        const content = messageOf(e).content;
        const text = isObject(content) ? content.text : undefined;
        // Thinking parts have `thinking`, not `text`: they are not in OpenAI's shape.
        return typeof text === "string" && text !== "" ? [out.delta({ content: text })] : [];
      }
      case "tool-call-start": {
        const call = messageOf(e).tool_calls;
        if (!isObject(call)) return [];
        const fn = isObject(call.function) ? call.function : {};
        lastTool = toolIndex.size;
        if (typeof e.index === "number") toolIndex.set(e.index, lastTool);
        return [out.tool({
          index: lastTool,
          id: String(call.id ?? ""),
          type: "function",
          function: { name: String(fn.name ?? ""), arguments: str(fn.arguments) ?? "" },
        })];
      }
      case "tool-call-delta": {
        const call = messageOf(e).tool_calls;
        const fn = isObject(call) && isObject(call.function) ? call.function : {};
        const index = typeof e.index === "number" ? toolIndex.get(e.index) ?? lastTool : lastTool;
        const args = str(fn.arguments);
        return index >= 0 && args ? [out.tool({ index, function: { arguments: args } })] : [];
      }
      case "message-end": {
        const d = isObject(e.delta) ? e.delta : {};
        const failed = failedFinish(d.finish_reason, d.error);
        if (failed) throw failed;
        finished = true;
        // The finish, then the trailing usage chunk OpenAI sends with include_usage.
        return [
          out.delta({}, finishReason(d.finish_reason) ?? "stop"),
          out.usage(toUsage(d.usage)),
        ];
      }
      default: // content-end, tool-plan-delta, tool-call-end, citations, debug, newer types
        return [];
    }
  }

  return {
    get finished() {
      return finished;
    },
    push(event: SseEvent): ChatChunk[] {
      const data = event.data.trim();
      if (finished || data === "") return [];
      if (data === "[DONE]") { // the SDK's stream terminator, should one follow message-end
        finished = true;
        return [];
      }
      const parsed = parseStreamObject("cohere", data);
      // The JSON `type` is authoritative; the SSE `event:` name only fills in when it is missing.
      return handle(typeof parsed.type === "string" ? parsed : { ...parsed, type: event.event });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Errors: `{"message": "..."}` (docs.cohere.com/v2/reference/errors). The status carries the kind
// (400 bad request, 401 unauthorized, 402 payment required, 404 not found, 429 too many
// requests, 498 invalid token, 499 cancelled, 5xx); the message is what the classifier reads.

function parseError(status: number, bodyText: string): UpstreamErrorInfo {
  return readErrorBody(status, bodyText, (raw, fallback) => ({
    message: (isObject(raw) ? str(raw.message) : undefined) || fallback,
  }));
}

// ---------------------------------------------------------------------------------------------
// Embeddings: POST {baseUrl}/embed with texts, input_type and embedding_types.

function buildEmbeddingsRequest(request: EmbeddingsRequest, ctx: AdapterContext) {
  const input = embeddingTexts(request.input);
  if (!input) throw new Error("cohere: embeddings take text input; token arrays cannot be sent");
  const body: Json = {
    model: ctx.model,
    texts: input,
    input_type: "search_document",
    embedding_types: ["float"],
  };
  if (request.dimensions !== undefined) body.output_dimension = request.dimensions;
  return {
    url: `${ctx.baseUrl}/embed`,
    method: "POST" as const,
    headers: bearerHeaders(ctx, "application/json"),
    body: JSON.stringify(body),
  };
}

/** Always float vectors: an OpenAI SDK that asked for base64 by default keeps arrays as they are. */
function parseEmbeddingsResponse(body: unknown, ctx: AdapterContext): EmbeddingsResponse {
  const floats = isObject(body) && isObject(body.embeddings) ? body.embeddings.float : undefined;
  if (!Array.isArray(floats) || !floats.every(Array.isArray)) {
    throw new Error(
      `cohere: upstream body has no float embeddings: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  const meta = isObject(body) && isObject(body.meta) ? body.meta : {};
  const prompt = toUsage({ billed_units: meta.billed_units, tokens: meta.tokens }).prompt_tokens;
  return {
    object: "list",
    data: floats.map((embedding, index) => ({
      object: "embedding",
      index,
      embedding: embedding as number[],
    })),
    model: ctx.model,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  };
}

export const cohereAdapter: ProviderAdapter = {
  family: "cohere",
  buildChatRequest,
  parseChatResponse,
  createStreamDecoder,
  parseError,
  buildEmbeddingsRequest,
  parseEmbeddingsResponse,
};
