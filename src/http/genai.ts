// Drop-in route for Google's GenAI SDK and the Gemini REST API: POST
// /genai/{v1,v1beta}/models/{model}:generateContent and :streamGenerateContent run through the
// same failover pipeline as /v1/chat/completions. The SDK (3.3.0) builds
// `${baseUrl}/${apiVersion}/models/${model}:method` with apiVersion "v1" by default, sends the
// key in x-goog-api-key and asks for streams with ?alt=sse (dist/node/index.mjs: ApiClient,
// GOOGLE_AI_API_DEFAULT_VERSION, generateContentStreamInternal).
import type { Context, Hono } from "hono";
import type { Gateway } from "../gateway.ts";
import { validateChatRequest } from "../openai/validate.ts";
import { jsonErrorResponse } from "./errors.ts";
import { genaiErrorBody } from "../formats/genai/errors.ts";
import { GenaiRequestError, toChatRequest } from "../formats/genai/request.ts";
import { toGenaiResponse } from "../formats/genai/answer.ts";
import { GenaiStreamEncoder } from "../formats/genai/stream.ts";
import { type CallError, invalid, parseFallbacksHeader, startCall } from "./call.ts";
import { runChat } from "./pipeline.ts";
import { readRequest } from "./request.ts";
import {
  type CommittedStream,
  midStreamMessage,
  relayStream,
  SSE_HEADERS,
  sseFrame,
  streamFailureOf,
} from "./stream.ts";
import { callSignal } from "./signal.ts";

/** `models/` is followed by the model, which may itself hold "/" (provider/model) or "%2F". */
const METHOD = /^\/genai\/(v1|v1beta)\/models\/(.+):(generateContent|streamGenerateContent)$/;

export function mountGenai(app: Hono, gw: Gateway): void {
  app.all("/genai/*", (c) => generate(gw, c));
}

const JSON_TYPE = "application/json; charset=utf-8";

function googleError(e: CallError): Response {
  return jsonErrorResponse(
    e.status,
    genaiErrorBody(e),
    new Headers(e.headers),
    e.retryAfterMs,
    JSON_TYPE,
  );
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
  const req = await readRequest(gw, start, c.req.raw, (json) => {
    let request;
    try {
      request = toChatRequest(json, {
        model,
        stream,
        // x-gateway-fallbacks: the Gemini body has no room for them.
        fallbacks: parseFallbacksHeader(c.req.header("x-gateway-fallbacks")),
      });
    } catch (e) {
      if (!(e instanceof GenaiRequestError)) throw e;
      return { ok: false, error: { message: e.message, param: e.field } };
    }
    // The translation names Gemini fields; this catches what only the canonical form can check.
    return validateChatRequest(request);
  });
  if (!req.ok) return googleError(req);
  const out = await runChat(gw, start, req.value, callSignal(c), req.length);
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
function genaiStream(out: CommittedStream, sse: boolean): Response {
  const encode = new GenaiStreamEncoder();
  let sent = 0;
  const frame = (value: unknown) =>
    sse
      ? sseFrame(value)
      : encoder.encode(`${sent++ === 0 ? "[" : ",\r\n"}${JSON.stringify(value)}`);
  /** The JSON array's closing bracket (nothing with SSE), once every frame is out. */
  const close = () => (sse ? [] : [encoder.encode(sent === 0 ? "[]" : "]")]);
  const body = relayStream(out, {
    push: (chunk) => encode.push(chunk).map(frame),
    end: () => {
      const last = encode.end().map(frame);
      return [...last, ...close()];
    },
    failed: (e) => {
      const f = streamFailureOf(e);
      const error = frame(genaiErrorBody({
        status: f.status && f.status >= 400 ? f.status : 502,
        message: midStreamMessage(out.provider, f.message),
        type: f.kind,
        code: "upstream_stream_error",
      }));
      return [error, ...close()];
    },
  });
  const headers = sse ? SSE_HEADERS : { "content-type": JSON_TYPE };
  return new Response(body, { status: 200, headers: { ...headers, ...out.headers } });
}
