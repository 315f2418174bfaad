// Anthropic Messages API ⇄ OpenAI Chat Completions.
import { answerMessage, parseDataUrl, toolCall } from "../../openai/messages.ts";
import type {
  ChatChunk,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  ContentPart,
  FinishReason,
  ToolCall,
  ToolChoice,
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
  num,
  parseStreamObject,
  readErrorBody,
  truncate,
} from "../upstream_json.ts";
import type { SseEvent } from "../sse.ts";
import {
  ChunkWriter,
  contentBlocks,
  instructionTexts,
  isInstruction,
  mergeTurns,
  toolArguments,
  type Turn,
} from "../translate.ts";

export const ANTHROPIC_VERSION = "2023-06-01";
/** Anthropic requires max_tokens; OpenAI clients often leave it out. */
const DEFAULT_MAX_TOKENS = 4096;

type Block = Json & { type: string };
type AnthropicMessage = Turn<Block>;

// ---------------------------------------------------------------------------------------------
// Request

function partToBlock(part: ContentPart): Block | undefined {
  if (part.type === "text") return part.text === "" ? undefined : { type: "text", text: part.text };
  const url = part.image_url.url;
  const data = parseDataUrl(url);
  if (data) {
    return {
      type: "image",
      source: { type: "base64", media_type: data.mediaType, data: data.base64 },
    };
  }
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
  throw new Error(`anthropic: unsupported image URL scheme: ${truncate(url, 40)}`);
}

function toolUse(call: ToolCall): Block {
  const input = toolArguments("anthropic", call);
  return { type: "tool_use", id: call.id, name: call.function.name, input };
}

function toAnthropicMessage(m: ChatMessage): AnthropicMessage {
  if (m.role === "tool") {
    const content = typeof m.content === "string"
      ? m.content
      : contentBlocks(m.content, partToBlock);
    return {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: m.tool_call_id ?? "", content }],
    };
  }
  const content = contentBlocks(m.content, partToBlock);
  if (m.role === "assistant") content.push(...(m.tool_calls ?? []).map(toolUse));
  return { role: m.role === "assistant" ? "assistant" : "user", content };
}

function toolChoice(choice: ToolChoice | undefined, parallel: unknown): Json | undefined {
  let out: Json | undefined;
  if (choice === "auto") out = { type: "auto" };
  else if (choice === "required") out = { type: "any" };
  else if (choice === "none") out = { type: "none" };
  else if (choice) out = { type: "tool", name: choice.function.name };
  if (parallel === false && out?.type !== "none") {
    out = { ...(out ?? { type: "auto" }), disable_parallel_tool_use: true };
  }
  return out;
}

/** The Messages API body for a request (Vertex AI's rawPredict takes it without `model`). */
export function buildBody(request: ChatRequest, ctx: AdapterContext): Json {
  const system = instructionTexts(request.messages);
  const turns = request.messages.filter((m) => !isInstruction(m));
  const body: Json = {
    model: ctx.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages: mergeTurns(turns.map(toAnthropicMessage), (b) => b.type === "tool_result"),
  };
  if (system.length > 0) body.system = system.join("\n\n");
  // OpenAI allows temperature up to 2, Anthropic up to 1: clamp rather than fail the fallback.
  if (request.temperature !== undefined) body.temperature = Math.min(1, request.temperature);
  if (request.top_p !== undefined) body.top_p = request.top_p;
  if (request.stop !== undefined) {
    body.stop_sequences = typeof request.stop === "string" ? [request.stop] : request.stop;
  }
  if (request.user) body.metadata = { user_id: request.user };
  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: "object", properties: {} },
    }));
  }
  const choice = toolChoice(request.tool_choice, request.parallel_tool_calls);
  if (choice) body.tool_choice = choice;
  if (ctx.stream) body.stream = true;
  return body;
}

function buildChatRequest(request: ChatRequest, ctx: AdapterContext) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: ctx.stream ? "text/event-stream" : "application/json",
    "anthropic-version": ANTHROPIC_VERSION,
  };
  if (ctx.apiKey !== "") headers["x-api-key"] = ctx.apiKey;
  return {
    url: `${ctx.baseUrl}/messages`,
    method: "POST" as const,
    headers,
    body: JSON.stringify(buildBody(request, ctx)),
  };
}

// ---------------------------------------------------------------------------------------------
// Response

function finishReason(stop: unknown): FinishReason | null {
  switch (stop) {
    case null:
    case undefined:
      return null;
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default: // end_turn, stop_sequence, pause_turn
      return "stop";
  }
}

interface UsageCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

function readUsage(raw: unknown, into: UsageCounts): UsageCounts {
  if (!isObject(raw)) return into;
  if (typeof raw.input_tokens === "number") into.input = raw.input_tokens;
  if (typeof raw.output_tokens === "number") into.output = raw.output_tokens;
  if (typeof raw.cache_read_input_tokens === "number") into.cacheRead = raw.cache_read_input_tokens;
  if (typeof raw.cache_creation_input_tokens === "number") {
    into.cacheCreation = raw.cache_creation_input_tokens;
  }
  return into;
}

/** Anthropic counts cached prompt tokens apart from input_tokens; OpenAI counts them within. */
function toUsage(u: UsageCounts): Usage {
  const prompt = u.input + u.cacheRead + u.cacheCreation;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output,
    total_tokens: prompt + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead },
  };
}

const emptyUsage = (): UsageCounts => ({ input: 0, output: 0, cacheRead: 0, cacheCreation: 0 });

function parseChatResponse(body: unknown, ctx: AdapterContext): ChatCompletion {
  if (isObject(body) && body.type === "error") {
    const info = errorInfo(body, "upstream error");
    throw new UpstreamStreamError(info, statusOfType(info.type));
  }
  if (!isObject(body) || !Array.isArray(body.content)) {
    throw new Error(
      `anthropic: upstream body is not a message: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  const blocks = body.content.filter(isObject);
  const text = blocks.flatMap((b) => (b.type === "text" ? [String(b.text ?? "")] : [])).join("");
  const toolCalls = blocks.filter((b) => b.type === "tool_use").map((b) =>
    toolCall(String(b.id), String(b.name), b.input)
  );
  return {
    id: typeof body.id === "string" ? body.id : ctx.id,
    object: "chat.completion",
    created: ctx.nowSec,
    model: typeof body.model === "string" ? body.model : ctx.model,
    choices: [{
      index: 0,
      message: answerMessage(text, toolCalls),
      finish_reason: finishReason(body.stop_reason),
      logprobs: null,
    }],
    usage: toUsage(readUsage(body.usage, emptyUsage())),
  };
}

// ---------------------------------------------------------------------------------------------
// Stream

function createStreamDecoder(ctx: AdapterContext): StreamDecoder {
  let finished = false;
  const out = new ChunkWriter(ctx);
  const usage = emptyUsage();
  const toolIndex = new Map<number, number>(); // Anthropic block index → OpenAI tool_calls index

  function handle(e: Json): ChatChunk[] {
    switch (e.type) {
      case "message_start": {
        const m = isObject(e.message) ? e.message : {};
        if (typeof m.id === "string") out.id = m.id;
        if (typeof m.model === "string") out.model = m.model;
        readUsage(m.usage, usage);
        return [out.delta({ role: "assistant", content: "" })];
      }
      case "content_block_start": {
        const block = isObject(e.content_block) ? e.content_block : {};
        if (block.type === "text" && typeof block.text === "string" && block.text !== "") {
          return [out.delta({ content: block.text })];
        }
        if (block.type !== "tool_use") return []; // thinking, server tools: not in OpenAI's shape
        const index = toolIndex.size;
        toolIndex.set(num(e.index), index);
        return [out.tool({
          index,
          id: String(block.id),
          type: "function",
          function: { name: String(block.name), arguments: "" },
        })];
      }
      case "content_block_delta": {
        const d = isObject(e.delta) ? e.delta : {};
        if (d.type === "text_delta" && typeof d.text === "string") {
          return [out.delta({ content: d.text })];
        }
        const index = toolIndex.get(num(e.index));
        if (d.type === "input_json_delta" && index !== undefined && d.partial_json) {
          return [out.tool({ index, function: { arguments: String(d.partial_json) } })];
        }
        return [];
      }
      case "message_delta": {
        readUsage(e.usage, usage);
        const d = isObject(e.delta) ? e.delta : {};
        return [out.delta({}, finishReason(d.stop_reason) ?? "stop")];
      }
      case "message_stop":
        finished = true;
        return [out.usage(toUsage(usage))];
      case "error": {
        const info = errorInfo(e, "upstream stream error");
        throw new UpstreamStreamError(info, statusOfType(info.type));
      }
      default: // ping, content_block_stop, and event types added after this was written
        return [];
    }
  }

  return {
    get finished() {
      return finished;
    },
    push(event: SseEvent): ChatChunk[] {
      if (finished || event.data.trim() === "") return [];
      const data = parseStreamObject("anthropic", event.data);
      // The JSON `type` is authoritative; the SSE `event:` name only fills in when it is missing.
      return handle(typeof data.type === "string" ? data : { ...data, type: event.event });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** HTTP status that goes with each documented error type (for errors inside a 200 stream). */
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

function statusOfType(type: string | undefined): number {
  return STATUS_OF_TYPE[type ?? ""] ?? 500;
}

/** Reads `{"type":"error","error":{"type","message","details"?}}`. */
function errorInfo(raw: unknown, fallback: string): UpstreamErrorInfo {
  const e = isObject(raw) && isObject(raw.error) ? raw.error : undefined;
  if (!e) return { message: fallback };
  const info: UpstreamErrorInfo = {
    message: typeof e.message === "string" && e.message !== "" ? e.message : fallback,
  };
  if (typeof e.type === "string") info.type = e.type;
  // A spend-limit 429 shares rate_limit_error's type; only details.error_code tells it apart.
  const code = isObject(e.details) ? e.details.error_code : undefined;
  if (typeof code === "string") info.code = code;
  return info;
}

function parseError(status: number, bodyText: string): UpstreamErrorInfo {
  return readErrorBody(status, bodyText, errorInfo);
}

export const anthropicAdapter: ProviderAdapter = {
  family: "anthropic",
  buildChatRequest,
  parseChatResponse,
  createStreamDecoder,
  parseError,
};
