// Drop-in route for Google's GenAI SDK and the Gemini REST API: POST
// /genai/{v1,v1beta}/models/{model}:generateContent and :streamGenerateContent. The SDK (3.3.0)
// builds `${baseUrl}/${apiVersion}/models/${model}:method` with apiVersion "v1" by default, sends
// the key in x-goog-api-key and asks for streams with ?alt=sse (dist/node/index.mjs: ApiClient,
// GOOGLE_AI_API_DEFAULT_VERSION, generateContentStreamInternal). The key (x-goog-api-key or
// ?key=) is accepted and checked only by virtual keys; upstream keys come from the gateway's
// own config.
import { type CallError, parseFallbacksHeader } from "../../http/call.ts";
import { jsonErrorResponse } from "../../http/errors.ts";
import { midStreamMessage, SSE_HEADERS, sseFrame, streamFailureOf } from "../../http/stream.ts";
import { invalidRequest, notFound } from "../../lib/errors.ts";
import { validateChatRequest } from "../../openai/validate.ts";
import { jsonResponse } from "../json_response.ts";
import type { WireFormat } from "../wire_format.ts";
import { toGenaiResponse } from "./answer.ts";
import { genaiErrorBody } from "./errors.ts";
import { GenaiRequestError, toChatRequest } from "./request.ts";
import { GenaiStreamEncoder } from "./stream.ts";

/** `models/` is followed by the model, which may itself hold "/" (provider/model) or "%2F". */
const METHOD = /^\/genai\/(v1|v1beta)\/models\/(.+):(generateContent|streamGenerateContent)$/;

const JSON_TYPE = "application/json; charset=utf-8";

/** What the URL names: the model, whether to stream, and (for streams) SSE or a JSON array. */
export interface GenaiParams {
  model: string;
  stream: boolean;
  sse: boolean;
}

function googleError(e: CallError): Response {
  return jsonErrorResponse(
    e.status,
    genaiErrorBody(e),
    new Headers(e.headers),
    e.retryAfterMs,
    JSON_TYPE,
  );
}

const encoder = new TextEncoder();

export const genaiGenerate: WireFormat<GenaiParams> = {
  name: "genai",
  target(req) {
    const url = new URL(req.url);
    const route = METHOD.exec(url.pathname);
    if (!route || req.method !== "POST") {
      return notFound(
        `No Gemini API method at ${req.method} ${url.pathname}. The gateway serves POST ` +
          "/genai/{v1,v1beta}/models/{model}:generateContent and :streamGenerateContent.",
      );
    }
    let model: string;
    try {
      model = decodeURIComponent(route[2]);
    } catch {
      return invalidRequest(`model: bad URL escape in "${route[2]}"`, "model", "invalid_model");
    }
    const stream = route[3] === "streamGenerateContent";
    return { ok: true, value: { model, stream, sse: url.searchParams.get("alt") === "sse" } };
  },
  decode(json, { params, headers }) {
    let request;
    try {
      request = toChatRequest(json, {
        model: params.model,
        stream: params.stream,
        // x-gateway-fallbacks: the Gemini body has no room for them.
        fallbacks: parseFallbacksHeader(headers.get("x-gateway-fallbacks")),
      });
    } catch (e) {
      if (!(e instanceof GenaiRequestError)) throw e;
      return invalidRequest(e.message, e.field);
    }
    // The translation names Gemini fields; this catches what only the canonical form can check.
    return validateChatRequest(request);
  },
  encode: (out) => jsonResponse(toGenaiResponse(out.completion), out.headers),
  /**
   * With ?alt=sse each GenerateContentResponse is an SSE `data:`; without it Google streams one
   * JSON array of them. A failure after the first response ends the stream with Google's error
   * object, which the SDK raises as an ApiError (throwIfStreamErrorChunk).
   */
  stream(out, { params: { sse } }) {
    const encode = new GenaiStreamEncoder();
    let sent = 0;
    const frame = (value: unknown) =>
      sse
        ? sseFrame(value)
        : encoder.encode(`${sent++ === 0 ? "[" : ",\r\n"}${JSON.stringify(value)}`);
    /** The JSON array's closing bracket (nothing with SSE), once every frame is out. */
    const close = () => (sse ? [] : [encoder.encode(sent === 0 ? "[]" : "]")]);
    const headers = sse ? SSE_HEADERS : { "content-type": JSON_TYPE };
    return {
      framing: {
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
      },
      headers: { ...headers, ...out.headers },
    };
  },
  encodeError: googleError,
};
