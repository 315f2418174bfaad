// Cohere v2: `POST /{target}/v2/chat` (JSON, or SSE with `stream: true`) and
// `POST /{target}/v2/embed`. Wire facts from Cohere's API reference:
// https://docs.cohere.com/reference/chat (ChatResponse: id, finish_reason COMPLETE|MAX_TOKENS|…,
// message {role, content: [{type: "text", text}]}, usage {billed_units, tokens}),
// https://docs.cohere.com/v2/docs/streaming (events message-start, content-start,
// content-delta, content-end, message-end; `event:` names the type, `data:` repeats it as
// `type`, text arrives in delta.message.content.text, message-end carries finish_reason and
// usage), https://docs.cohere.com/reference/embed (embeddings by type, meta.billed_units) and
// https://docs.cohere.com/reference/errors (bodies are `{"id"?, "message"}`; 402 when the billing
// limit is reached, 429 past a rate limit, 498 invalid token, 499 request cancelled).
import type { Json, MockCall, MockErrorSpec, MockFormat, Refusal } from "./format.ts";
import {
  bodyModel,
  BROKEN_JSON,
  dimensionsOf,
  embedding,
  JSON_HEADERS,
  jsonReply,
  list,
  partsText,
  postRoutes,
  SSE_HEADERS,
  sseEvent,
} from "./wire.ts";

export function cohereError(status: number, spec: MockErrorSpec = {}): Response {
  return Response.json({
    id: crypto.randomUUID(),
    message: spec.message ?? `Mock upstream error ${status}.`,
  }, { status });
}

const invalid = (why: string) => cohereError(400, { message: `invalid request: ${why}` });

const REFUSALS: Record<Refusal, string> = {
  context_length: "invalid request: too many tokens: total number of tokens in the prompt " +
    "cannot exceed 128000 - received 130000. Try using a shorter prompt, or enabling prompt " +
    "truncating.",
  content_filter: "blocked input: please adjust your prompt and try again, as it may be a " +
    "potential violation of our Usage Policy",
  prefill: "invalid request: the last message must be a user or tool message.",
};

const EMBEDDING_TYPES = ["float", "int8", "uint8", "binary", "ubinary"];

/** The inputs of an embed request: `texts`, the text parts of `inputs`, or `images` (data URIs). */
function embedInputs(body: Json): string[] {
  if (Array.isArray(body.texts)) return body.texts.map(String);
  if (Array.isArray(body.inputs)) return list(body.inputs).map((i) => partsText(i.content));
  if (Array.isArray(body.images)) return body.images.map(String);
  return [];
}

const embeddingTypes = (body: Json): unknown[] =>
  Array.isArray(body.embedding_types) ? body.embedding_types : ["float"];

/** Packs the signs of a vector into bytes, first dimension in the highest bit. */
function signBits(vector: number[]): number[] {
  const bytes = new Array(Math.ceil(vector.length / 8)).fill(0);
  vector.forEach((v, i) => {
    if (v > 0) bytes[i >> 3] |= 0x80 >> (i & 7);
  });
  return bytes;
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(v)));

const QUANTIZE: Record<string, (v: number[]) => number[]> = {
  float: (v) => v,
  int8: (v) => v.map((x) => clamp(x * 127, -128, 127)),
  uint8: (v) => v.map((x) => clamp((x + 1) * 127.5, 0, 255)),
  ubinary: signBits,
  binary: (v) => signBits(v).map((b) => b - 128),
};

function embedAnswer(c: MockCall, input: number): string {
  const vectors = embedInputs(c.body).map((t) =>
    embedding(t, dimensionsOf(c.body.output_dimension)!)
  );
  const embeddings = Object.fromEntries(
    embeddingTypes(c.body).map((t) => [t, vectors.map(QUANTIZE[t as string])]),
  );
  return JSON.stringify({
    id: `embed_${c.target}_${c.seq}`,
    embeddings,
    ...(Array.isArray(c.body.texts) ? { texts: c.body.texts } : {}),
    meta: { api_version: { version: "2" }, billed_units: { input_tokens: input } },
    response_type: "embeddings_by_type",
  });
}

export const cohere: MockFormat = {
  name: "cohere",
  baseUrl: "",
  routes: ["POST /v2/chat", "POST /v2/embed"],
  match: postRoutes({ "v2/chat": "chat", "v2/embed": "embed" }),
  model: bodyModel,
  streaming: (body, route) => route.operation === "chat" && body.stream === true,
  validate({ body, route }) {
    if (typeof body.model !== "string") return invalid("a model parameter is required.");
    if (route.operation === "chat") {
      return Array.isArray(body.messages) ? undefined : invalid("messages must be a list.");
    }
    if (typeof body.input_type !== "string") return invalid("input_type must be provided.");
    const inputs = embedInputs(body);
    if (inputs.length === 0) return invalid("one of texts, inputs or images must be provided.");
    if (inputs.length > 96) {
      return invalid(`total number of texts must be at most 96 - received ${inputs.length}`);
    }
    const unknown = embeddingTypes(body).find((t) => !EMBEDDING_TYPES.includes(t as string));
    if (unknown !== undefined) {
      return invalid(`embedding type ${JSON.stringify(unknown)} is not supported by the mock.`);
    }
    if (dimensionsOf(body.output_dimension) === undefined) {
      return invalid("output_dimension must be from 1 to 4096 (mock).");
    }
    return undefined;
  },
  prompt: ({ body, route }) =>
    route.operation === "embed"
      ? embedInputs(body).join("")
      : list(body.messages).map((m) => partsText(m.content)).join(""),
  error: cohereError,
  rateLimit: () =>
    cohereError(429, {
      message: "You are past the per minute request limit, please wait and try again later (mock).",
    }),
  // Cohere answers a reached billing limit with 402 Payment Required.
  quota: () =>
    cohereError(402, {
      message: "Maximum billing reached for this API key; update your payment method (mock).",
    }),
  reject: (_c, why) => cohereError(400, { message: REFUSALS[why] }),
  answer(c, { text, pieces, input, output, complete }) {
    if (c.route.operation === "embed") return jsonReply(embedAnswer(c, input));
    const id = `chat_${c.target}_${c.seq}`;
    const usage = {
      billed_units: { input_tokens: input, output_tokens: output },
      tokens: { input_tokens: input, output_tokens: output },
    };
    if (!c.stream) {
      return jsonReply(JSON.stringify({
        id,
        finish_reason: "COMPLETE",
        message: { role: "assistant", content: [{ type: "text", text }] },
        usage,
      }));
    }
    const content = (value: Json) => ({ message: { content: value } });
    const frames = [
      sseEvent("message-start", { id, delta: { message: { role: "assistant" } } }),
      sseEvent("content-start", { index: 0, delta: content({ type: "text", text: "" }) }),
      ...pieces.map((p) => sseEvent("content-delta", { index: 0, delta: content({ text: p }) })),
    ];
    if (complete) {
      frames.push(
        sseEvent("content-end", { index: 0 }),
        sseEvent("message-end", { id, delta: { finish_reason: "COMPLETE", usage } }),
      );
    }
    // message-start and content-start come before the first text delta.
    return { headers: SSE_HEADERS, chunks: frames, firstPiece: 2 };
  },
  malformed: (c) =>
    c.stream
      ? {
        headers: SSE_HEADERS,
        chunks: ['event: message-start\ndata: {"type": "message-start", oops\n\n'],
      }
      : { headers: JSON_HEADERS, chunks: [BROKEN_JSON] },
};
