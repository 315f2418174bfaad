// Anthropic Messages request (inbound) → the canonical ChatRequest the pipeline runs on. Pure.
import { z } from "zod";
import { type Json } from "../../lib/json.ts";
import { assistantMessage, dataUrl, toolCall } from "../../openai/messages.ts";
import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  ToolCall,
  ToolChoice,
} from "../../openai/types.ts";
import { parseWith } from "../../openai/validate.ts";
import {
  type AnthropicRequest,
  AnthropicRequestSchema,
  type Block,
  BLOCKS,
  customTool,
  fail,
  image,
  type Result,
  text,
} from "./request_schema.ts";

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
