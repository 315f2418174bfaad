// Bedrock Runtime Converse request (inbound /bedrock route) → the canonical ChatRequest. Pure.
// Shapes from the Bedrock API reference: API_runtime_Converse.html.
import { isObject, type Json } from "../../lib/json.ts";
import { assistantMessage, dataUrl, toolCall } from "../../openai/messages.ts";
import type {
  ChatMessage,
  ContentPart,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from "../../openai/types.ts";

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
