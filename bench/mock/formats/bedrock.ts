// Amazon Bedrock Converse: `POST /{target}/model/{modelId}/converse` (JSON) and
// `/converse-stream` (binary `application/vnd.amazon.eventstream`). Wire facts from AWS's API
// reference: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
// (response: output.message.content, stopReason, usage {inputTokens, outputTokens, totalTokens},
// metrics; errors and their HTTP codes),
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html and
// .../API_runtime_ConverseStreamOutput.html (events messageStart, contentBlockDelta,
// contentBlockStop, messageStop, metadata), and Smithy's restJson1 protocol
// (https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html): the error's name travels
// in the `x-amzn-errortype` header, possibly followed by ":" and more text a client must
// ignore, and the body is `{"message": ...}`. The stream frames are built by ./eventstream.ts.
// A modelId may be an ARN or inference-profile id, URL-encoded into one path segment.
import { encodeEvent } from "./eventstream.ts";
import type { Chunk, MockErrorSpec, MockFormat, Refusal } from "./format.ts";
import { BROKEN_JSON, JSON_HEADERS, jsonReply, list, partsText } from "./wire.ts";

/** Bedrock Runtime's exceptions by HTTP status. */
const EXCEPTIONS: Record<number, string> = {
  400: "ValidationException",
  401: "UnrecognizedClientException",
  403: "AccessDeniedException",
  404: "ResourceNotFoundException",
  408: "ModelTimeoutException",
  424: "ModelErrorException",
  429: "ThrottlingException",
  500: "InternalServerException",
  503: "ServiceUnavailableException",
};

const EVENTSTREAM = "application/vnd.amazon.eventstream";

/** What Bedrock says, as a ValidationException, about a request its model will not take. */
const REFUSALS: Record<Refusal, string> = {
  context_length: "Input is too long for requested model.",
  content_filter: "Output blocked by content filtering policy",
  prefill: "A conversation must end with a user message. Try again with a conversation that " +
    "ends with a user message.",
};

/** `{"message"}` with the exception's name in `x-amzn-errortype`, as Bedrock sends it. */
export function bedrockError(status: number, spec: MockErrorSpec = {}): Response {
  const name = spec.type ?? EXCEPTIONS[status] ??
    (status >= 500 ? "InternalServerException" : "ValidationException");
  return Response.json({ message: spec.message ?? `Mock upstream error ${status}.` }, {
    status,
    headers: { "x-amzn-errortype": `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
  });
}

export const bedrock: MockFormat = {
  name: "bedrock",
  baseUrl: "",
  routes: ["POST /model/{modelId}/converse", "POST /model/{modelId}/converse-stream"],
  match(method, path) {
    const [model, modelId, action, ...rest] = path;
    if (method !== "POST" || model !== "model" || !modelId || rest.length > 0) return;
    if (action === "converse") return { operation: "chat", model: modelId, stream: false };
    if (action === "converse-stream") return { operation: "chat", model: modelId, stream: true };
    return undefined;
  },
  model: (_body, route) => route.model!,
  streaming: (_body, route) => route.stream === true,
  validate({ body }) {
    if (Array.isArray(body.messages)) return undefined;
    return bedrockError(400, {
      message: "1 validation error detected: Value null at 'messages' failed to satisfy " +
        "constraint: Member must not be null",
    });
  },
  prompt: ({ body }) =>
    partsText(body.system) + list(body.messages).map((m) => partsText(m.content)).join(""),
  error: bedrockError,
  rateLimit: () =>
    bedrockError(429, { message: "Too many requests, please wait before trying again (mock)." }),
  // A spent daily token quota is a ThrottlingException too; only its message tells it apart.
  quota: () =>
    bedrockError(429, {
      message: "Too many tokens per day, please wait before trying again (mock).",
    }),
  reject: (_c, why) => bedrockError(400, { message: REFUSALS[why] }),
  answer(c, { text, pieces, input, output, complete }) {
    const usage = { inputTokens: input, outputTokens: output, totalTokens: input + output };
    const metrics = { latencyMs: 0 };
    const headers = { "x-amzn-requestid": `req_${c.target}_${c.seq}` };
    if (!c.stream) {
      return jsonReply(
        JSON.stringify({
          output: { message: { role: "assistant", content: [{ text }] } },
          stopReason: "end_turn",
          usage,
          metrics,
        }),
        headers,
      );
    }
    const frames: Chunk[] = [
      encodeEvent("messageStart", { role: "assistant" }),
      ...pieces.map((p) =>
        encodeEvent("contentBlockDelta", { contentBlockIndex: 0, delta: { text: p } })
      ),
    ];
    const stop = encodeEvent("contentBlockStop", { contentBlockIndex: 0 });
    if (complete) {
      frames.push(
        stop,
        encodeEvent("messageStop", { stopReason: "end_turn" }),
        encodeEvent("metadata", { usage, metrics }),
      );
    } else {
      // A cut stream breaks off inside a frame, as a dropped connection would.
      frames.push(stop.slice(0, Math.floor(stop.length / 2)));
    }
    return { headers: { "content-type": EVENTSTREAM, ...headers }, chunks: frames, firstPiece: 1 };
  },
  malformed(c) {
    if (!c.stream) return { headers: JSON_HEADERS, chunks: [BROKEN_JSON] };
    // A whole frame whose message CRC is wrong: a client must reject it.
    const frame = encodeEvent("messageStart", { role: "assistant" });
    frame[frame.length - 1] ^= 0xff;
    return { headers: { "content-type": EVENTSTREAM }, chunks: [frame] };
  },
};
