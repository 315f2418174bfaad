// Drop-in route for Google's GenAI SDK and the Gemini REST API: POST
// /genai/{v1,v1beta}/models/{model}:generateContent and :streamGenerateContent run through the
// same failover pipeline as /v1/chat/completions. The SDK (3.3.0) builds
// `${baseUrl}/${apiVersion}/models/${model}:method` with apiVersion "v1" by default, sends the
// key in x-goog-api-key and asks for streams with ?alt=sse (dist/node/index.mjs: ApiClient,
// GOOGLE_AI_API_DEFAULT_VERSION, generateContentStreamInternal).
import type { Context, Hono } from "hono";
import type { Gateway } from "../gateway.ts";
import { validateChatRequest } from "../openai/validate.ts";
import { StreamFailure } from "../providers/execute.ts";
import { SSE_HEADERS, sseFrame } from "./chat_completions.ts";
import {
  genaiErrorBody,
  GenaiRequestError,
  GenaiStreamEncoder,
  toChatRequest,
  toGenaiResponse,
} from "./genai_translate.ts";
import {
  type CallError,
  type ChatOutcome,
  invalid,
  readJson,
  runChat,
  startCall,
} from "./pipeline.ts";

/** `models/` is followed by the model, which may itself hold "/" (provider/model) or "%2F". */
const METHOD = /^\/genai\/(v1|v1beta)\/models\/(.+):(generateContent|streamGenerateContent)$/;

export function mountGenai(app: Hono, gw: Gateway): void {
  app.all("/genai/*", (c) => generate(gw, c));
}

function googleError(e: CallError): Response {
  const headers = new Headers(e.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  if (e.retryAfterMs !== undefined) {
    headers.set("retry-after", String(Math.max(1, Math.ceil(e.retryAfterMs / 1000))));
  }
  return new Response(JSON.stringify(genaiErrorBody(e)), { status: e.status, headers });
}

/** x-gateway-fallbacks: "provider/model, provider/model" (the Gemini body has no room for it). */
function fallbacksOf(header: string | undefined): string[] | undefined {
  const list = (header ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  return list.length > 0 ? list : undefined;
}

// The key (x-goog-api-key or ?key=) is accepted and not checked: the gateway has no client
// auth today, and upstream keys come from its own config.
async function generate(gw: Gateway, c: Context): Promise<Response> {
  const start = startCall(gw, c.req.header("x-request-id"));
  const url = new URL(c.req.url);
  const route = METHOD.exec(url.pathname);
  if (!route || c.req.method !== "POST") {
    return googleError(invalid(
      start,
      404,
      `No Gemini API method at ${c.req.method} ${url.pathname}. The gateway serves POST ` +
        "/genai/{v1,v1beta}/models/{model}:generateContent and :streamGenerateContent.",
      "not_found",
    ));
  }
  let model: string;
  try {
    model = decodeURIComponent(route[2]);
  } catch {
    return googleError(
      invalid(start, 400, `model: bad URL escape in "${route[2]}"`, "invalid_model"),
    );
  }
  const stream = route[3] === "streamGenerateContent";
  const body = await readJson(gw, start, c.req.raw);
  if (!body.ok) return googleError(body);
  let request;
  try {
    request = toChatRequest(body.json, {
      model,
      stream,
      fallbacks: fallbacksOf(c.req.header("x-gateway-fallbacks")),
    });
  } catch (e) {
    if (!(e instanceof GenaiRequestError)) throw e;
    return googleError(invalid(start, 400, e.message, "invalid_request", e.field || null));
  }
  // The translation names Gemini fields; this catches what only the canonical form can check.
  const v = validateChatRequest(request);
  if (!v.ok) {
    return googleError(
      invalid(start, 400, v.error.message, "invalid_request", v.error.param || null),
    );
  }
  const out = await runChat(gw, start, v.value, c.req.raw.signal, body.length);
  if (!out.ok) return googleError(out);
  if (out.kind === "json") return c.json(toGenaiResponse(out.completion), 200, out.headers);
  return genaiStream(out, url.searchParams.get("alt") === "sse");
}

const encoder = new TextEncoder();

/**
 * With ?alt=sse each GenerateContentResponse is an SSE `data:`; without it Google streams one JSON
 * array of them. A failure after the first response ends the stream with Google's error object,
 * which the SDK raises as an ApiError (throwIfStreamErrorChunk).
 */
function genaiStream(out: Extract<ChatOutcome, { kind: "stream" }>, sse: boolean): Response {
  const encode = new GenaiStreamEncoder();
  let sent = 0;
  const frame = (value: unknown) =>
    sse
      ? sseFrame(value)
      : encoder.encode(`${sent++ === 0 ? "[" : ",\r\n"}${JSON.stringify(value)}`);
  const close = (ctl: ReadableStreamDefaultController<Uint8Array>) => {
    if (!sse) ctl.enqueue(encoder.encode(sent === 0 ? "[]" : "]"));
    ctl.close();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        while (true) {
          const n = await out.chunks.next();
          if (n.done) {
            for (const r of encode.end()) ctl.enqueue(frame(r));
            return close(ctl);
          }
          const responses = encode.push(n.value);
          for (const r of responses) ctl.enqueue(frame(r));
          if (responses.length > 0) return;
        }
      } catch (e) {
        const f = e instanceof StreamFailure ? e.failure : { kind: "unknown", message: String(e) };
        const status = "status" in f && f.status && f.status >= 400 ? f.status : 502;
        ctl.enqueue(frame(genaiErrorBody({
          status,
          message: `${out.provider} failed mid-stream: ${f.message}`,
          type: f.kind,
          code: "upstream_stream_error",
        })));
        close(ctl);
      }
    },
    cancel: () => out.cancel(),
  }, { highWaterMark: 0 });
  const headers = sse ? SSE_HEADERS : { "content-type": "application/json; charset=utf-8" };
  return new Response(body, { status: 200, headers: { ...headers, ...out.headers } });
}
