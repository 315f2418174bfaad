// Gemini GenerateContentRequest (inbound /genai route) → the canonical ChatRequest. Pure. Shapes
// follow Google's reference (https://ai.google.dev/api/generate-content) and what the official
// @google/genai SDK (3.3.0) sends (generateContentParametersToMldev in dist/node/index.mjs).
import { isObject, type Json } from "../../lib/json.ts";
import { assistantMessage, dataUrl, toolCall } from "../../openai/messages.ts";
import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  ToolCall,
  ToolDefinition,
} from "../../openai/types.ts";

/** A request the gateway cannot express; `field` names the Gemini field (e.g. "contents[1]"). */
export class GenaiRequestError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field || "body"}: ${message}`);
    this.name = "GenaiRequestError";
  }
}

const fail = (field: string, message: string): never => {
  throw new GenaiRequestError(field, message);
};

// ---------------------------------------------------------------------------------------------
// Request: GenerateContentRequest → ChatRequest

const MAX_SCHEMA_DEPTH = 256;

/**
 * `responseSchema` and function `parameters` use Google's OpenAPI subset (upper-case types,
 * `nullable`); the canonical request carries JSON Schema, as the *JsonSchema fields already are.
 */
export function openApiToJsonSchema(schema: unknown, field = "schema", depth = 0): unknown {
  // A schema nested deeper than any real one is refused (400) before it exhausts the stack (500).
  if (depth > MAX_SCHEMA_DEPTH) return fail(field, `nested deeper than ${MAX_SCHEMA_DEPTH} levels`);
  if (Array.isArray(schema)) return schema.map((s) => openApiToJsonSchema(s, field, depth + 1));
  if (!isObject(schema)) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "type" && typeof value === "string") out.type = value.toLowerCase();
    else if (key === "nullable" && typeof value === "boolean") continue;
    else if (key === "propertyOrdering" || key === "enum" || key === "required") out[key] = value;
    else out[key] = openApiToJsonSchema(value, field, depth + 1);
  }
  if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

function textOfInstruction(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  const parts = isObject(value) && Array.isArray(value.parts) ? value.parts : undefined;
  if (!parts) return fail(field, "must be a Content with parts");
  return parts.map((p, i) =>
    isObject(p) && typeof p.text === "string" ? p.text : fail(`${field}.parts[${i}]`, "only text")
  ).join("\n");
}

/** Parts that carry no answer content: thinking summaries and bare thought signatures. */
const isThoughtOnly = (p: Json) =>
  p.thought === true ||
  (p.thoughtSignature !== undefined && Object.keys(p).every((k) => k === "thoughtSignature"));

function imagePart(p: Json, field: string): ContentPart | undefined {
  const blob = isObject(p.inlineData) ? p.inlineData : undefined;
  if (blob) {
    const mime = String(blob.mimeType ?? "");
    if (!mime.startsWith("image/")) {
      return fail(field, `inlineData of ${mime || "no type"}: only images`);
    }
    return {
      type: "image_url",
      image_url: { url: dataUrl(mime, String(blob.data ?? "")) },
    };
  }
  const file = isObject(p.fileData) ? p.fileData : undefined;
  if (!file) return undefined;
  const uri = String(file.fileUri ?? "");
  const mime = String(file.mimeType ?? "image/");
  // A Files API upload is an https URL too, but only Google (with the caller's key) can read it.
  const googleFile = /^https:\/\/generativelanguage\.googleapis\.com\//i.test(uri);
  if (!/^https?:\/\//i.test(uri) || googleFile || !mime.startsWith("image/")) {
    return fail(field, "fileData must be an http(s) image URL (Files API uploads live at Google)");
  }
  return { type: "image_url", image_url: { url: uri } };
}

interface Calls {
  /** Calls not yet answered, oldest first, to pair a functionResponse without an id by name. */
  open: { id: string; name: string }[];
  made: number;
}

function modelTurn(parts: Json[], field: string, calls: Calls): ChatMessage | undefined {
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  parts.forEach((p, i) => {
    if (isThoughtOnly(p)) return;
    if (typeof p.text === "string") return void texts.push(p.text);
    const fc = isObject(p.functionCall) ? p.functionCall : undefined;
    if (!fc) return fail(`${field}.parts[${i}]`, "a model turn may hold text and functionCall");
    if (typeof fc.name !== "string" || fc.name === "") {
      return fail(`${field}.parts[${i}].functionCall.name`, "is required");
    }
    if (fc.args !== undefined && !isObject(fc.args)) {
      return fail(`${field}.parts[${i}].functionCall.args`, "must be an object");
    }
    const id = typeof fc.id === "string" && fc.id !== "" ? fc.id : `call_${calls.made}`;
    calls.made++;
    calls.open.push({ id, name: fc.name });
    toolCalls.push(toolCall(id, fc.name, fc.args));
  });
  const text = texts.join("");
  if (text === "" && toolCalls.length === 0) return undefined;
  return assistantMessage(text, toolCalls);
}

function toolResult(fr: Json, field: string, calls: Calls): ChatMessage {
  const name = typeof fr.name === "string" ? fr.name : "";
  const byId = typeof fr.id === "string" ? calls.open.findIndex((c) => c.id === fr.id) : -1;
  const at = byId >= 0 ? byId : calls.open.findIndex((c) => c.name === name);
  if (at < 0) return fail(field, `answers no earlier functionCall named "${name}"`);
  const [call] = calls.open.splice(at, 1);
  return { role: "tool", tool_call_id: call.id, content: JSON.stringify(fr.response ?? {}) };
}

/** Tool results first (OpenAI wants them right after the assistant's calls), then the rest. */
function userTurn(parts: Json[], field: string, calls: Calls): ChatMessage[] {
  const results: ChatMessage[] = [];
  const content: ContentPart[] = [];
  parts.forEach((p, i) => {
    const at = `${field}.parts[${i}]`;
    if (isThoughtOnly(p)) return;
    if (typeof p.text === "string") return void content.push({ type: "text", text: p.text });
    if (isObject(p.functionResponse)) {
      return void results.push(toolResult(p.functionResponse, at, calls));
    }
    const image = imagePart(p, at);
    if (!image) return fail(at, "unsupported part: the gateway relays text, images and functions");
    content.push(image);
  });
  if (content.length === 0) return results;
  const textOnly = content.every((c) => c.type === "text");
  const joined = content.map((c) => (c.type === "text" ? c.text : "")).join("");
  return [...results, { role: "user", content: textOnly ? joined : content }];
}

function toMessages(body: Json): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (body.systemInstruction !== undefined) {
    const text = textOfInstruction(body.systemInstruction, "systemInstruction");
    if (text !== "") messages.push({ role: "system", content: text });
  }
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return fail("contents", "must hold at least one Content");
  }
  const calls: Calls = { open: [], made: 0 };
  body.contents.forEach((c, i) => {
    const field = `contents[${i}]`;
    if (!isObject(c) || !Array.isArray(c.parts)) return fail(field, "must be a Content with parts");
    const parts = c.parts.map((p, j) => (isObject(p) ? p : fail(`${field}.parts[${j}]`, "object")));
    const role = c.role ?? "user";
    if (role === "model") {
      const m = modelTurn(parts, field, calls);
      if (m) messages.push(m);
    } else if (role === "user" || role === "function") {
      messages.push(...userTurn(parts, field, calls));
    } else {
      fail(`${field}.role`, `must be "user" or "model", not ${JSON.stringify(role)}`);
    }
  });
  return messages;
}

function toTools(raw: unknown): ToolDefinition[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return fail("tools", "must be a list");
  return raw.flatMap((tool, i) => {
    if (!isObject(tool)) return fail(`tools[${i}]`, "must be an object");
    const other = Object.keys(tool).filter((k) => k !== "functionDeclarations");
    if (other.length > 0) {
      return fail(`tools[${i}].${other[0]}`, "only functionDeclarations can be served elsewhere");
    }
    const decls = Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations : [];
    return decls.map((d, j): ToolDefinition => {
      const at = `tools[${i}].functionDeclarations[${j}]`;
      if (!isObject(d) || typeof d.name !== "string") return fail(`${at}.name`, "is required");
      const schema = d.parametersJsonSchema ??
        openApiToJsonSchema(d.parameters, `${at}.parameters`);
      return {
        type: "function",
        function: {
          name: d.name,
          ...(typeof d.description === "string" ? { description: d.description } : {}),
          ...(isObject(schema) ? { parameters: schema } : {}),
        },
      };
    });
  });
}

/** ANY with allowed names = "call one of these": the tool list narrows to them. */
function applyToolConfig(req: ChatRequest, raw: unknown): void {
  const config = isObject(raw) && isObject(raw.functionCallingConfig)
    ? raw.functionCallingConfig
    : undefined;
  if (!config) return;
  const names = Array.isArray(config.allowedFunctionNames)
    ? config.allowedFunctionNames.map(String)
    : [];
  switch (config.mode) {
    case "NONE":
      req.tool_choice = "none";
      return;
    case "ANY":
      if (names.length > 0 && req.tools) {
        req.tools = req.tools.filter((t) => names.includes(t.function.name));
      }
      req.tool_choice = names.length === 1
        ? { type: "function", function: { name: names[0] } }
        : "required";
      return;
    case "AUTO":
    case "VALIDATED":
      req.tool_choice = "auto";
  }
}

function applyGenerationConfig(req: ChatRequest, raw: unknown): void {
  if (raw === undefined) return;
  if (!isObject(raw)) return fail("generationConfig", "must be an object");
  const g = raw;
  const num = (key: string): number | undefined => {
    const v = g[key];
    return v === undefined || typeof v === "number" ? v : fail(`generationConfig.${key}`, "number");
  };
  const set = <K extends keyof ChatRequest>(field: K, value: ChatRequest[K] | undefined) => {
    if (value !== undefined) req[field] = value;
  };
  set("temperature", num("temperature"));
  set("top_p", num("topP"));
  set("max_tokens", num("maxOutputTokens"));
  set("n", num("candidateCount"));
  set("seed", num("seed"));
  set("presence_penalty", num("presencePenalty"));
  set("frequency_penalty", num("frequencyPenalty"));
  if (g.stopSequences !== undefined) {
    const stop = g.stopSequences;
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === "string")) {
      return fail("generationConfig.stopSequences", "must be a list of strings");
    }
    req.stop = stop;
  }
  const schema = g.responseJsonSchema ??
    openApiToJsonSchema(g.responseSchema, "generationConfig.responseSchema");
  if (isObject(schema)) {
    req.response_format = { type: "json_schema", json_schema: { name: "response", schema } };
  } else if (g.responseMimeType === "application/json") {
    req.response_format = { type: "json_object" };
  }
  // topK, thinkingConfig, responseModalities and the like have no OpenAI counterpart; OpenAI
  // rejects unknown fields, so they are left out rather than passed through.
}

/** Translates a Gemini request body into the canonical request; throws GenaiRequestError. */
export function toChatRequest(
  body: unknown,
  opts: { model: string; stream: boolean; fallbacks?: string[] },
): ChatRequest {
  if (!isObject(body)) return fail("", "The request body must be a JSON object.");
  if (body.cachedContent !== undefined) {
    fail("cachedContent", "cached contents live at Google and cannot be sent to other providers");
  }
  const req: ChatRequest = { model: opts.model, messages: toMessages(body) };
  if (opts.fallbacks?.length) req.fallbacks = opts.fallbacks;
  if (opts.stream) {
    req.stream = true;
    req.stream_options = { include_usage: true };
  }
  const tools = toTools(body.tools);
  if (tools.length > 0) req.tools = tools;
  applyToolConfig(req, body.toolConfig);
  applyGenerationConfig(req, body.generationConfig);
  return req;
}
