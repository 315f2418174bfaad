// Google Gemini API (generateContent, streamGenerateContent, batchEmbedContents) ⇄ OpenAI.
// The wire format follows Google's public reference (https://ai.google.dev/api/generate-content,
// https://ai.google.dev/api/embeddings, https://ai.google.dev/gemini-api/docs/troubleshooting)
// and what the official @google/genai SDK (3.3.0, dist/node/index.mjs) sends and parses.
import { answerMessage, parseDataUrl, toolCall } from "../../openai/messages.ts";
import type {
  ChatChunk,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  ContentPart,
  EmbeddingsRequest,
  EmbeddingsResponse,
  FinishReason,
  ToolCall,
  ToolChoice,
  Usage,
} from "../../openai/types.ts";
import {
  type AdapterContext,
  type ProviderAdapter,
  type StreamDecoder,
  UpstreamStreamError,
} from "../adapter.ts";
import {
  isObject,
  type Json,
  nonEmptyString,
  num,
  parseStreamObject,
  truncate,
} from "../upstream_json.ts";
import type { SseEvent } from "../sse.ts";
import {
  contentBlocks,
  embeddingTexts,
  instructionTexts,
  isInstruction,
  joinTurns,
  textOf,
  toolArguments,
  type Turn,
} from "../translate.ts";
import { googleErrorInfo, googleErrorStatus, parseGoogleError } from "./errors.ts";

type Part = Json;
interface Content {
  role: "user" | "model";
  parts: Part[];
}

/**
 * Gemini 3 rejects a functionCall part in the history without the thought signature it issued
 * with it. Calls made by another provider before a fallback (or by a client that drops the
 * signature) have none; this is the value Google documents for exactly that case
 * (https://ai.google.dev/gemini-api/docs/thought-signatures).
 */
const UNSIGNED_CALL = "skip_thought_signature_validator";

// ---------------------------------------------------------------------------------------------
// Request

/** `models/{model}`, keeping names the API already qualifies (as the SDK's tModel does). */
function modelPath(model: string): string {
  const name = /^(?:models|tunedModels)\//.test(model) ? model : `models/${model}`;
  return name.split("/").map(encodeURIComponent).join("/");
}

const IMAGE_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif",
};

function partOf(part: ContentPart): Part | undefined {
  if (part.type === "text") return part.text === "" ? undefined : { text: part.text };
  const url = part.image_url.url;
  const data = parseDataUrl(url);
  if (data) return { inlineData: { mimeType: data.mediaType, data: data.base64 } };
  if (/^https?:\/\//i.test(url)) {
    // fileData requires a MIME type; an image part without a known extension is most likely JPEG.
    const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(new URL(url).pathname)?.[1]?.toLowerCase() ?? "";
    return { fileData: { mimeType: IMAGE_TYPES[ext] ?? "image/jpeg", fileUri: url } };
  }
  throw new Error(`gemini: unsupported image URL scheme: ${truncate(url, 40)}`);
}

function functionCall(call: ToolCall): Part {
  const args = toolArguments("gemini", call, "arguments are not an object");
  return { functionCall: { name: call.function.name, args } };
}

/** functionResponse.response must be an object; anything else goes under "output", as documented. */
function functionResponse(m: ChatMessage, names: Map<string, string>): Part {
  const name = names.get(m.tool_call_id ?? "") ?? m.name;
  if (!name) {
    throw new Error(`gemini: tool message ${m.tool_call_id} answers no earlier tool call`);
  }
  const text = textOf(m.content);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch { /* plain text result */ }
  return { functionResponse: { name, response: isObject(value) ? value : { output: value } } };
}

function toContents(messages: ChatMessage[]): Content[] {
  const names = new Map<string, string>(); // tool_call_id → function name
  const turns: Turn<Part, Content["role"]>[] = [];
  for (const m of messages) {
    if (isInstruction(m)) continue;
    if (m.role === "tool") {
      turns.push({ role: "user", content: [functionResponse(m, names)] });
    } else if (m.role === "assistant") {
      for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name);
      turns.push({
        role: "model",
        content: [...contentBlocks(m.content, partOf), ...(m.tool_calls ?? []).map(functionCall)],
      });
    } else {
      turns.push({ role: "user", content: contentBlocks(m.content, partOf) });
    }
  }
  // Parallel tool results belong in one turn, and empty turns are rejected: merge and drop.
  const out: Content[] = joinTurns(turns).map((t) => ({ role: t.role, parts: t.content }));
  for (const t of out) {
    const first = t.parts.find((p) => "functionCall" in p);
    if (first) first.thoughtSignature = UNSIGNED_CALL;
  }
  return out;
}

function toolConfig(choice: ToolChoice | undefined): Json | undefined {
  if (choice === undefined) return undefined;
  const mode = choice === "auto" ? "AUTO" : choice === "none" ? "NONE" : "ANY";
  const config: Json = { mode };
  if (typeof choice === "object") config.allowedFunctionNames = [choice.function.name];
  return { functionCallingConfig: config };
}

/**
 * Penalties are left out on purpose: several Gemini models answer them with a 400, and a caller
 * fault stops the fallback chain for a request every OpenAI-compatible upstream would serve.
 */
function generationConfig(r: ChatRequest): Json {
  const g: Json = {};
  if (r.temperature != null) g.temperature = r.temperature;
  if (r.top_p != null) g.topP = r.top_p;
  const max = r.max_completion_tokens ?? r.max_tokens;
  if (max != null) g.maxOutputTokens = max;
  if (r.stop != null) g.stopSequences = typeof r.stop === "string" ? [r.stop] : r.stop;
  if (r.n != null) g.candidateCount = r.n;
  if (r.seed != null) g.seed = r.seed;
  const format = r.response_format;
  if (format?.type === "json_object" || format?.type === "json_schema") {
    g.responseMimeType = "application/json";
  }
  // OpenAI schemas are full JSON Schema; responseJsonSchema takes that, responseSchema does not.
  const schema = isObject(format?.json_schema) ? format.json_schema.schema : undefined;
  if (format?.type === "json_schema" && isObject(schema)) g.responseJsonSchema = schema;
  return g;
}

/** The generateContent body for a request (also what Vertex AI's Gemini models take). */
export function buildBody(request: ChatRequest): Json {
  const system = instructionTexts(request.messages);
  const contents = toContents(request.messages);
  if (contents.length === 0) throw new Error("gemini: at least one user message is required");
  const body: Json = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system.map((text) => ({ text })) };
  if (request.tools?.length) {
    body.tools = [{
      functionDeclarations: request.tools.map((t) => ({
        name: t.function.name,
        ...(t.function.description ? { description: t.function.description } : {}),
        ...(t.function.parameters ? { parametersJsonSchema: t.function.parameters } : {}),
      })),
    }];
  }
  const tools = toolConfig(request.tool_choice);
  if (tools) body.toolConfig = tools;
  const g = generationConfig(request);
  if (Object.keys(g).length > 0) body.generationConfig = g;
  return body;
}

function headersFor(ctx: AdapterContext, accept: string): Record<string, string> {
  const headers: Record<string, string> = {
    ...ctx.settings.headers,
    "content-type": "application/json",
    accept,
  };
  if (ctx.apiKey !== "") headers["x-goog-api-key"] = ctx.apiKey;
  return headers;
}

function buildChatRequest(request: ChatRequest, ctx: AdapterContext) {
  const method = ctx.stream ? "streamGenerateContent?alt=sse" : "generateContent";
  return {
    url: `${ctx.baseUrl}/${modelPath(ctx.model)}:${method}`,
    method: "POST" as const,
    headers: headersFor(ctx, ctx.stream ? "text/event-stream" : "application/json"),
    body: JSON.stringify(buildBody(request)),
  };
}

// ---------------------------------------------------------------------------------------------
// Response

const FILTERED = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

/** Gemini says STOP when it calls functions; OpenAI clients look for "tool_calls". */
function finishReason(reason: unknown, calledTools: boolean): FinishReason | null {
  if (typeof reason !== "string" || reason === "") return null;
  if (reason === "MAX_TOKENS") return "length";
  if (FILTERED.has(reason)) return "content_filter";
  return calledTools ? "tool_calls" : "stop";
}

/**
 * Gemini counts thinking tokens apart from candidatesTokenCount; OpenAI counts reasoning within
 * completion_tokens. Tool-use prompt tokens are input, so they go to prompt_tokens.
 */
function toUsage(raw: unknown): Usage | undefined {
  if (!isObject(raw)) return undefined;
  const prompt = num(raw.promptTokenCount) + num(raw.toolUsePromptTokenCount);
  const thoughts = num(raw.thoughtsTokenCount);
  const completion = num(raw.candidatesTokenCount) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: typeof raw.totalTokenCount === "number"
      ? raw.totalTokenCount
      : prompt + completion,
    prompt_tokens_details: { cached_tokens: num(raw.cachedContentTokenCount) },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

const partsIn = (candidate: Json): Json[] =>
  isObject(candidate.content) && Array.isArray(candidate.content.parts)
    ? candidate.content.parts.filter(isObject)
    : [];

/** Answer text only: `thought` parts are the model's thinking summaries, not its reply. */
const textIn = (parts: Json[]) =>
  parts.flatMap((p) => (typeof p.text === "string" && p.thought !== true ? [p.text] : [])).join(
    "",
  );

/** Gemini's call ids are optional; generated ones are unique within the request. */
function toolCallsIn(parts: Json[], ctx: AdapterContext, candidate: number, from = 0) {
  return parts.flatMap((p) => (isObject(p.functionCall) ? [p.functionCall] : [])).map(
    (fc, i) =>
      toolCall(
        nonEmptyString(fc.id) ?? `call_${ctx.id}_${candidate}_${from + i}`,
        String(fc.name ?? ""),
        fc.args,
      ),
  );
}

/** A 200 whose prompt was refused: the caller has to change it, no other provider will help. */
function blockedPrompt(body: Json): UpstreamStreamError | undefined {
  const reason = isObject(body.promptFeedback)
    ? nonEmptyString(body.promptFeedback.blockReason)
    : undefined;
  if (!reason) return undefined;
  return new UpstreamStreamError({
    message: `gemini blocked the prompt (blockReason ${reason})`,
    type: "prompt_blocked",
    code: reason,
  }, 400);
}

function candidatesIn(body: Json): Json[] {
  return Array.isArray(body.candidates) ? body.candidates.filter(isObject) : [];
}

function parseChatResponse(body: unknown, ctx: AdapterContext): ChatCompletion {
  if (isObject(body) && isObject(body.error)) {
    throw new UpstreamStreamError(googleErrorInfo(body, "upstream error"), googleErrorStatus(body));
  }
  if (!isObject(body)) throw new Error(`gemini: upstream body is not an object`);
  const candidates = candidatesIn(body);
  if (candidates.length === 0) {
    throw blockedPrompt(body) ??
      new Error(`gemini: response has no candidates: ${truncate(JSON.stringify(body), 200)}`);
  }
  const usage = toUsage(body.usageMetadata);
  return {
    id: nonEmptyString(body.responseId) ?? ctx.id,
    object: "chat.completion",
    created: ctx.nowSec,
    model: nonEmptyString(body.modelVersion) ?? ctx.model,
    choices: candidates.map((c, i) => {
      const index = typeof c.index === "number" ? c.index : i;
      const parts = partsIn(c);
      const text = textIn(parts);
      const calls = toolCallsIn(parts, ctx, index);
      return {
        index,
        message: answerMessage(text, calls),
        finish_reason: finishReason(c.finishReason, calls.length > 0) ?? "stop",
        logprobs: null,
      };
    }),
    ...(usage ? { usage } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Stream: every SSE `data:` is a whole GenerateContentResponse, and there is no [DONE]: the
// stream is complete once every candidate has a finishReason.

function createStreamDecoder(ctx: AdapterContext): StreamDecoder {
  let finished = false;
  let id = ctx.id;
  let model = ctx.model;
  let usage: Usage | undefined;
  const calls = new Map<number, number>(); // candidate index → tool calls so far
  const done = new Set<number>();

  const chunk = (choices: ChatChunk["choices"]): ChatChunk => ({
    id,
    object: "chat.completion.chunk",
    created: ctx.nowSec,
    model,
    choices,
  });

  function candidateChunks(c: Json, position: number): ChatChunk[] {
    const index = typeof c.index === "number" ? c.index : position;
    const parts = partsIn(c);
    const before = calls.get(index);
    const delta: ChatChunk["choices"][0]["delta"] = before === undefined
      ? { role: "assistant" }
      : {};
    const text = textIn(parts);
    if (text !== "") delta.content = text;
    const made = toolCallsIn(parts, ctx, index, before ?? 0);
    if (made.length > 0) {
      delta.tool_calls = made.map((call, i) => ({ index: (before ?? 0) + i, ...call }));
    }
    calls.set(index, (before ?? 0) + made.length);
    const out = text !== "" || made.length > 0
      ? [chunk([{ index, delta, logprobs: null, finish_reason: null }])]
      : [];
    const finish = finishReason(c.finishReason, (calls.get(index) ?? 0) > 0);
    if (finish) {
      done.add(index);
      out.push(chunk([{ index, delta: {}, logprobs: null, finish_reason: finish }]));
    }
    return out;
  }

  return {
    get finished() {
      return finished;
    },
    push(event: SseEvent): ChatChunk[] {
      const data = event.data.trim();
      if (finished || data === "") return [];
      const body = parseStreamObject("gemini", data);
      if (isObject(body.error)) {
        throw new UpstreamStreamError(
          googleErrorInfo(body, "upstream stream error"),
          googleErrorStatus(body),
        );
      }
      id = nonEmptyString(body.responseId) ?? id;
      model = nonEmptyString(body.modelVersion) ?? model;
      usage = toUsage(body.usageMetadata) ?? usage;
      const candidates = candidatesIn(body);
      if (candidates.length === 0) {
        const blocked = blockedPrompt(body);
        if (blocked) throw blocked;
        return [];
      }
      const out = candidates.flatMap(candidateChunks);
      if ([...calls.keys()].every((i) => done.has(i))) {
        finished = true;
        // The trailing usage chunk OpenAI sends when stream_options.include_usage is set.
        if (usage) out.push({ ...chunk([]), usage });
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Embeddings: one batchEmbedContents call for every input.

function buildEmbeddingsRequest(request: EmbeddingsRequest, ctx: AdapterContext) {
  const inputs = embeddingTexts(request.input);
  if (!inputs) throw new Error("gemini: embeddings take text; token-id input is not supported");
  const model = modelPath(ctx.model);
  return {
    url: `${ctx.baseUrl}/${model}:batchEmbedContents`,
    method: "POST" as const,
    headers: headersFor(ctx, "application/json"),
    body: JSON.stringify({
      requests: inputs.map((text) => ({
        model: decodeURIComponent(model),
        content: { parts: [{ text }] },
        ...(request.dimensions ? { outputDimensionality: request.dimensions } : {}),
      })),
    }),
  };
}

function parseEmbeddingsResponse(body: unknown, ctx: AdapterContext): EmbeddingsResponse {
  if (!isObject(body) || !Array.isArray(body.embeddings)) {
    throw new Error(
      `gemini: body is not a batch of embeddings: ${truncate(JSON.stringify(body) ?? "", 200)}`,
    );
  }
  const data = body.embeddings.map((e, index) => {
    const values = isObject(e) && Array.isArray(e.values) ? e.values : undefined;
    if (!values?.every((v) => typeof v === "number")) {
      throw new Error(`gemini: embeddings[${index}] has no values`);
    }
    return { object: "embedding" as const, index, embedding: values as number[] };
  });
  const usage = isObject(body.usageMetadata) ? body.usageMetadata : {};
  const prompt = num(usage.promptTokenCount);
  return {
    object: "list",
    data,
    model: ctx.model,
    usage: { prompt_tokens: prompt, total_tokens: num(usage.totalTokenCount) || prompt },
  };
}

export const geminiAdapter: ProviderAdapter = {
  family: "gemini",
  buildChatRequest,
  parseChatResponse,
  createStreamDecoder,
  parseError: parseGoogleError,
  buildEmbeddingsRequest,
  parseEmbeddingsResponse,
};
