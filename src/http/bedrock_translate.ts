// Bedrock Runtime's Converse wire format ⇄ the canonical (OpenAI) shapes, for the drop-in route
// that lets the AWS SDK talk to the gateway. Pure. Shapes from the Bedrock API reference:
// API_runtime_Converse.html (request, ConverseOutput, TokenUsage, ConverseMetrics) and
// API_runtime_ConverseStreamOutput.html (messageStart, contentBlockStart/Delta/Stop, messageStop,
// metadata, and the exceptions a stream may carry).
import { isObject, type Json } from "../lib/json.ts";
import { assistantMessage, dataUrl, toolCall } from "../openai/messages.ts";
import type {
  ChatChunk,
  ChatCompletion,
  ChatMessage,
  ContentPart,
  FinishReason,
  ToolCall,
  ToolChoice,
  ToolDefinition,
  Usage,
} from "../openai/types.ts";

/** A Converse request the gateway cannot take: answered as a ValidationException. */
export class ConverseInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConverseInputError";
  }
}

const fail = (message: string): never => {
  throw new ConverseInputError(message);
};

// ---------------------------------------------------------------------------------------------
// Request: Converse → canonical

const MEDIA_TYPE: Record<string, string> = {
  png: "image/png",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
};

function imagePart(image: unknown, where: string): ContentPart {
  if (!isObject(image) || !isObject(image.source)) fail(`${where}.image needs a source`);
  const { format, source } = image as { format?: unknown; source: Json };
  const media = MEDIA_TYPE[String(format)];
  if (!media) fail(`${where}.image.format must be png, jpeg, gif or webp`);
  if (typeof source.bytes === "string") {
    return { type: "image_url", image_url: { url: dataUrl(media, source.bytes) } };
  }
  if (isObject(source.s3Location) && typeof source.s3Location.uri === "string") {
    return { type: "image_url", image_url: { url: source.s3Location.uri } };
  }
  return fail(`${where}.image.source must hold bytes or an s3Location`);
}

function toolResultText(content: unknown, where: string): string {
  if (!Array.isArray(content)) return "";
  return content.map((b, i) => {
    if (isObject(b) && typeof b.text === "string") return b.text;
    if (isObject(b) && "json" in b) return JSON.stringify(b.json);
    return fail(`${where}.content[${i}]: only text and json tool results are supported`);
  }).join("\n");
}

/** One Converse message → one or more canonical messages (tool results become tool messages). */
function fromConverseMessage(m: unknown, i: number): ChatMessage[] {
  const where = `messages[${i}]`;
  if (!isObject(m)) return fail(`${where} must be an object`);
  if (m.role !== "user" && m.role !== "assistant") fail(`${where}.role must be user or assistant`);
  if (!Array.isArray(m.content)) return fail(`${where}.content must be a list of content blocks`);
  const parts: ContentPart[] = [];
  const toolCalls: ToolCall[] = [];
  const toolResults: ChatMessage[] = [];
  m.content.forEach((block, j) => {
    const at = `${where}.content[${j}]`;
    if (!isObject(block)) return fail(`${at} must be an object`);
    if (typeof block.text === "string") parts.push({ type: "text", text: block.text });
    else if ("image" in block) parts.push(imagePart(block.image, at));
    else if (isObject(block.toolUse)) {
      const t = block.toolUse;
      if (m.role !== "assistant") fail(`${at}.toolUse belongs in an assistant message`);
      toolCalls.push(toolCall(String(t.toolUseId ?? ""), String(t.name ?? ""), t.input));
    } else if (isObject(block.toolResult)) {
      const r = block.toolResult;
      toolResults.push({
        role: "tool",
        tool_call_id: String(r.toolUseId ?? ""),
        content: toolResultText(r.content, `${at}.toolResult`),
      });
    } else if (isObject(block.guardContent) && isObject(block.guardContent.text)) {
      parts.push({ type: "text", text: String(block.guardContent.text.text ?? "") });
    } else if ("cachePoint" in block || "reasoningContent" in block) {
      // Provider-specific hints with no canonical equivalent; the answer does not depend on them.
    } else {
      fail(`${at}: ${Object.keys(block)[0] ?? "empty"} blocks are not supported by the gateway`);
    }
  });
  if (m.role === "assistant") {
    const text = parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
    if (parts.some((p) => p.type !== "text")) fail(`${where}: images belong in user messages`);
    return [assistantMessage(text, toolCalls)];
  }
  const out = [...toolResults];
  if (parts.length > 0) out.push({ role: "user", content: parts });
  return out;
}

function toolsOf(config: unknown): { tools?: ToolDefinition[]; tool_choice?: ToolChoice } {
  if (config === undefined) return {};
  if (!isObject(config)) return fail("toolConfig must be an object");
  const tools = (Array.isArray(config.tools) ? config.tools : []).map((t, i): ToolDefinition => {
    const spec = isObject(t) ? t.toolSpec : undefined;
    if (!isObject(spec) || typeof spec.name !== "string") {
      return fail(`toolConfig.tools[${i}] needs a toolSpec with a name`);
    }
    const schema = isObject(spec.inputSchema) && isObject(spec.inputSchema.json)
      ? spec.inputSchema.json
      : undefined;
    return {
      type: "function",
      function: {
        name: spec.name,
        ...(typeof spec.description === "string" ? { description: spec.description } : {}),
        ...(schema ? { parameters: schema } : {}),
      },
    };
  });
  const out: { tools?: ToolDefinition[]; tool_choice?: ToolChoice } = {};
  if (tools.length > 0) out.tools = tools;
  const choice = config.toolChoice;
  if (isObject(choice)) {
    if ("auto" in choice) out.tool_choice = "auto";
    else if ("any" in choice) out.tool_choice = "required";
    else if (isObject(choice.tool) && typeof choice.tool.name === "string") {
      out.tool_choice = { type: "function", function: { name: choice.tool.name } };
    } else fail("toolConfig.toolChoice must be auto, any or tool");
  }
  return out;
}

/**
 * A Converse / ConverseStream body → the canonical request body (validated afterwards like any
 * other). `model` is the path's modelId: "provider/model" or a route alias.
 */
export function converseToChat(
  body: unknown,
  opts: { model: string; stream: boolean; fallbacks?: string[] },
): Json {
  if (!isObject(body)) return fail("The request body must be a JSON object.");
  // A guardrail silently skipped would be worse than a refusal; the others need Bedrock itself.
  for (const field of ["guardrailConfig", "promptVariables"]) {
    if (body[field] !== undefined) fail(`${field} is not supported by the gateway`);
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    fail("messages must hold at least one message");
  }
  const system = (Array.isArray(body.system) ? body.system : [])
    .flatMap((b) => (isObject(b) && typeof b.text === "string" ? [b.text] : []))
    .map((text): ChatMessage => ({ role: "system", content: text }));
  const messages = (body.messages as unknown[]).flatMap(fromConverseMessage);
  const out: Json = { model: opts.model, messages: [...system, ...messages] };
  if (opts.fallbacks?.length) out.fallbacks = opts.fallbacks;
  if (opts.stream) out.stream = true;
  const inf = body.inferenceConfig;
  if (inf !== undefined && !isObject(inf)) fail("inferenceConfig must be an object");
  if (isObject(inf)) {
    if (inf.maxTokens !== undefined) out.max_tokens = inf.maxTokens;
    if (inf.temperature !== undefined) out.temperature = inf.temperature;
    if (inf.topP !== undefined) out.top_p = inf.topP;
    if (inf.stopSequences !== undefined) out.stop = inf.stopSequences;
  }
  Object.assign(out, toolsOf(body.toolConfig));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Response: canonical → Converse

export function stopReason(finish: FinishReason | null | undefined): string {
  switch (finish) {
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "content_filtered";
    default:
      return "end_turn";
  }
}

/** OpenAI counts cached tokens within prompt_tokens; Bedrock reports them beside inputTokens. */
export function converseUsage(u: Usage | null | undefined): Json {
  const cached = u?.prompt_tokens_details?.cached_tokens ?? 0;
  const prompt = u?.prompt_tokens ?? 0;
  const output = u?.completion_tokens ?? 0;
  const usage: Json = {
    inputTokens: Math.max(0, prompt - cached),
    outputTokens: output,
    totalTokens: prompt + output,
  };
  if (cached > 0) usage.cacheReadInputTokens = cached;
  return usage;
}

function toolInput(call: ToolCall): unknown {
  try {
    const input = JSON.parse(call.function.arguments || "{}");
    return isObject(input) ? input : { value: input };
  } catch {
    return { arguments: call.function.arguments }; // a model that wrote broken JSON
  }
}

/** A chat completion as a ConverseResponse. */
export function chatToConverse(c: ChatCompletion, latencyMs: number): Json {
  const choice = c.choices[0];
  const content: Json[] = [];
  if (choice?.message.content) content.push({ text: choice.message.content });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({
      toolUse: { toolUseId: call.id, name: call.function.name, input: toolInput(call) },
    });
  }
  return {
    output: { message: { role: "assistant", content } },
    stopReason: stopReason(choice?.finish_reason),
    usage: converseUsage(c.usage),
    metrics: { latencyMs: Math.round(latencyMs) },
  };
}

// ---------------------------------------------------------------------------------------------
// Stream: canonical chunks → ConverseStream events

export interface ConverseEvent {
  /** The `:event-type` of the frame. */
  type: string;
  payload: Json;
}

/**
 * Turns OpenAI chunks into ConverseStream events, in Bedrock's order: messageStart, content
 * blocks (text blocks start with their first delta, tool blocks with contentBlockStart), a
 * contentBlockStop for each, messageStop, and metadata last. One per stream.
 */
export class ConverseStreamTranslator {
  #started = false;
  #stopped = false;
  #open: { index: number; tool?: number } | undefined;
  #nextIndex = 0;
  #toolBlocks = new Map<number, number>(); // OpenAI tool_calls index → content block index
  #usage: Usage | undefined;

  push(chunk: ChatChunk): ConverseEvent[] {
    const out: ConverseEvent[] = [];
    if (chunk.usage) this.#usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return out;
    this.#start(out);
    const delta = choice.delta;
    if (typeof delta.content === "string" && delta.content !== "") {
      if (!this.#open || this.#open.tool !== undefined) this.#openBlock(out);
      out.push({
        type: "contentBlockDelta",
        payload: { contentBlockIndex: this.#open!.index, delta: { text: delta.content } },
      });
    }
    for (const call of delta.tool_calls ?? []) {
      let index = this.#toolBlocks.get(call.index);
      if (index === undefined) {
        index = this.#openBlock(out, call.index);
        out.push({
          type: "contentBlockStart",
          payload: {
            contentBlockIndex: index,
            start: { toolUse: { toolUseId: call.id ?? "", name: call.function?.name ?? "" } },
          },
        });
      }
      if (call.function?.arguments) {
        out.push({
          type: "contentBlockDelta",
          payload: {
            contentBlockIndex: index,
            delta: { toolUse: { input: call.function.arguments } },
          },
        });
      }
    }
    if (choice.finish_reason) this.#stop(out, choice.finish_reason);
    return out;
  }

  /** The closing events once the upstream is done: whatever is still open, then metadata. */
  finish(latencyMs: number): ConverseEvent[] {
    const out: ConverseEvent[] = [];
    this.#start(out);
    this.#stop(out, "stop");
    out.push({
      type: "metadata",
      payload: { usage: converseUsage(this.#usage), metrics: { latencyMs: Math.round(latencyMs) } },
    });
    return out;
  }

  #start(out: ConverseEvent[]): void {
    if (this.#started) return;
    this.#started = true;
    out.push({ type: "messageStart", payload: { role: "assistant" } });
  }

  #openBlock(out: ConverseEvent[], tool?: number): number {
    this.#closeBlock(out);
    const index = this.#nextIndex++;
    this.#open = { index, tool };
    if (tool !== undefined) this.#toolBlocks.set(tool, index);
    return index;
  }

  #closeBlock(out: ConverseEvent[]): void {
    if (!this.#open) return;
    out.push({ type: "contentBlockStop", payload: { contentBlockIndex: this.#open.index } });
    this.#open = undefined;
  }

  #stop(out: ConverseEvent[], finish: FinishReason): void {
    if (this.#stopped) return;
    this.#closeBlock(out);
    this.#stopped = true;
    out.push({ type: "messageStop", payload: { stopReason: stopReason(finish) } });
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The Bedrock exception name (the `x-amzn-errortype`) for a gateway error answer. */
export function exceptionName(status: number, type: string): string {
  if (type === "rate_limit" || status === 429) return "ThrottlingException";
  if (status === 404 || type === "model_unavailable") return "ResourceNotFoundException";
  if (status === 403) return "AccessDeniedException";
  if (status === 400 || status === 413 || status === 422) return "ValidationException";
  if (status === 503) return "ServiceUnavailableException";
  if (status === 504 || type === "timeout") return "ModelTimeoutException";
  return "InternalServerException";
}

/** The ConverseStream exception (`:exception-type`) that ends a stream after a failure. */
export function streamExceptionName(kind: string): string {
  if (kind === "rate_limit") return "throttlingException";
  if (kind === "caller_fault") return "validationException";
  return "modelStreamErrorException";
}
