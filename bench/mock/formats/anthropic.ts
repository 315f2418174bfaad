// Anthropic Messages: `POST /{target}/v1/messages`, JSON or SSE.
// Wire facts from Anthropic's API reference: https://docs.anthropic.com/en/api/messages,
// https://docs.anthropic.com/en/docs/build-with-claude/streaming (event sequence) and
// https://docs.anthropic.com/en/api/errors (error shapes and types by status).
import type { MockErrorSpec, MockFormat, Refusal } from "./format.ts";
import { messagesText } from "./openai.ts";
import {
  bodyModel,
  BROKEN_JSON,
  JSON_HEADERS,
  jsonReply,
  postRoutes,
  SSE_HEADERS,
  sseEvent,
} from "./wire.ts";

const TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/** `{"type": "error", "error": {"type", "message"}}`, as Anthropic sends it. */
export function anthropicError(status: number, spec: MockErrorSpec = {}): Response {
  const message = spec.message ??
    (status === 529 ? "Overloaded" : `Mock upstream error ${status}.`);
  const type = spec.type ?? TYPES[status] ??
    (status >= 500 ? "api_error" : "invalid_request_error");
  return Response.json({ type: "error", error: { type, message } }, { status });
}

const missing = (param: string) => anthropicError(400, { message: `${param}: Field required` });

/** Anthropic's invalid_request_error messages for what a model refuses to take. */
const REFUSALS: Record<Refusal, string> = {
  context_length: "prompt is too long: 210000 tokens > 200000 maximum",
  content_filter: "Output blocked by content filtering policy",
  prefill: "This model does not support assistant message prefill. The conversation must end " +
    "with a user message.",
};

export const anthropic: MockFormat = {
  name: "anthropic",
  baseUrl: "",
  routes: ["POST /v1/messages"],
  match: postRoutes({ "v1/messages": "chat" }),
  model: bodyModel,
  streaming: (body) => body.stream === true,
  validate({ body }) {
    if (typeof body.model !== "string") return missing("model");
    if (!Array.isArray(body.messages)) return missing("messages");
    if (typeof body.max_tokens !== "number") return missing("max_tokens");
    return undefined;
  },
  prompt: (c) => messagesText(c.body),
  error: anthropicError,
  rateLimit: (c) =>
    anthropicError(429, { message: `This request exceeds the rate limit of mock ${c.target}.` }),
  // Anthropic reports a spent credit balance as 402 billing_error.
  quota: () => anthropicError(402, { message: "Your credit balance is too low (mock)." }),
  reject: (_c, why) => anthropicError(400, { message: REFUSALS[why] }),
  answer(c, { text, pieces, input, output, complete }) {
    const message = {
      id: `msg_${c.target}_${c.seq}`,
      type: "message",
      role: "assistant",
      model: c.model,
      content: [{ type: "text", text }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: output },
    };
    const headers = { "request-id": `req_${c.target}_${c.seq}` };
    if (!c.stream) return jsonReply(JSON.stringify(message), headers);
    const start = {
      ...message,
      content: [],
      stop_reason: null,
      usage: { input_tokens: input, output_tokens: 1 },
    };
    const frames = [
      sseEvent("message_start", { message: start }),
      sseEvent("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      sseEvent("ping", {}),
      ...pieces.map((p) =>
        sseEvent("content_block_delta", { index: 0, delta: { type: "text_delta", text: p } })
      ),
    ];
    if (complete) {
      frames.push(
        sseEvent("content_block_stop", { index: 0 }),
        sseEvent("message_delta", {
          delta: { stop_reason: "end_turn", stop_sequence: null },
          usage: { output_tokens: output },
        }),
        sseEvent("message_stop", {}),
      );
    }
    // message_start, content_block_start and ping come before the first text delta.
    return {
      headers: { ...SSE_HEADERS, ...headers },
      chunks: frames,
      firstPiece: 3,
      endMarker: complete,
    };
  },
  malformed: (c) =>
    c.stream
      ? {
        headers: SSE_HEADERS,
        chunks: ['event: message_start\ndata: {"type": "message_start", oops\n\n'],
      }
      : { headers: JSON_HEADERS, chunks: [BROKEN_JSON] },
};
