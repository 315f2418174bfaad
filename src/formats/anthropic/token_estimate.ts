// An estimate of a Messages request's input tokens, for POST /anthropic/v1/messages/count_tokens
// when no Anthropic upstream can count them: about 4 characters a token over the system prompt,
// every message's content and the tool definitions, as Anthropic's own guidance puts it for
// English text. Never 0 for a request that says anything. Pure.

/** Characters per token: the rule of thumb for English text. */
export const CHARS_PER_TOKEN = 4;
/** What a turn costs besides its text (the role and its framing). */
export const TOKENS_PER_MESSAGE = 3;
/** An image counts as a fixed number of tokens (Anthropic: about 1,600 for a ~1.15 MP image). */
export const TOKENS_PER_IMAGE = 1_600;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null;

/** What a request holds that costs tokens: its characters and its images. */
interface Tally {
  chars: number;
  images: number;
}

/** The text of a content block as the model reads it; other fields (ids, cache_control) cost
 * little and are left out. */
function addBlock(block: unknown, into: Tally): void {
  if (typeof block === "string") {
    into.chars += block.length;
    return;
  }
  if (!isObject(block)) return;
  switch (block.type) {
    case "text":
      into.chars += String(block.text ?? "").length;
      return;
    case "image":
    case "document":
      into.images++;
      return;
    case "tool_use":
      into.chars += String(block.name ?? "").length + JSON.stringify(block.input ?? {}).length;
      return;
    case "tool_result":
      addContent(block.content, into);
      return;
    case "thinking":
      into.chars += String(block.thinking ?? "").length;
      return;
    default: // anything newer: its JSON, so it is not counted as nothing
      into.chars += JSON.stringify(block).length;
  }
}

function addContent(content: unknown, into: Tally): void {
  if (Array.isArray(content)) { for (const b of content) addBlock(b, into); }
  else addBlock(content, into);
}

/**
 * The estimated input tokens of a count_tokens body (already validated: `messages` is an array).
 * A tool's definition counts as its JSON, since the model reads its name, description and schema.
 */
export function estimateInputTokens(body: {
  system?: unknown;
  messages: readonly unknown[];
  tools?: readonly unknown[];
}): number {
  const tally: Tally = { chars: 0, images: 0 };
  addContent(body.system, tally);
  for (const m of body.messages) addContent(isObject(m) ? m.content : undefined, tally);
  for (const t of body.tools ?? []) tally.chars += JSON.stringify(t).length;
  const tokens = Math.ceil(tally.chars / CHARS_PER_TOKEN) +
    tally.images * TOKENS_PER_IMAGE +
    body.messages.length * TOKENS_PER_MESSAGE;
  return Math.max(1, tokens);
}
