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
import type { Context, Hono } from "hono";
import type { Gateway } from "../gateway.ts";
import { validateChatRequest } from "../openai/validate.ts";
import { eventFrame, exceptionFrame } from "../providers/bedrock/mod.ts";
import { chatToConverse } from "../formats/bedrock/answer.ts";
import { exceptionName, streamExceptionName } from "../formats/bedrock/errors.ts";
import { ConverseInputError, converseToChat } from "../formats/bedrock/request.ts";
import { ConverseStreamTranslator } from "../formats/bedrock/stream.ts";
import { jsonErrorResponse } from "./errors.ts";
import { type CallError, invalid, parseFallbacksHeader, startCall } from "./call.ts";
import { runChat } from "./pipeline.ts";
import { readRequest } from "./request.ts";
import { type CommittedStream, midStreamMessage, relayStream, streamFailureOf } from "./stream.ts";
import { callSignal } from "./signal.ts";

const PREFIX = "/bedrock/model/";
const OPERATION = /\/(converse|converse-stream)$/;

/** Bedrock's error answer: `{"message"}`, the exception in `x-amzn-errortype`, gateway headers. */
export function bedrockError(e: CallError): Response {
  const headers = new Headers(e.headers);
  headers.set("x-amzn-errortype", exceptionName(e.status, e.type));
  const requestId = headers.get("x-request-id");
  if (requestId) headers.set("x-amzn-requestid", requestId);
  return jsonErrorResponse(e.status, { message: e.message }, headers, e.retryAfterMs);
}

/** "primary%2Fgpt-4o-mini" (as the SDK sends it) or a raw "primary/gpt-4o-mini" → the model. */
function modelIdOf(pathname: string): { modelId: string; stream: boolean } | undefined {
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

export function converse(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    const start = startCall(gw, c.req.header("x-request-id"));
    const target = modelIdOf(new URL(c.req.url).pathname);
    if (!target) {
      return bedrockError(
        invalid(
          start,
          404,
          "Use POST /bedrock/model/{modelId}/converse or /converse-stream.",
          "not_found",
        ),
      );
    }
    const req = await readRequest(gw, start, c.req.raw, (json) => {
      let canonical;
      try {
        canonical = converseToChat(json, {
          model: target.modelId,
          stream: target.stream,
          fallbacks: parseFallbacksHeader(c.req.header("x-gateway-fallbacks")),
        });
      } catch (e) {
        if (!(e instanceof ConverseInputError)) throw e;
        return { ok: false, error: { message: e.message } };
      }
      return validateChatRequest(canonical);
    });
    if (!req.ok) return bedrockError(req);
    const out = await runChat(gw, start, req.value, callSignal(c), req.length);
    if (!out.ok) return bedrockError(out);
    const headers = { ...out.headers, "x-amzn-requestid": start.requestId };
    if (out.kind === "json") {
      return c.json(chatToConverse(out.completion, out.extra.latency_ms), 200, headers);
    }
    return eventStream(gw, out, start.t0, headers);
  };
}

/** Bedrock's framing: one event per frame, and an exception frame if the upstream fails. */
function eventStream(
  gw: Gateway,
  out: CommittedStream,
  t0: number,
  headers: Record<string, string>,
): Response {
  const translator = new ConverseStreamTranslator();
  const frames = (events: { type: string; payload: unknown }[]) =>
    events.map((e) => eventFrame(e.type, e.payload));
  const body = relayStream(out, {
    push: (chunk) => frames(translator.push(chunk)),
    end: () => frames(translator.finish(gw.deps.clock.now() - t0)),
    failed: (e) => {
      const f = streamFailureOf(e);
      return [
        exceptionFrame(streamExceptionName(f.kind), midStreamMessage(out.provider, f.message)),
      ];
    },
  });
  return new Response(body, {
    status: 200,
    headers: { ...headers, "content-type": "application/vnd.amazon.eventstream" },
  });
}

/** Mounts the Bedrock Runtime drop-in routes (call before the app's notFound handler). */
export function mountBedrock(app: Hono, gw: Gateway): void {
  app.post("/bedrock/model/*", converse(gw));
}
