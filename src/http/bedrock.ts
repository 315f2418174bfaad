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
import { StreamFailure } from "../providers/execute.ts";
import {
  chatToConverse,
  ConverseInputError,
  ConverseStreamTranslator,
  converseToChat,
  exceptionName,
  streamExceptionName,
} from "./bedrock_translate.ts";
import {
  type CallError,
  type ChatOutcome,
  invalid,
  parseFallbacksHeader,
  readJson,
  runChat,
  startCall,
} from "./pipeline.ts";

const PREFIX = "/bedrock/model/";
const OPERATION = /\/(converse|converse-stream)$/;

/** Bedrock's error answer: `{"message"}`, the exception in `x-amzn-errortype`, gateway headers. */
export function bedrockError(e: CallError): Response {
  const headers = new Headers(e.headers);
  headers.set("content-type", "application/json");
  headers.set("x-amzn-errortype", exceptionName(e.status, e.type));
  const requestId = headers.get("x-request-id");
  if (requestId) headers.set("x-amzn-requestid", requestId);
  if (e.retryAfterMs !== undefined) {
    headers.set("retry-after", String(Math.max(1, Math.ceil(e.retryAfterMs / 1000))));
  }
  return new Response(JSON.stringify({ message: e.message }), { status: e.status, headers });
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
    const body = await readJson(gw, start, c.req.raw);
    if (!body.ok) return bedrockError(body);
    let canonical;
    try {
      canonical = converseToChat(body.json, {
        model: target.modelId,
        stream: target.stream,
        fallbacks: parseFallbacksHeader(c.req.header("x-gateway-fallbacks")),
      });
    } catch (e) {
      if (!(e instanceof ConverseInputError)) throw e;
      return bedrockError(invalid(start, 400, e.message, "invalid_request"));
    }
    const v = validateChatRequest(canonical);
    if (!v.ok) {
      return bedrockError(invalid(start, 400, v.error.message, "invalid_request", v.error.param));
    }
    const out = await runChat(gw, start, v.value, c.req.raw.signal, body.length);
    if (!out.ok) return bedrockError(out);
    const headers = { ...out.headers, "x-amzn-requestid": start.requestId };
    if (out.kind === "json") {
      return c.json(chatToConverse(out.completion, out.extra.latency_ms), 200, headers);
    }
    return eventStream(gw, out, start.t0, headers);
  };
}

/** Pull-based, like the OpenAI SSE route: backpressure reaches the upstream, a hang-up stops it. */
function eventStream(
  gw: Gateway,
  out: Extract<ChatOutcome, { kind: "stream" }>,
  t0: number,
  headers: Record<string, string>,
): Response {
  const translator = new ConverseStreamTranslator();
  const frames = (events: { type: string; payload: unknown }[]) =>
    events.map((e) => eventFrame(e.type, e.payload));
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        while (true) {
          const n = await out.chunks.next();
          if (n.done) {
            for (const f of frames(translator.finish(gw.deps.clock.now() - t0))) ctl.enqueue(f);
            ctl.close();
            return;
          }
          const ready = frames(translator.push(n.value));
          if (ready.length > 0) {
            for (const f of ready) ctl.enqueue(f);
            return;
          }
        }
      } catch (e) {
        const f = e instanceof StreamFailure ? e.failure : { kind: "unknown", message: String(e) };
        ctl.enqueue(
          exceptionFrame(
            streamExceptionName(f.kind),
            `${out.provider} failed mid-stream: ${f.message}`,
          ),
        );
        ctl.close();
      }
    },
    cancel: () => out.cancel(),
  }, { highWaterMark: 0 });
  return new Response(body, {
    status: 200,
    headers: { ...headers, "content-type": "application/vnd.amazon.eventstream" },
  });
}

/** Mounts the Bedrock Runtime drop-in routes (call before the app's notFound handler). */
export function mountBedrock(app: Hono, gw: Gateway): void {
  app.post("/bedrock/model/*", converse(gw));
}
