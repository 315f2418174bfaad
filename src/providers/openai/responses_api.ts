// OpenAI's Responses API as an upstream (POST {baseUrl}/responses): the native passthrough for
// calls that came in on POST /v1/responses and land on a provider that serves it (openai at its
// own base URL, azure; `responsesApi` in config). The inbound format puts the client's body on
// the canonical request under NATIVE_RESPONSES; only the OpenAI and Azure adapters read it, and
// the OpenAI adapter strips it from every Chat Completions body. The answer (JSON or the SSE
// events) is mapped to the canonical completion and chunks the pipeline runs on, and the
// upstream's own output items ride along (NATIVE_OUTPUT, NATIVE_ITEM) for the Responses encoder
// to return as they came: reasoning, built-in tool calls, annotations.
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  FinishReason,
  ToolCall,
  Usage,
} from "../../openai/types.ts";
import {
  type AdapterContext,
  type ProviderSettings,
  type StreamDecoder,
  type UpstreamErrorInfo,
  UpstreamStreamError,
} from "../adapter.ts";
import type { SseEvent } from "../sse.ts";
import { isObject, type Json, parseStreamJson, truncate } from "../upstream_json.ts";

/** The canonical request's key for the native Responses body: never a wire field. */
export const NATIVE_RESPONSES = "x_gateway_responses";
/** A completion's (or final chunk's) key for the upstream's own output items. */
export const NATIVE_OUTPUT = "x_gateway_responses_output";
/** A chunk's key for one finished output item with no chat equivalent (reasoning, web search …). */
export const NATIVE_ITEM = "x_gateway_responses_item";

export interface NativeResponses {
  /**
   * The body as the client sent it, less what only the gateway knows (`model`, `stream`,
   * `store`, `fallbacks`, `previous_response_id`, `mcp`), with `input` holding the whole conversation.
   */
  body: Json;
  /** The canonical messages as decoded (JSON): if a plugin changed them, they are what is sent. */
  messagesKey: string;
  /** What only a native upstream can do, e.g. `tools[1].type "web_search"`; [] when nothing. */
  nativeOnly: string[];
}

/** The native body a request carries, if any. */
export function nativeResponsesOf(req: ChatRequest): NativeResponses | undefined {
  const n = req[NATIVE_RESPONSES];
  return isObject(n) && isObject(n.body) ? n as unknown as NativeResponses : undefined;
}

/**
 * The native body to send for this attempt, or undefined to translate: the provider must serve
 * the Responses API and the messages must be the ones decoded (a plugin that rewrote them, a
 * guardrail say, is obeyed through the translation). Throws (a caller fault) when the request
 * needs the passthrough and cannot have it.
 */
export function passthroughOf(req: ChatRequest, settings: ProviderSettings): Json | undefined {
  const n = nativeResponsesOf(req);
  if (!n) return undefined;
  if (settings.responsesApi && JSON.stringify(req.messages) === n.messagesKey) return n.body;
  if (n.nativeOnly.length) {
    throw new Error(
      `${n.nativeOnly.join(", ")}: needs the Responses API passthrough, which this attempt ` +
        (settings.responsesApi ? "cannot use (a plugin changed the messages)" : "does not have"),
    );
  }
  return undefined;
}

/** The upstream body: the client's, on this candidate's model, unstored (the gateway stores). */
export function responsesBody(native: Json, ctx: AdapterContext, model = ctx.model): string {
  return JSON.stringify({ ...native, model, stream: ctx.stream, store: false });
}

/** Responses usage → chat usage. */
function usageOf(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  const input = typeof u.input_tokens === "number" ? u.input_tokens : 0;
  const output = typeof u.output_tokens === "number" ? u.output_tokens : 0;
  const usage: Usage = {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: typeof u.total_tokens === "number" ? u.total_tokens : input + output,
  };
  const cached = isObject(u.input_tokens_details) ? u.input_tokens_details.cached_tokens : 0;
  const reasoning = isObject(u.output_tokens_details)
    ? u.output_tokens_details.reasoning_tokens
    : 0;
  if (typeof cached === "number" && cached > 0) {
    usage.prompt_tokens_details = { cached_tokens: cached };
  }
  if (typeof reasoning === "number" && reasoning > 0) {
    usage.completion_tokens_details = { reasoning_tokens: reasoning };
  }
  return usage;
}

function finishOf(response: Json, output: Json[]): FinishReason {
  if (output.some((i) => i.type === "function_call")) return "tool_calls";
  const reason = isObject(response.incomplete_details) ? response.incomplete_details.reason : null;
  if (response.status === "incomplete") {
    return reason === "content_filter" ? "content_filter" : "length";
  }
  return "stop";
}

function errorInfoOf(e: unknown, fallback: string): UpstreamErrorInfo {
  if (!isObject(e)) return { message: fallback };
  const info: UpstreamErrorInfo = {
    message: typeof e.message === "string" && e.message ? e.message : fallback,
  };
  if (typeof e.type === "string") info.type = e.type;
  if (typeof e.code === "string") info.code = e.code;
  if (typeof e.param === "string") info.param = e.param;
  return info;
}

const textOf = (item: Json): string =>
  Array.isArray(item.content)
    ? item.content.map((p: unknown) =>
      isObject(p) && typeof p.text === "string"
        ? p.text
        : isObject(p) && typeof p.refusal === "string"
        ? p.refusal
        : ""
    ).join("")
    : "";

/** True when a 2xx body is a Responses API Response object. */
export const isResponseObject = (body: unknown): body is Json =>
  isObject(body) && body.object === "response" && Array.isArray(body.output);

/** A Response object → the canonical completion, its output items kept under NATIVE_OUTPUT. */
export function parseResponsesAnswer(body: unknown, ctx: AdapterContext): ChatCompletion {
  if (!isResponseObject(body)) {
    throw new Error(
      `openai: upstream body is not a Response object: ${truncate(JSON.stringify(body), 200)}`,
    );
  }
  if (body.status === "failed") {
    throw new UpstreamStreamError(errorInfoOf(body.error, "upstream response failed"));
  }
  const output = (body.output as unknown[]).filter(isObject);
  const text = output.filter((i) => i.type === "message").map(textOf).join("");
  const calls: ToolCall[] = output.filter((i) => i.type === "function_call").map((i) => ({
    id: String(i.call_id),
    type: "function",
    function: { name: String(i.name), arguments: String(i.arguments ?? "") },
  }));
  return {
    id: ctx.id,
    object: "chat.completion",
    created: typeof body.created_at === "number" ? body.created_at : ctx.nowSec,
    model: typeof body.model === "string" ? body.model : ctx.model,
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: text === "" && calls.length ? null : text,
        ...(calls.length ? { tool_calls: calls } : {}),
      },
      finish_reason: finishOf(body, output),
      logprobs: null,
    }],
    usage: usageOf(body.usage),
    [NATIVE_OUTPUT]: output,
  } as ChatCompletion;
}

/** True when an SSE event is one of the Responses API's (they carry a `type`, chunks do not). */
export const isResponsesEvent = (e: SseEvent): boolean =>
  (e.event ?? "").startsWith("response.") || /^\s*\{\s*"type"\s*:/.test(e.data);

/**
 * The Responses API's events → canonical chunks: text deltas, function calls (added, then
 * argument deltas), finished items with no chat equivalent (one chunk each, NATIVE_ITEM), and
 * the end (finish_reason, usage and the final output items). response.failed and error events
 * are upstream errors.
 */
export function createResponsesStreamDecoder(ctx: AdapterContext): StreamDecoder {
  let finished = false;
  let model = ctx.model;
  const toolIndex = new Map<number, number>();
  const chunk = (
    delta: ChatChunk["choices"][number]["delta"],
    extra: Partial<ChatChunk> & Json = {},
    finish: FinishReason | null = null,
  ): ChatChunk => ({
    id: ctx.id,
    object: "chat.completion.chunk",
    created: ctx.nowSec,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
  return {
    get finished() {
      return finished;
    },
    push(event: SseEvent): ChatChunk[] {
      const data = event.data.trim();
      if (finished || data === "" || data === "[DONE]") return [];
      const e = parseStreamJson("openai responses", data);
      if (!isObject(e) || typeof e.type !== "string") {
        throw new SyntaxError(`openai responses: event has no type: ${truncate(data, 200)}`);
      }
      const item = isObject(e.item) ? e.item : undefined;
      const at = typeof e.output_index === "number" ? e.output_index : -1;
      switch (e.type) {
        case "response.created":
        case "response.in_progress":
          if (isObject(e.response) && typeof e.response.model === "string") {
            model = e.response.model;
          }
          return [];
        case "response.output_text.delta":
        case "response.refusal.delta":
          return typeof e.delta === "string" && e.delta !== "" ? [chunk({ content: e.delta })] : [];
        case "response.output_item.added": {
          if (item?.type !== "function_call") return [];
          const index = toolIndex.size;
          toolIndex.set(at, index);
          return [chunk({
            tool_calls: [{
              index,
              id: String(item.call_id),
              type: "function",
              function: { name: String(item.name), arguments: String(item.arguments ?? "") },
            }],
          })];
        }
        case "response.function_call_arguments.delta": {
          const index = toolIndex.get(at);
          if (index === undefined || typeof e.delta !== "string") return [];
          return [chunk({ tool_calls: [{ index, function: { arguments: e.delta } }] })];
        }
        case "response.output_item.done":
          if (!item || item.type === "message" || item.type === "function_call") return [];
          return [{ ...chunk({}), choices: [], [NATIVE_ITEM]: item } as ChatChunk];
        case "response.completed":
        case "response.incomplete": {
          finished = true;
          const r = isObject(e.response) ? e.response : {};
          const output = Array.isArray(r.output) ? r.output.filter(isObject) : [];
          const usage = usageOf(r.usage);
          return [chunk({}, {
            ...(usage ? { usage } : {}),
            [NATIVE_OUTPUT]: output,
          }, finishOf(r, output))];
        }
        case "response.failed": {
          const r = isObject(e.response) ? e.response : {};
          throw new UpstreamStreamError(errorInfoOf(r.error, "upstream response failed"));
        }
        case "error":
          throw new UpstreamStreamError(
            errorInfoOf(isObject(e.error) ? e.error : e, "upstream stream error"),
          );
        default:
          return [];
      }
    },
  };
}

/** The finished opaque output item a chunk carries (reasoning, web_search_call …), if any. */
export function nativeItemOf(chunk: ChatChunk): Json | undefined {
  const item = (chunk as unknown as Json)[NATIVE_ITEM];
  return isObject(item) ? item : undefined;
}

/** The upstream's own output items a completion or final chunk carries, if it was native. */
export function nativeOutputOf(answer: ChatCompletion | ChatChunk): Json[] | undefined {
  const output = (answer as unknown as Json)[NATIVE_OUTPUT];
  return Array.isArray(output) ? output.filter(isObject) : undefined;
}
