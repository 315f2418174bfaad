// OpenAI Chat Completions: `POST /{target}/v1/chat/completions`, JSON or SSE.
// Wire facts from OpenAI's API reference: https://platform.openai.com/docs/api-reference/chat
// (chat completion and chunk objects, `stream_options.include_usage`) and
// https://platform.openai.com/docs/guides/error-codes (error object, 429 insufficient_quota).
import type {
  Json,
  MockCall,
  MockContent,
  MockErrorSpec,
  MockFormat,
  MockReply,
  Refusal,
} from "./format.ts";
import {
  bodyModel,
  BROKEN_JSON,
  embedding,
  JSON_HEADERS,
  jsonReply,
  list,
  partsText,
  postRoutes,
  SSE_HEADERS,
  sseData,
} from "./wire.ts";

/** `{"error": {"message", "type", "param", "code"}}`, as OpenAI sends it. */
export function openaiError(status: number, spec: MockErrorSpec = {}): Response {
  const message = spec.message ??
    (status === 529 ? "Overloaded" : `Mock upstream error ${status}.`);
  return Response.json({
    error: {
      message,
      type: spec.type ?? (status >= 500 ? "server_error" : "invalid_request_error"),
      param: spec.param ?? null,
      code: spec.code ?? null,
    },
  }, { status });
}

/** The texts of an embeddings request (`input` as a string or a list of strings). */
function embedInputs(body: Json): string[] {
  const input = body.input;
  if (typeof input === "string") return [input];
  return Array.isArray(input) ? input.filter((x): x is string => typeof x === "string") : [];
}

/** https://platform.openai.com/docs/api-reference/embeddings/object — float vectors only. */
function embeddingsAnswer(c: MockCall, input: number): string {
  const dims = typeof c.body.dimensions === "number" ? c.body.dimensions : undefined;
  return JSON.stringify({
    object: "list",
    data: embedInputs(c.body).map((t, index) => ({
      object: "embedding",
      index,
      embedding: embedding(t, dims),
    })),
    model: c.model,
    usage: { prompt_tokens: input, total_tokens: input },
  });
}

/** 400 for a missing parameter, in OpenAI's words. */
export const missingParameter = (param: string) =>
  openaiError(400, {
    message: `Missing required parameter: '${param}'.`,
    param,
    code: "missing_required_parameter",
  });

/** Prompt text of a chat body: `system` (Anthropic-style) plus every message's text. */
export const messagesText = (body: Json) =>
  partsText(body.system) + list(body.messages).map((m) => partsText(m.content)).join("");

/**
 * OpenAI's 400s for a prompt over the context window and for a content-policy rejection, in its
 * own words; OpenAI itself accepts a trailing assistant message, so the prefill refusal borrows
 * Anthropic's wording in OpenAI's error shape.
 */
export const OPENAI_REFUSALS: Record<Refusal, MockErrorSpec> = {
  context_length: {
    message: "This model's maximum context length is 128000 tokens. However, your messages " +
      "resulted in 130000 tokens. Please reduce the length of the messages.",
    type: "invalid_request_error",
    param: "messages",
    code: "context_length_exceeded",
  },
  content_filter: {
    message: "Your request was rejected as a result of our safety system. Your prompt may " +
      "contain text that is not allowed by our safety system.",
    type: "invalid_request_error",
    param: null,
    code: "content_policy_violation",
  },
  prefill: {
    message: "This model does not support assistant message prefill. The conversation must " +
      "end with a user message.",
    type: "invalid_request_error",
    param: "messages",
    code: null,
  },
};

/** A chat answer as objects, so Azure can decorate them before they are serialised. */
export interface ChatObjects {
  completion: Json;
  /** The stream's chunk objects, without the `[DONE]` terminator. */
  chunks: Json[];
  /** Index in `chunks` of the first content piece. */
  firstPiece: number;
}

export function chatObjects(
  c: MockCall,
  { text, pieces, input, output, complete }: MockContent,
): ChatObjects {
  const head = {
    id: `chatcmpl-${c.target}-${c.seq}`,
    created: Math.floor(Date.now() / 1000),
    model: c.model,
    system_fingerprint: "fp_mock",
  };
  const usage = { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
  const completion: Json = {
    ...head,
    object: "chat.completion",
    choices: [{
      index: 0,
      message: { role: "assistant", content: text, refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage,
  };
  // With include_usage every chunk carries `usage: null` and a last one, with no choices, the usage.
  const withUsage = (c.body.stream_options as Json | undefined)?.include_usage === true;
  const chunk = (choices: Json[], usage: Json | null = null): Json => ({
    ...head,
    object: "chat.completion.chunk",
    choices,
    ...(withUsage ? { usage } : {}),
  });
  const choice = (delta: Json, finish: string | null = null) => [
    { index: 0, delta, logprobs: null, finish_reason: finish },
  ];
  const chunks = [
    chunk(choice({ role: "assistant", content: "", refusal: null })),
    ...pieces.map((p) => chunk(choice({ content: p }))),
  ];
  if (complete) {
    chunks.push(chunk(choice({}, "stop")));
    if (withUsage) chunks.push(chunk([], usage));
  }
  return { completion, chunks, firstPiece: 1 };
}

/** Serialises a chat answer: JSON, or SSE ending in `data: [DONE]` when complete. */
export function chatReply(
  c: MockCall,
  { completion, chunks, firstPiece }: ChatObjects,
  complete: boolean,
  headers: Record<string, string>,
): MockReply {
  if (!c.stream) return jsonReply(JSON.stringify(completion), headers);
  const frames = chunks.map((chunk) => sseData(chunk));
  if (complete) frames.push("data: [DONE]\n\n");
  return {
    headers: { ...SSE_HEADERS, ...headers },
    chunks: frames,
    firstPiece,
    endMarker: complete,
  };
}

/** OpenAI's answers to a broken body: invalid JSON, or an SSE data line that is not JSON. */
export function openaiMalformed(c: MockCall): MockReply {
  return c.stream
    ? { headers: SSE_HEADERS, chunks: ['data: {"id": "mock", "choices": [ oops\n\n'] }
    : { headers: JSON_HEADERS, chunks: [BROKEN_JSON] };
}

export const openai: MockFormat = {
  name: "openai",
  baseUrl: "/v1",
  routes: ["POST /v1/chat/completions", "POST /v1/embeddings"],
  match: postRoutes({ "v1/chat/completions": "chat", "v1/embeddings": "embed" }),
  model: bodyModel,
  streaming: (body, route) => route.operation === "chat" && body.stream === true,
  validate({ body, route }) {
    if (typeof body.model !== "string") return missingParameter("model");
    if (route.operation === "embed") {
      return embedInputs(body).length ? undefined : missingParameter("input");
    }
    if (!Array.isArray(body.messages)) return missingParameter("messages");
    return undefined;
  },
  prompt: (c) =>
    c.route.operation === "embed" ? embedInputs(c.body).join("") : messagesText(c.body),
  error: openaiError,
  rateLimit: (c) =>
    openaiError(429, {
      type: "requests",
      code: "rate_limit_exceeded",
      message: `Rate limit reached for ${c.model} on requests (mock ${c.target}).`,
    }),
  // OpenAI reports an exhausted quota as 429 insufficient_quota.
  quota: () =>
    openaiError(429, {
      type: "insufficient_quota",
      code: "insufficient_quota",
      message: "You exceeded your current quota; check your plan and billing details.",
    }),
  reject: (_c, why) => openaiError(400, OPENAI_REFUSALS[why]),
  answer: (c, content) =>
    c.route.operation === "embed"
      ? jsonReply(embeddingsAnswer(c, content.input), {
        "x-request-id": `req_${c.target}_${c.seq}`,
      })
      : chatReply(c, chatObjects(c, content), content.complete, {
        "x-request-id": `req_${c.target}_${c.seq}`,
      }),
  malformed: openaiMalformed,
};
