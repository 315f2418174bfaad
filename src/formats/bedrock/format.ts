// Drop-in route for the AWS SDK's Bedrock Runtime client: POST /bedrock/model/{modelId}/converse
// and /converse-stream in Bedrock's own wire format, served by whichever providers the failover
// pipeline picks. Point the SDK at `${gateway}/bedrock`; `modelId` is "provider/model" (the SDK
// URL-encodes it) or a route alias, and `x-gateway-fallbacks: a/b, c/d` adds fallbacks.
//
// Incoming SigV4 signatures are NOT verified: the SDK insists on signing, so clients use any
// static credentials; the gateway authenticates upstream with its own configured keys. Put the
// gateway behind your own authentication if it is reachable by others.
//
// Streams answer application/vnd.amazon.eventstream frames (one event per frame, a
// `:message-type` exception frame if the upstream fails after the first content); errors answer
// Bedrock's JSON `{"message"}` with the exception name in `x-amzn-errortype`.
import { type CallError, parseFallbacksHeader } from "../../http/call.ts";
import { jsonErrorResponse } from "../../http/errors.ts";
import { midStreamMessage, streamFailureOf } from "../../http/stream.ts";
import { invalidRequest, notFound } from "../../lib/errors.ts";
import { validateChatRequest } from "../../openai/validate.ts";
import { eventFrame, exceptionFrame } from "../../providers/bedrock/mod.ts";
import { jsonResponse } from "../json_response.ts";
import type { WireFormat } from "../wire_format.ts";
import { chatToConverse } from "./answer.ts";
import { exceptionName, streamExceptionName } from "./errors.ts";
import { ConverseInputError, converseToChat } from "./request.ts";
import { ConverseStreamTranslator } from "./stream.ts";

const PREFIX = "/bedrock/model/";
const OPERATION = /\/(converse|converse-stream)$/;

/** What the URL names: the model id and whether it is /converse-stream. */
export interface BedrockParams {
  modelId: string;
  stream: boolean;
}

/** Bedrock's error answer: `{"message"}`, the exception in `x-amzn-errortype`, gateway headers. */
export function bedrockError(e: CallError): Response {
  const headers = new Headers(e.headers);
  headers.set("x-amzn-errortype", exceptionName(e.status, e.type));
  const requestId = headers.get("x-request-id");
  if (requestId) headers.set("x-amzn-requestid", requestId);
  return jsonErrorResponse(e.status, { message: e.message }, headers, e.retryAfterMs);
}

/** "primary%2Fgpt-4o-mini" (as the SDK sends it) or a raw "primary/gpt-4o-mini" → the model. */
function modelIdOf(pathname: string): BedrockParams | undefined {
  if (!pathname.startsWith(PREFIX)) return undefined;
  const rest = pathname.slice(PREFIX.length);
  const op = OPERATION.exec(rest);
  if (!op || op.index === 0) return undefined;
  try {
    return {
      modelId: decodeURIComponent(rest.slice(0, op.index)),
      stream: op[1] === "converse-stream",
    };
  } catch {
    return undefined;
  }
}

export const bedrockConverse: WireFormat<BedrockParams> = {
  name: "bedrock",
  target(req) {
    const params = modelIdOf(new URL(req.url).pathname);
    if (params) return { ok: true, value: params };
    return notFound("Use POST /bedrock/model/{modelId}/converse or /converse-stream.");
  },
  decode(json, { params, headers }) {
    let canonical;
    try {
      canonical = converseToChat(json, {
        model: params.modelId,
        stream: params.stream,
        fallbacks: parseFallbacksHeader(headers.get("x-gateway-fallbacks")),
      });
    } catch (e) {
      if (!(e instanceof ConverseInputError)) throw e;
      return invalidRequest(e.message);
    }
    return validateChatRequest(canonical);
  },
  encode: (out, { start }) =>
    jsonResponse(chatToConverse(out.completion, out.extra.latency_ms), {
      ...out.headers,
      "x-amzn-requestid": start.requestId,
    }),
  /** Bedrock's framing: one event per frame, and an exception frame if the upstream fails. */
  stream(out, call) {
    const translator = new ConverseStreamTranslator();
    const frames = (events: { type: string; payload: unknown }[]) =>
      events.map((e) => eventFrame(e.type, e.payload));
    return {
      framing: {
        push: (chunk) => frames(translator.push(chunk)),
        end: () => frames(translator.finish(call.elapsedMs())),
        failed: (e) => {
          const f = streamFailureOf(e);
          return [
            exceptionFrame(streamExceptionName(f.kind), midStreamMessage(out.provider, f.message)),
          ];
        },
      },
      headers: {
        ...out.headers,
        "x-amzn-requestid": call.start.requestId,
        "content-type": "application/vnd.amazon.eventstream",
      },
    };
  },
  encodeError: bedrockError,
};
