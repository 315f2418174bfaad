// What the translating adapters (Anthropic, Bedrock, Cohere, Gemini, and OpenAI's own requests)
// share: reading the canonical request, the headers of a bearer-token API, and the chunks of a
// stream that grows one choice.
import type {
  ChatChunk,
  ChatMessage,
  ChunkToolCall,
  ContentPart,
  EmbeddingsRequest,
  FinishReason,
  ToolCall,
  Usage,
} from "../openai/types.ts";
import type { AdapterContext } from "./adapter.ts";
import { isObject, type Json } from "./upstream_json.ts";

// ---------------------------------------------------------------------------------------------
// Request

/** A message's text parts, joined with newlines (its images left out). */
export function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  return (content ?? []).flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n");
}

/** System and developer messages: instructions, which most vendors take apart from the turns. */
export const isInstruction = (m: ChatMessage) => m.role === "system" || m.role === "developer";

/** The text of every instruction message, empty ones left out. */
export function instructionTexts(messages: ChatMessage[]): string[] {
  return messages.filter(isInstruction).map((m) => textOf(m.content)).filter((t) => t !== "");
}

/**
 * A message's content as the vendor's blocks. A string is one text part; a part `toBlock` has no
 * block for (empty text: vendors refuse blank blocks) is left out.
 */
export function contentBlocks<B>(
  content: ChatMessage["content"],
  toBlock: (part: ContentPart) => B | undefined,
): B[] {
  const parts: ContentPart[] = typeof content === "string"
    ? [{ type: "text", text: content }]
    : content ?? [];
  return parts.flatMap((p) => {
    const block = toBlock(p);
    return block === undefined ? [] : [block];
  });
}

/**
 * A tool call's arguments as the object vendors want as its input ("" is {}). Arguments that are
 * not JSON, or not an object, cannot be sent: a caller fault naming the call.
 */
export function toolArguments(
  family: string,
  call: ToolCall,
  notObject = "input is not an object",
): Json {
  let input: unknown = {};
  if (call.function.arguments.trim() !== "") {
    try {
      input = JSON.parse(call.function.arguments);
    } catch {
      throw new Error(`${family}: tool call ${call.id} has arguments that are not JSON`);
    }
  }
  if (!isObject(input)) throw new Error(`${family}: tool call ${call.id} ${notObject}`);
  return input;
}

/** A conversation turn of blocks (parts), in the vendors that want alternating roles. */
export interface Turn<B, R extends string = "user" | "assistant"> {
  role: R;
  content: B[];
}

/**
 * Alternating roles: empty turns are dropped (they say nothing, and are refused), and
 * consecutive turns of one role (parallel tool results, say) become one.
 */
export function joinTurns<B, R extends string>(turns: Turn<B, R>[]): Turn<B, R>[] {
  const out: Turn<B, R>[] = [];
  for (const m of turns) {
    if (m.content.length === 0) continue;
    const last = out.at(-1);
    if (last?.role === m.role) last.content.push(...m.content);
    else out.push({ role: m.role, content: [...m.content] });
  }
  return out;
}

/** joinTurns, with tool results first in their user turn (Anthropic, Bedrock Converse). */
export function mergeTurns<B>(turns: Turn<B>[], isToolResult: (block: B) => boolean): Turn<B>[] {
  const out = joinTurns(turns);
  for (const m of out) {
    if (m.role !== "user") continue;
    const results = m.content.filter((b) => isToolResult(b));
    m.content = [...results, ...m.content.filter((b) => !isToolResult(b))];
  }
  return out;
}

/** JSON request headers with the key as a bearer token; none for a keyless server. */
export function bearerHeaders(ctx: AdapterContext, accept: string): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", accept };
  if (ctx.apiKey !== "") headers.authorization = `Bearer ${ctx.apiKey}`;
  return headers;
}

/** Embeddings input as texts; undefined when it holds token ids, which only OpenAI takes. */
export function embeddingTexts(input: EmbeddingsRequest["input"]): string[] | undefined {
  const inputs = typeof input === "string" ? [input] : input;
  return inputs.every((x): x is string => typeof x === "string") ? inputs : undefined;
}

// ---------------------------------------------------------------------------------------------
// Stream

/**
 * The chunks of a stream with one choice (index 0) that grows by deltas. `id` and `model` start
 * as the context's and may be set once the upstream names its own.
 */
export class ChunkWriter {
  id: string;
  model: string;

  constructor(private readonly ctx: AdapterContext) {
    this.id = ctx.id;
    this.model = ctx.model;
  }

  delta(delta: ChatChunk["choices"][0]["delta"], finish: FinishReason | null = null): ChatChunk {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.ctx.nowSec,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
  }

  /** One tool call's start or its next arguments. */
  tool(call: ChunkToolCall): ChatChunk {
    return this.delta({ tool_calls: [call] });
  }

  /** The trailing usage chunk (no choices) OpenAI sends when stream_options.include_usage is set. */
  usage(usage: Usage): ChatChunk {
    return { ...this.delta({}), choices: [], usage };
  }
}
