// Anthropic Messages API (inbound) ⇄ the canonical OpenAI shapes the pipeline runs on. Pure: a
// request body in, a ChatRequest out; a ChatCompletion in, an Anthropic Message out; and a
// stateful encoder that turns a committed stream of OpenAI chunks into Anthropic's SSE events.
import { z } from "zod";
import { type Json, parseObject } from "../lib/json.ts";
import { assistantMessage, dataUrl, toolCall } from "../openai/messages.ts";
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
} from "../openai/types.ts";
import { parseWith } from "../openai/validate.ts";

// ---------------------------------------------------------------------------------------------
// Request: validation

const text = z.looseObject({ type: z.literal("text"), text: z.string() });
const image = z.looseObject({
  type: z.literal("image"),
  source: z.discriminatedUnion("type", [
    z.looseObject({ type: z.literal("base64"), media_type: z.string().min(1), data: z.string() }),
    z.looseObject({ type: z.literal("url"), url: z.string().min(1) }),
    z.looseObject({ type: z.literal("file"), file_id: z.string() }),
  ]),
});
const toolUse = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
});
const toolResult = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  is_error: z.boolean().optional(),
});
/** Block types the gateway understands; any other is refused with a message naming it. */
const BLOCKS = {
  text,
  image,
  tool_use: toolUse,
  tool_result: toolResult,
  // Extended-thinking history: no OpenAI equivalent, dropped on the way in.
  thinking: z.looseObject({ type: z.literal("thinking") }),
  redacted_thinking: z.looseObject({ type: z.literal("redacted_thinking") }),
} as const;
type Block =
  | z.infer<typeof text>
  | z.infer<typeof image>
  | z.infer<typeof toolUse>
  | z.infer<typeof toolResult>
  | { type: "thinking" | "redacted_thinking" };

const anyBlock = z.looseObject({ type: z.string() });
const customTool = z.looseObject({
  type: z.literal("custom").nullish(),
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
});
const parallel = { disable_parallel_tool_use: z.boolean().optional() };

export const AnthropicRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required, e.g. "anthropic/claude-3-5-haiku-latest"'),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.looseObject({
    role: z.enum(["user", "assistant", "system"]),
    content: z.union([z.string(), z.array(anyBlock)]),
  })).min(1, "messages must hold at least one message"),
  system: z.union([z.string(), z.array(text)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  tools: z.array(z.looseObject({ type: z.string().nullish() })).optional(),
  tool_choice: z.discriminatedUnion("type", [
    z.looseObject({ type: z.literal("auto"), ...parallel }),
    z.looseObject({ type: z.literal("any"), ...parallel }),
    z.looseObject({ type: z.literal("none") }),
    z.looseObject({ type: z.literal("tool"), name: z.string().min(1), ...parallel }),
  ]).optional(),
  output_config: z.looseObject({
    format: z.looseObject({
      type: z.literal("json_schema"),
      schema: z.record(z.string(), z.unknown()),
    }).nullish(),
  }).optional(),
  /** Gateway extension: more "provider/model" candidates, tried in order. */
  fallbacks: z.array(z.string().min(1)).max(10).optional(),
});
type AnthropicRequest = z.infer<typeof AnthropicRequestSchema>;

export interface TranslationFailure {
  message: string;
  /** The offending field, e.g. "messages[1].content[0].source.type" ("" for the whole body). */
  param: string;
}

type Result<T> = { ok: true; value: T } | { ok: false; error: TranslationFailure };

const fail = (param: string, message: string): { ok: false; error: TranslationFailure } => ({
  ok: false,
  error: { param, message: `${param || "body"}: ${message}` },
});

// ---------------------------------------------------------------------------------------------
// Request: translation

const textOf = (blocks: readonly { text: string }[], sep: string) =>
  blocks.map((b) => b.text).join(sep);

function imagePart(b: z.infer<typeof image>, param: string): Result<ContentPart> {
  const s = b.source;
  if (s.type === "base64") {
    return {
      ok: true,
      value: { type: "image_url", image_url: { url: dataUrl(s.media_type, s.data) } },
    };
  }
  if (s.type === "url") {
    return { ok: true, value: { type: "image_url", image_url: { url: s.url } } };
  }
  return fail(
    `${param}.source.type`,
    'images from the Files API ("file") cannot be forwarded; send them as "base64" or "url"',
  );
}

function parseBlocks(content: string | Json[], param: string): Result<Block[]> {
  if (typeof content === "string") return { ok: true, value: [{ type: "text", text: content }] };
  const out: Block[] = [];
  for (const [i, raw] of content.entries()) {
    const at = `${param}[${i}]`;
    const type = String(raw.type);
    const schema = Object.hasOwn(BLOCKS, type) ? BLOCKS[type as keyof typeof BLOCKS] : undefined;
    if (!schema) {
      return fail(
        `${at}.type`,
        `content block type "${type}" is not supported by the gateway ` +
          `(supported: text, image, tool_use, tool_result; thinking blocks are dropped)`,
      );
    }
    const block = parseWith(schema, raw, at);
    if (!block.ok) return block;
    out.push(block.value as Block);
  }
  return { ok: true, value: out };
}

/** A user turn: its tool results become tool messages first (OpenAI wants them right after the
 * assistant's tool_calls), then one user message with the text and images. */
function userMessages(blocks: Block[], param: string): Result<ChatMessage[]> {
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  const toolImages: ContentPart[] = [];
  for (const [i, b] of blocks.entries()) {
    const at = `${param}[${i}]`;
    if (b.type === "text") parts.push({ type: "text", text: b.text });
    else if (b.type === "image") {
      const p = imagePart(b, at);
      if (!p.ok) return p;
      parts.push(p.value);
    } else if (b.type === "tool_result") {
      const pieces = typeof b.content === "string"
        ? [{ type: "text", text: b.content }]
        : b.content ?? [];
      const texts: string[] = [];
      for (const [j, piece] of pieces.entries()) {
        const pieceAt = `${at}.content[${j}]`;
        if (piece.type === "text") {
          const t = parseWith(text, piece, pieceAt);
          if (!t.ok) return t;
          texts.push(t.value.text);
        } else if (piece.type === "image") {
          // OpenAI tool messages carry text only: the images follow in the next user message.
          const img = parseWith(image, piece, pieceAt);
          if (!img.ok) return img;
          const p = imagePart(img.value, pieceAt);
          if (!p.ok) return p;
          toolImages.push(p.value);
        } else {
          return fail(
            `${pieceAt}.type`,
            `tool_result content of type "${piece.type}" is not supported (text and image are)`,
          );
        }
      }
      tools.push({ role: "tool", tool_call_id: b.tool_use_id, content: texts.join("\n") });
    } else if (b.type === "tool_use") {
      return fail(`${at}.type`, "tool_use blocks belong in assistant messages");
    }
  }
  const all = [...toolImages, ...parts];
  if (all.length === 0) return { ok: true, value: tools };
  const content = all.length === 1 && all[0].type === "text" ? all[0].text : all;
  return { ok: true, value: [...tools, { role: "user", content }] };
}

function assistantTurn(blocks: Block[], param: string): Result<ChatMessage> {
  const texts: { text: string }[] = [];
  const calls: ToolCall[] = [];
  for (const [i, b] of blocks.entries()) {
    const at = `${param}[${i}]`;
    if (b.type === "text") texts.push(b);
    else if (b.type === "tool_use") calls.push(toolCall(b.id, b.name, b.input));
    else if (b.type === "image" || b.type === "tool_result") {
      return fail(`${at}.type`, `${b.type} blocks belong in user messages`);
    }
  }
  return { ok: true, value: assistantMessage(textOf(texts, ""), calls) };
}

function toolChoice(c: NonNullable<AnthropicRequest["tool_choice"]>): ToolChoice {
  switch (c.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      return { type: "function", function: { name: c.name } };
  }
}

/**
 * Validates an Anthropic Messages body and translates it to the canonical ChatRequest. `model`
 * stays "provider/model" (or a route alias). `fallbacks` come from the body, else from
 * `headerFallbacks` (the x-gateway-fallbacks header). top_k and Anthropic-only options
 * (thinking, service_tier, cache_control …) have no OpenAI equivalent and are dropped.
 */
export function anthropicToChat(
  body: unknown,
  headerFallbacks: string[] = [],
): Result<ChatRequest> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return fail("", "the request body must be a JSON object");
  }
  const parsed = parseWith(AnthropicRequestSchema, body, "");
  if (!parsed.ok) return parsed;
  const a = parsed.value;
  const messages: ChatMessage[] = [];
  if (a.system !== undefined) {
    const system = typeof a.system === "string" ? a.system : textOf(a.system, "\n");
    if (system !== "") messages.push({ role: "system", content: system });
  }
  for (const [i, m] of a.messages.entries()) {
    const param = `messages[${i}].content`;
    const blocks = parseBlocks(m.content as string | Json[], param);
    if (!blocks.ok) return blocks;
    if (m.role === "system") {
      const texts = blocks.value.filter((b): b is z.infer<typeof text> => b.type === "text");
      if (texts.length !== blocks.value.length) {
        return fail(param, "a system message holds text blocks only");
      }
      messages.push({ role: "system", content: textOf(texts, "\n") });
    } else if (m.role === "user") {
      const out = userMessages(blocks.value, param);
      if (!out.ok) return out;
      messages.push(...out.value);
    } else {
      const out = assistantTurn(blocks.value, param);
      if (!out.ok) return out;
      messages.push(out.value);
    }
  }
  const req: ChatRequest = { model: a.model, messages, max_tokens: a.max_tokens };
  const fallbacks = a.fallbacks ?? headerFallbacks;
  if (fallbacks.length) req.fallbacks = fallbacks;
  if (a.stream !== undefined) req.stream = a.stream;
  if (a.temperature !== undefined) req.temperature = a.temperature;
  if (a.top_p !== undefined) req.top_p = a.top_p;
  if (a.stop_sequences?.length) req.stop = a.stop_sequences;
  if (a.metadata?.user_id) req.user = a.metadata.user_id;
  if (a.tools?.length) {
    req.tools = [];
    for (const [i, raw] of a.tools.entries()) {
      if (raw.type != null && raw.type !== "custom") {
        return fail(
          `tools[${i}].type`,
          `Anthropic server tool "${raw.type}" cannot be forwarded; only custom tools (name, ` +
            `description, input_schema) are supported`,
        );
      }
      const t = parseWith(customTool, raw, `tools[${i}]`);
      if (!t.ok) return t;
      req.tools.push({
        type: "function",
        function: {
          name: t.value.name,
          ...(t.value.description ? { description: t.value.description } : {}),
          parameters: t.value.input_schema,
        },
      });
    }
  }
  if (a.tool_choice) {
    req.tool_choice = toolChoice(a.tool_choice);
    if ("disable_parallel_tool_use" in a.tool_choice && a.tool_choice.disable_parallel_tool_use) {
      req.parallel_tool_calls = false;
    }
  }
  const format = a.output_config?.format;
  if (format) {
    req.response_format = {
      type: "json_schema",
      json_schema: { name: "output", schema: format.schema },
    };
  }
  return { ok: true, value: req };
}

/** `x-gateway-fallbacks: a/b, c/d` → ["a/b", "c/d"]. */
export { parseFallbacksHeader } from "./call.ts";

// ---------------------------------------------------------------------------------------------
// Response

export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

/**
 * OpenAI's finish_reason → Anthropic's stop_reason. OpenAI does not say which stop string
 * matched (nor whether one did), so "stop" is always end_turn and stop_sequence stays null.
 */
export function stopReason(finish: FinishReason | null | undefined): StopReason {
  switch (finish) {
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** OpenAI counts cached prompt tokens within prompt_tokens; Anthropic counts them apart. */
export function anthropicUsage(u: Usage | null | undefined): AnthropicUsage {
  const cached = u?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (u?.prompt_tokens ?? 0) - cached),
    output_tokens: u?.completion_tokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/** Message ids look like Anthropic's: an upstream `msg_…` id is kept, others get the prefix. */
export const messageId = (id: string) => (id.startsWith("msg_") ? id : `msg_${id}`);

/** Anthropic wants a tool's input as an object; arguments that are not one (cut off by
 * max_tokens, or not JSON) cannot be represented and become {}. */
function toolInput(args: string): Json {
  return parseObject(args) ?? {};
}

export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: (
    | { type: "text"; text: string }
    | { type: "tool_use"; id: string; name: string; input: Json }
  )[];
  stop_reason: StopReason;
  stop_sequence: null;
  usage: AnthropicUsage;
}

/** A canonical completion (first choice) as an Anthropic Message. */
export function chatToAnthropic(c: ChatCompletion): AnthropicMessage {
  const choice = c.choices[0];
  const content: AnthropicMessage["content"] = [];
  const text = choice?.message.content;
  if (typeof text === "string" && text !== "") content.push({ type: "text", text });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({
      type: "tool_use",
      id: call.id,
      name: call.function.name,
      input: toolInput(call.function.arguments),
    });
  }
  return {
    id: messageId(c.id),
    type: "message",
    role: "assistant",
    model: c.model,
    content,
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(c.usage),
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

const TYPE_BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/**
 * The status and Anthropic error type for a gateway error. The status decides, as in
 * Anthropic's table: an upstream 401 reaches the client as a 502 api_error (the gateway's key
 * failed, not the client's). "Every candidate unavailable right now" (our 503) is what
 * Anthropic calls overloaded: 529 overloaded_error, so Anthropic clients back off and retry.
 */
export function anthropicError(status: number, type: string): { status: number; type: string } {
  if (status === 503 || type === "unavailable") return { status: 529, type: "overloaded_error" };
  const known = TYPE_BY_STATUS[status];
  if (known) return { status, type: known };
  return { status, type: status >= 500 ? "api_error" : "invalid_request_error" };
}

/** The type of an `event: error` after a stream was committed, from our failure kind. */
export function streamErrorType(kind: string, status?: number): string {
  if (status === 529 || kind === "unavailable") return "overloaded_error";
  if (kind === "rate_limit") return "rate_limit_error";
  if (kind === "timeout") return "timeout_error";
  return "api_error";
}

export function anthropicErrorBody(type: string, message: string, requestId?: string) {
  return {
    type: "error" as const,
    error: { type, message },
    ...(requestId ? { request_id: requestId } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Stream

export interface AnthropicEvent {
  event: string;
  data: Json & { type: string };
}

const ev = (type: string, data: Json = {}): AnthropicEvent => ({
  event: type,
  data: { type, ...data },
});

export interface AnthropicStreamEncoder {
  /** Events for one OpenAI chunk (possibly none). Throws if the chunks cannot be expressed. */
  push(chunk: ChatChunk): AnthropicEvent[];
  /** The closing events once the upstream stream ended: content_block_stop, message_delta
   * (stop_reason, usage), message_stop. */
  finish(): AnthropicEvent[];
}

/**
 * OpenAI chunks → Anthropic's documented event order: message_start; for each content block a
 * content_block_start, its deltas (text_delta, or input_json_delta for tool_use), and a
 * content_block_stop; then message_delta and message_stop. One ping follows the first
 * content_block_start, as the API sends it. Blocks are sequential, as Anthropic's are: a tool
 * call whose arguments resume after another block has started cannot be encoded, and throws.
 */
export function createAnthropicStreamEncoder(
  /** Used until the first chunk names its own id and model. */
  opts: { id: string; model: string },
): AnthropicStreamEncoder {
  let started = false;
  let pinged = false;
  let finished = false;
  let model = opts.model;
  let next = 0; // index of the next content block
  let open: { index: number; tool?: number } | undefined;
  const toolBlocks = new Map<number, number>(); // OpenAI tool_calls index → block index
  let stop: StopReason | undefined;
  let usage: Usage | undefined;

  let id = opts.id;
  const start = (out: AnthropicEvent[], chunk?: ChatChunk) => {
    if (started) return;
    started = true;
    if (chunk?.model) model = chunk.model;
    if (chunk?.id) id = chunk.id;
    out.push(ev("message_start", {
      message: {
        id: messageId(id),
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // OpenAI streams report usage only at the end; message_delta carries the totals.
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    }));
  };
  const close = (out: AnthropicEvent[]) => {
    if (!open) return;
    out.push(ev("content_block_stop", { index: open.index }));
    open = undefined;
  };
  const openBlock = (out: AnthropicEvent[], block: Json, tool?: number) => {
    close(out);
    open = { index: next++, tool };
    out.push(ev("content_block_start", { index: open.index, content_block: block }));
    if (!pinged) {
      pinged = true;
      out.push(ev("ping"));
    }
    return open.index;
  };

  return {
    push(chunk) {
      if (finished) return [];
      const out: AnthropicEvent[] = [];
      start(out, chunk);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices.find((c) => c.index === 0);
      if (!choice) return out;
      const { content, tool_calls } = choice.delta;
      if (typeof content === "string" && content !== "") {
        const index = open && open.tool === undefined
          ? open.index
          : openBlock(out, { type: "text", text: "" });
        out.push(
          ev("content_block_delta", { index, delta: { type: "text_delta", text: content } }),
        );
      }
      for (const call of tool_calls ?? []) {
        let index = toolBlocks.get(call.index);
        if (index === undefined) {
          index = openBlock(out, {
            type: "tool_use",
            id: call.id ?? `toolu_${messageId(id).slice(4)}_${call.index}`,
            name: call.function?.name ?? "",
            input: {},
          }, call.index);
          toolBlocks.set(call.index, index);
        } else if (open?.index !== index) {
          throw new Error(
            `tool call ${call.index} resumed after its content block closed; Anthropic's stream ` +
              `format cannot express interleaved blocks`,
          );
        }
        const args = call.function?.arguments;
        if (args) {
          out.push(ev("content_block_delta", {
            index,
            delta: { type: "input_json_delta", partial_json: args },
          }));
        }
      }
      if (choice.finish_reason) stop = stopReason(choice.finish_reason);
      return out;
    },
    finish() {
      if (finished) return [];
      finished = true;
      const out: AnthropicEvent[] = [];
      start(out);
      close(out);
      const u = anthropicUsage(usage);
      out.push(ev("message_delta", {
        delta: { stop_reason: stop ?? "end_turn", stop_sequence: null },
        usage: usage
          ? {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cache_read_input_tokens: u.cache_read_input_tokens,
          }
          : { output_tokens: 0 },
      }));
      out.push(ev("message_stop"));
      return out;
    },
  };
}
