// POST /v1/chat/completions: OpenAI's wire format around the shared pipeline. Streams are relayed
// as OpenAI SSE; a mid-stream failure ends with an OpenAI-shaped `event: error` and no [DONE].
import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import type { ChatChunk } from "../openai/types.ts";
import { validateChatRequest } from "../openai/validate.ts";
import { StreamFailure } from "../providers/execute.ts";
import { errorBody, errorResponse } from "./errors.ts";
import {
  type CallError,
  type ChatOutcome,
  invalid,
  parseFallbacksHeader,
  readJson,
  runChat,
  startCall,
} from "./pipeline.ts";

export function openaiError(e: CallError): Response {
  return errorResponse(e.status, e.message, e.type, e.code, {
    param: e.param,
    headers: e.headers,
    retryAfterMs: e.retryAfterMs,
  });
}

export function chatCompletions(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    const start = startCall(gw, c.req.header("x-request-id"));
    const body = await readJson(gw, start, c.req.raw);
    if (!body.ok) return openaiError(body);
    const v = validateChatRequest(body.json);
    if (!v.ok) {
      return openaiError(
        invalid(start, 400, v.error.message, "invalid_request", v.error.param || null),
      );
    }
    const req = v.value;
    if (!req.fallbacks) {
      const fromHeader = parseFallbacksHeader(c.req.header("x-gateway-fallbacks"));
      if (fromHeader.length) req.fallbacks = fromHeader;
    }
    const out = await runChat(gw, start, req, c.req.raw.signal, body.length);
    if (!out.ok) return openaiError(out);
    if (out.kind === "json") {
      return c.json({ ...out.completion, extra_fields: out.extra }, 200, out.headers);
    }
    return openaiSse(out, v.value.stream_options?.include_usage === true);
  };
}

const encoder = new TextEncoder();
export const sseFrame = (data: unknown, event?: string) =>
  encoder.encode(
    `${event ? `event: ${event}\n` : ""}data: ${
      typeof data === "string" ? data : JSON.stringify(data)
    }\n\n`,
  );

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
};

/**
 * Pull-based (not Hono's streamSSE) so a slow client applies backpressure to the upstream and a
 * client that goes away cancels the upstream at once.
 */
function openaiSse(out: Extract<ChatOutcome, { kind: "stream" }>, wantUsage: boolean): Response {
  const keep = (c: ChatChunk) => wantUsage || c.choices.length > 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        while (true) {
          const n = await out.chunks.next();
          if (n.done) {
            ctl.enqueue(sseFrame("[DONE]"));
            ctl.close();
            return;
          }
          if (keep(n.value)) {
            ctl.enqueue(sseFrame(n.value));
            return;
          }
        }
      } catch (e) {
        const f = e instanceof StreamFailure ? e.failure : { kind: "unknown", message: String(e) };
        ctl.enqueue(sseFrame(
          errorBody(
            `${out.provider} failed mid-stream: ${f.message}`,
            f.kind,
            "upstream_stream_error",
          ),
          "error",
        ));
        ctl.close();
      }
    },
    cancel: () => out.cancel(),
  }, { highWaterMark: 0 });
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...out.headers } });
}
