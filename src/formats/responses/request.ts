// Responses API request (inbound) → the canonical ChatRequest the pipeline runs on. Pure: the
// conversation of a `previous_response_id` arrives as items the caller already looked up.
import type { Item } from "../../responses/mod.ts";
import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from "../../openai/types.ts";
import { parseWith } from "../../openai/validate.ts";
import { NATIVE_RESPONSES, type NativeResponses } from "../../providers/openai/responses_api.ts";
import type { Result } from "../../lib/errors.ts";
import {
  fail,
  functionCallItem,
  functionCallOutputItem,
  functionTool,
  messageItem,
  PARTS,
  type ResponsesRequest,
  ResponsesRequestSchema,
} from "./request_schema.ts";

/** The request's input as items: a string is one user message. */
export function inputItems(input: ResponsesRequest["input"]): Item[] {
  return typeof input === "string"
    ? [{ type: "message", role: "user", content: input }]
    : input.map((i) => ({ ...i }));
}

function contentOf(
  content: string | { type: string }[],
  param: string,
): Result<string | ContentPart[]> {
  if (typeof content === "string") return { ok: true, value: content };
  const parts: ContentPart[] = [];
  for (const [i, raw] of content.entries()) {
    const at = `${param}[${i}]`;
    const schema = Object.hasOwn(PARTS, raw.type) ? PARTS[raw.type as keyof typeof PARTS] : null;
    if (!schema) {
      return fail(
        `${at}.type`,
        `content part type "${raw.type}" is not supported by the gateway ` +
          `(supported: input_text, input_image, output_text, refusal)`,
      );
    }
    const p = parseWith(schema, raw, at);
    if (!p.ok) return p;
    const v = p.value;
    if (v.type === "input_image") {
      if (!v.image_url) {
        return fail(
          `${at}.image_url`,
          "images by file_id cannot be forwarded; send an image_url (a URL or a data: URL)",
        );
      }
      parts.push({
        type: "image_url",
        image_url: { url: v.image_url, ...(v.detail ? { detail: v.detail } : {}) },
      });
    } else {
      parts.push({ type: "text", text: v.type === "refusal" ? v.refusal : v.text });
    }
  }
  // Plain text stays a string: every target takes that, not all take parts on every role.
  if (parts.every((p) => p.type === "text")) {
    return { ok: true, value: parts.map((p) => (p as { text: string }).text).join("") };
  }
  return { ok: true, value: parts };
}

/** A function_call_output's output: a string, or parts of which only the text is forwarded. */
function outputText(output: string | { type: string }[]): string {
  if (typeof output === "string") return output;
  return output.map((p) => {
    const text = (p as { text?: unknown }).text;
    return typeof text === "string" ? text : "";
  }).join("");
}

/**
 * Output items with no chat equivalent: reasoning, and what built-in tools did (their results
 * are in the message that follows). Translation drops them; the native passthrough sends them.
 */
export const OPAQUE_ITEMS: ReadonlySet<string> = new Set([
  "reasoning",
  "web_search_call",
  "file_search_call",
  "code_interpreter_call",
  "image_generation_call",
  "mcp_list_tools",
  "mcp_call",
]);

/**
 * Items → chat messages. Consecutive function_call items (and the assistant text right before
 * them) become one assistant message with tool_calls; reasoning and built-in tool items have no
 * chat equivalent and are dropped; developer messages become system ones, which every target
 * takes.
 */
export function itemsToMessages(items: Item[], param: string): Result<ChatMessage[]> {
  const out: ChatMessage[] = [];
  const lastAssistant = () => {
    const m = out[out.length - 1];
    return m?.role === "assistant" ? m : undefined;
  };
  for (const [i, item] of items.entries()) {
    const at = `${param}[${i}]`;
    const type = item.type ?? "message";
    if (type === "message") {
      const m = parseWith(messageItem, item, at);
      if (!m.ok) return m;
      const content = contentOf(m.value.content, `${at}.content`);
      if (!content.ok) return content;
      const role = m.value.role === "developer" ? "system" : m.value.role;
      if (role !== "user" && typeof content.value !== "string") {
        return fail(`${at}.content`, `${m.value.role} messages hold text only`);
      }
      out.push({ role, content: content.value });
    } else if (type === "function_call") {
      const f = parseWith(functionCallItem, item, at);
      if (!f.ok) return f;
      const call: ToolCall = {
        id: f.value.call_id,
        type: "function",
        function: { name: f.value.name, arguments: f.value.arguments },
      };
      const prev = lastAssistant();
      if (prev) prev.tool_calls = [...(prev.tool_calls ?? []), call];
      else out.push({ role: "assistant", content: null, tool_calls: [call] });
    } else if (type === "function_call_output") {
      const f = parseWith(functionCallOutputItem, item, at);
      if (!f.ok) return f;
      out.push({
        role: "tool",
        tool_call_id: f.value.call_id,
        content: outputText(f.value.output),
      });
    } else if (!OPAQUE_ITEMS.has(String(type))) {
      return fail(
        `${at}.type`,
        `input item type "${String(type)}" is not supported by the gateway (supported: message, ` +
          `function_call, function_call_output, item_reference; reasoning and built-in tool ` +
          `call items are passed to a native Responses API upstream and dropped otherwise)`,
      );
    }
  }
  return { ok: true, value: out };
}

function toolChoice(c: NonNullable<ResponsesRequest["tool_choice"]>): Result<ToolChoice> {
  if (typeof c === "string") return { ok: true, value: c };
  if (c.type === "function" && typeof c.name === "string" && c.name !== "") {
    return { ok: true, value: { type: "function", function: { name: c.name } } };
  }
  return fail(
    "tool_choice",
    `tool_choice ${JSON.stringify(c)} is not supported; use "auto", "none", "required" or ` +
      `{"type":"function","name":…}`,
  );
}

/**
 * Function tools → chat tools. Built-in tools (web_search, file_search, …) only run on a native
 * Responses API upstream: each is named in `nativeOnly`, and left out of the translation.
 */
function tools(
  raw: NonNullable<ResponsesRequest["tools"]>,
  nativeOnly: string[],
): Result<ToolDefinition[]> {
  const out: ToolDefinition[] = [];
  for (const [i, t] of raw.entries()) {
    if (t.type !== "function") {
      nativeOnly.push(`tools[${i}].type "${t.type}"`);
      continue;
    }
    const f = parseWith(functionTool, t, `tools[${i}]`);
    if (!f.ok) return f;
    const fn: ToolDefinition["function"] & { strict?: boolean } = { name: f.value.name };
    if (f.value.description) fn.description = f.value.description;
    if (f.value.parameters) fn.parameters = f.value.parameters;
    // Only when asked for: OpenAI-compatible targets that do not know `strict` may refuse it.
    if (f.value.strict === true) fn.strict = true;
    out.push({ type: "function", function: fn });
  }
  return { ok: true, value: out };
}

export interface DecodedResponses {
  /** The canonical request the pipeline runs. */
  request: ChatRequest;
  /** The validated Responses body, for what the answer echoes. */
  body: ResponsesRequest;
  /** This turn's input items as sent (a string input as one user message item). */
  input: Item[];
}

/** Validates a Responses body (what `parseWith` reports names the field). */
export function parseResponsesBody(body: unknown): Result<ResponsesRequest> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return fail("", "the request body must be a JSON object");
  }
  return parseWith(ResponsesRequestSchema, body, "");
}

/**
 * A validated Responses body → the canonical ChatRequest. `history` is the conversation of
 * `previous_response_id` (its items, in order); `instructions` are this request's own (OpenAI
 * does not carry them over from the previous response). `model` stays "provider/model" (or an
 * alias); `fallbacks` come from the body, else from `headerFallbacks`. `store` and `metadata`
 * are the gateway's business and are not forwarded.
 */
export function responsesToChat(
  body: ResponsesRequest,
  opts: { history?: Item[]; headerFallbacks?: string[] } = {},
): Result<DecodedResponses> {
  const input = inputItems(body.input);
  const messages: ChatMessage[] = [];
  if (body.instructions) messages.push({ role: "system", content: body.instructions });
  if (opts.history?.length) {
    const past = itemsToMessages(opts.history, "previous_response_id");
    if (!past.ok) return past;
    messages.push(...past.value);
  }
  const now = itemsToMessages(input, "input");
  if (!now.ok) return now;
  messages.push(...now.value);
  if (!messages.some((m) => m.role !== "system")) {
    return fail("input", "input must hold at least one message or item");
  }
  const req: ChatRequest = { model: body.model, messages };
  const fallbacks = body.fallbacks ?? opts.headerFallbacks ?? [];
  if (fallbacks.length) req.fallbacks = fallbacks;
  if (body.stream) req.stream = true;
  if (body.max_output_tokens != null) req.max_tokens = body.max_output_tokens;
  if (body.temperature != null) req.temperature = body.temperature;
  if (body.top_p != null) req.top_p = body.top_p;
  if (body.user) req.user = body.user;
  // Gateway extension, checked and taken off by the MCP layer (src/http/mcp_chat.ts).
  if ("mcp" in body) req.mcp = body.mcp;
  const nativeOnly: string[] = [];
  if (body.tools?.length) {
    const t = tools(body.tools, nativeOnly);
    if (!t.ok) return t;
    if (t.value.length) req.tools = t.value;
  }
  if (body.tool_choice != null) {
    const c = body.tool_choice;
    if (typeof c === "object" && c.type !== "function") {
      nativeOnly.push(`tool_choice.type "${c.type}"`);
    } else {
      const choice = toolChoice(c);
      if (!choice.ok) return choice;
      req.tool_choice = choice.value;
    }
  }
  if (body.parallel_tool_calls != null && req.tools) {
    req.parallel_tool_calls = body.parallel_tool_calls;
  }
  if (body.reasoning?.effort) req.reasoning_effort = body.reasoning.effort;
  const format = body.text?.format;
  if (format?.type === "json_object") req.response_format = { type: "json_object" };
  if (format?.type === "json_schema") {
    req.response_format = {
      type: "json_schema",
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.description ? { description: format.description } : {}),
        ...(format.strict != null ? { strict: format.strict } : {}),
      },
    };
  }
  req[NATIVE_RESPONSES] = nativeBody(
    body,
    [...(opts.history ?? []), ...input],
    messages,
    nativeOnly,
  );
  return { ok: true, value: { request: req, body, input } };
}

/**
 * What a native Responses API upstream is sent (src/providers/openai/responses_api.ts): the body
 * as the client sent it, less the gateway's own fields (`mcp` included), with the whole conversation as `input`
 * since the upstream does not know the gateway's response ids. Item ids are left out (they are
 * the gateway's, or those of an upstream that stored nothing), and so are reasoning items
 * without `encrypted_content`, which an upstream that stored nothing cannot resume.
 */
function nativeBody(
  body: ResponsesRequest,
  conversation: Item[],
  messages: ChatMessage[],
  nativeOnly: string[],
): NativeResponses {
  const {
    model: _model,
    stream: _stream,
    store: _store,
    fallbacks: _fallbacks,
    mcp: _mcp,
    previous_response_id: _previous,
    input: _input,
    ...rest
  } = body;
  const input: Item[] = [];
  for (const item of conversation) {
    if (item.type === "reasoning" && !item.encrypted_content) continue;
    const { id: _id, ...kept } = item;
    input.push(kept);
  }
  return { body: { ...rest, input }, messagesKey: JSON.stringify(messages), nativeOnly };
}
