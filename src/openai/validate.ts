// Validation of the chat completions body with zod. Only what the gateway relies on is checked;
// unknown top-level OpenAI fields pass through to OpenAI-compatible upstreams untouched.
import { z } from "zod";
import { invalidRequest, type Result } from "../lib/errors.ts";
import type { ChatRequest, EmbeddingsRequest } from "./types.ts";

// Content parts: keys the spec does not name (clients such as the OpenAI Agents SDK add some to
// parts they replay) are accepted and stripped, so no upstream is sent a key it may refuse; the
// keys the gateway reads are still checked, and a wrong type is a 400 naming the field.
const text = z.object({ type: z.literal("text"), text: z.string() });
const image = z.object({
  type: z.literal("image_url"),
  image_url: z.object({
    url: z.string().min(1),
    detail: z.enum(["auto", "low", "high"]).optional(),
  }),
});
const toolCall = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const message = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [text, image])), z.null()])
    .optional(),
  name: z.string().optional(),
  tool_calls: z.array(toolCall).optional(),
  tool_call_id: z.string().optional(),
}).refine((m) => m.content != null || (m.role === "assistant" && m.tool_calls?.length), {
  message: "content is required (only an assistant message with tool_calls may omit it)",
  path: ["content"],
}).refine((m) => m.role !== "tool" || typeof m.tool_call_id === "string", {
  message: "a tool message needs tool_call_id",
  path: ["tool_call_id"],
});

const nonNegInt = z.number().int().nonnegative();

export const ChatRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required, e.g. "openai/gpt-4o-mini"'),
  messages: z.array(message).min(1, "messages must hold at least one message"),
  fallbacks: z.array(z.string().min(1)).max(10).optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: nonNegInt.nullish(),
  max_completion_tokens: nonNegInt.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  seed: z.number().int().nullish(),
  user: z.string().optional(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  tools: z.array(z.object({
    type: z.literal("function"),
    function: z.object({
      name: z.string().min(1),
      description: z.string().optional(),
      parameters: z.record(z.string(), z.unknown()).optional(),
    }),
  })).optional(),
  tool_choice: z.union([
    z.enum(["none", "auto", "required"]),
    z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) }),
  ]).optional(),
  response_format: z.object({
    type: z.enum(["text", "json_object", "json_schema"]),
    json_schema: z.unknown().optional(),
  }).optional(),
});

/** A validated body, or a 400 `invalid_request` naming the first offending field. */
export type Validated<T> = Result<T>;

/** A zod issue path as a field name: `messages[1].content`. */
function pathOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`))
    .join("");
}

/**
 * A union refused as a whole ("Invalid input") is explained by the one branch that got past the
 * value's top level, if exactly one did: `messages[0].content[0].text: expected string` rather
 * than `messages[0].content: Invalid input`.
 */
function innermost(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== "invalid_union" || !Array.isArray(issue.errors)) return issue;
  const deeper = issue.errors.filter((branch) => branch.some((i) => i.path.length > 0));
  if (deeper.length !== 1) return issue;
  const inner = innermost(deeper[0][0]);
  return { ...inner, path: [...issue.path, ...inner.path] };
}

/**
 * Parses `value` with `schema`; on failure names the first offending field. `prefix` is where
 * `value` sits in the body ("" for the body itself), e.g. "messages[0].content[1]".
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix = "",
): Validated<z.infer<S>> {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = innermost(r.error.issues[0]);
  const sub = pathOf(issue.path);
  const param = prefix + (sub && !sub.startsWith("[") && prefix ? `.${sub}` : sub);
  return invalidRequest(`${param || "body"}: ${issue.message}`, param);
}

/** Parses a decoded JSON body, which must be an object; on failure names the offending field. */
function validateBody<T>(schema: z.ZodType, body: unknown): Validated<T> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return invalidRequest("The request body must be a JSON object.");
  }
  const r = parseWith(schema, body);
  return r.ok ? { ok: true, value: r.value as T } : r;
}

const PLAIN_ROLES = new Set(["system", "developer", "user", "assistant"]);
const PLAIN_MESSAGE_KEYS = new Set(["role", "content", "name"]);
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const nullOrIn = (v: unknown, min: number, max: number) =>
  v === null || (typeof v === "number" && v >= min && v <= max);
const nullOrCount = (v: unknown) => v === null || (Number.isSafeInteger(v) && (v as number) >= 0);

/**
 * The common body, checked by hand: string model and messages of text content from the system,
 * developer, user or assistant, with at most stream, max_tokens, max_completion_tokens,
 * temperature, top_p and user besides, and any field the schema does not name (passed through as
 * ChatRequestSchema does). True only when ChatRequestSchema would accept `body` and give back an
 * equal object; anything else (another field it checks, a wrong value) goes to zod, whose issue
 * names the field.
 */
export function isPlainChatRequest(body: Record<string, unknown>): boolean {
  const { model, messages } = body;
  if (typeof model !== "string" || model === "") return false;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const m of messages) {
    if (!isObj(m) || typeof m.content !== "string" || !PLAIN_ROLES.has(m.role as string)) {
      return false;
    }
    for (const k in m) if (!PLAIN_MESSAGE_KEYS.has(k)) return false;
    if (m.name !== undefined && typeof m.name !== "string") return false;
  }
  for (const k in body) {
    const v = body[k];
    switch (k) {
      case "model":
      case "messages":
        break;
      case "stream":
        if (typeof v !== "boolean") return false;
        break;
      case "max_tokens":
      case "max_completion_tokens":
        if (!nullOrCount(v)) return false;
        break;
      case "temperature":
        if (!nullOrIn(v, 0, 2)) return false;
        break;
      case "top_p":
        if (!nullOrIn(v, 0, 1)) return false;
        break;
      case "user":
        if (typeof v !== "string") return false;
        break;
      default:
        // A field the schema checks is left to it; others pass through untouched.
        if (k in ChatRequestSchema.shape || k === "__proto__") return false;
    }
  }
  return true;
}

/**
 * Parses a decoded chat completions body; on failure names the first offending field. The common
 * body is checked by hand (isPlainChatRequest), everything else, and every error, by zod.
 */
export function validateChatRequest(body: unknown): Validated<ChatRequest> {
  if (isObj(body) && isPlainChatRequest(body)) {
    return { ok: true, value: body as unknown as ChatRequest };
  }
  return validateBody(ChatRequestSchema, body);
}

export const EmbeddingsRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required, e.g. "openai/text-embedding-3-small"'),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(2048),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1).max(2048),
  ]),
  fallbacks: z.array(z.string().min(1)).max(10).optional(),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

/** Parses a decoded embeddings body; on failure names the first offending field. */
export function validateEmbeddingsRequest(body: unknown): Validated<EmbeddingsRequest> {
  return validateBody(EmbeddingsRequestSchema, body);
}
