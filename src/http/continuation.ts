// Mid-stream continuation: when a stream fails after part of the answer reached the client, the
// next attempt is asked to go on with the same answer, and the client receives one answer. This
// file holds the pure parts: how a continuation request is built for a target, and how the
// continuing stream's chunks are stitched onto what was already sent.
import type { ChatChunk, ChatRequest } from "../openai/types.ts";

export type ContinuationMode = "prefill" | "continue";

/** The turn that asks a target without prefill to go on, not start again. */
export const CONTINUE_PROMPT =
  "Your previous reply was cut off. Continue it exactly where it stopped: do not repeat any of it, do not add a preamble, start with the next characters.";

/**
 * How a target continues a partial answer. Anthropic's Messages API (also through Bedrock's
 * Converse for Claude) continues a final assistant message as its own start (a prefill); OpenAI
 * and the OpenAI-compatible APIs answer a final assistant message with a new reply, so they get
 * an explicit "continue" turn. A (provider, model) seen refusing a prefill is never sent one again.
 */
export function continuationMode(
  family: string,
  model: string,
  refused: boolean,
): ContinuationMode {
  if (refused) return "continue";
  const claude = family === "anthropic" ||
    (family === "bedrock" && /anthropic|claude/i.test(model));
  return claude && claudeTakesPrefill(model) ? "prefill" : "continue";
}

/**
 * Claude models before 4.6 continue a prefill; from Claude 4.6 on Anthropic removed it ("This
 * model does not support assistant message prefill"). Names: claude-opus-4-6, claude-sonnet-4-5-…,
 * claude-3-5-haiku-latest, Bedrock's us.anthropic.claude-opus-4-6-v1. An unknown name is tried
 * with a prefill (a refusal is then learnt).
 */
export function claudeTakesPrefill(model: string): boolean {
  const named = /claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d{1,2})(?!\d))?/i.exec(model);
  const legacy = /claude-(\d+)(?:-(\d{1,2})(?!\d))?-(?:opus|sonnet|haiku)/i.exec(model);
  const m = named ?? legacy;
  if (!m) return true;
  const major = Number(m[1]);
  const minor = m[2] === undefined ? 0 : Number(m[2]);
  return major < 4 || (major === 4 && minor < 6);
}

/** The original conversation plus the partial answer, as the target continues it. */
export function continuationRequest(
  req: ChatRequest,
  partial: string,
  mode: ContinuationMode,
): ChatRequest {
  const messages = mode === "prefill"
    // A prefill may not end with whitespace (Anthropic refuses it); the stitcher drops the
    // continuation's leading whitespace instead.
    ? [...req.messages, { role: "assistant" as const, content: partial.trimEnd() }]
    : [
      ...req.messages,
      { role: "assistant" as const, content: partial },
      { role: "user" as const, content: CONTINUE_PROMPT },
    ];
  return { ...req, messages, n: undefined };
}

const PREFILL_REFUSAL =
  /prefill|must end with a user message|final assistant content|last message must (?:be|have) (?:a )?(?:user|role)/i;

/** A 4xx that says the target will not take an assistant prefill. */
export function isPrefillRefusal(f: { status?: number; message: string }): boolean {
  return (f.status === undefined || (f.status >= 400 && f.status < 500)) &&
    PREFILL_REFUSAL.test(f.message);
}

/** What the client has received of a streamed answer (choice 0). */
export class SentAnswer {
  text = "";
  id: string | undefined;
  /** A tool call was being streamed: it cannot be continued safely. */
  toolCalls = false;
  /** More than one choice (n > 1): no single answer to continue. */
  multiple = false;

  /** Records a chunk of the first stream as it goes out. */
  record(c: ChatChunk): void {
    this.id ??= c.id;
    for (const ch of c.choices) {
      if (ch.index !== 0) this.multiple = true;
      else if (typeof ch.delta.content === "string") this.text += ch.delta.content;
      if (ch.delta.tool_calls?.length) this.toolCalls = true;
    }
  }

  /** Can another attempt continue it? Only a plain text answer that has begun. */
  get continuable(): boolean {
    return !this.toolCalls && !this.multiple;
  }
}

/**
 * Rewrites a continuing stream's chunks into the answer already begun: the first stream's id,
 * no second `role`, no leading whitespace where the sent text already ended with some. Chunks
 * left with nothing to say are dropped (undefined).
 */
export class Stitcher {
  #trimLead: boolean;
  #started = false;

  constructor(private readonly sent: SentAnswer) {
    this.#trimLead = /\s$/.test(sent.text);
  }

  push(c: ChatChunk): ChatChunk | undefined {
    const choices = [];
    for (const ch of c.choices) {
      const { role: _role, ...delta } = ch.delta;
      if (typeof delta.content === "string") {
        if (this.#trimLead && !this.#started) delta.content = delta.content.trimStart();
        if (delta.content !== "") this.#started = true;
        this.sent.text += delta.content;
        if (delta.content === "") delete delta.content;
      }
      if (delta.tool_calls?.length) this.sent.toolCalls = true;
      const says = Object.keys(delta).length > 0 || ch.finish_reason !== null;
      if (says) choices.push({ ...ch, delta });
    }
    if (choices.length === 0 && !c.usage) return undefined;
    return { ...c, id: this.sent.id ?? c.id, choices };
  }
}
