// One request case per wire format the mock speaks: its JSON and streaming routes and bodies,
// and how to read the answer text, the streamed text and an error message from it. Shared by
// the format tests, so every fault is checked in every format.
import type { MockUpstream } from "../../../../bench/mock/mod.ts";
import { decodeEventStream, json, parseSse, post } from "./_helpers.ts";

export type Body = Record<string, unknown>;
export const PROMPT = "Say hello please";
const decoder = new TextDecoder();

export interface Case {
  /** JSON route and streaming route (after /{target}) and the bodies for them. */
  json: string;
  stream: string;
  body: Body;
  streamBody: Body;
  headers?: Record<string, string>;
  text(body: Body): string;
  /** Text of every whole event in a stream; throws if an event cannot be parsed. */
  streamText(bytes: Uint8Array): string;
  message(body: Body): string;
}

// deno-lint-ignore no-explicit-any
export type Any = any;
const sseJson = (bytes: Uint8Array) =>
  parseSse(decoder.decode(bytes)).filter((f) => f.data !== "[DONE]").map((f) => JSON.parse(f.data));
const messages = [{ role: "user", content: PROMPT }];
const openaiLike = (json: string, extra: Partial<Case> = {}): Case => ({
  json,
  stream: json,
  body: { model: "m", messages },
  streamBody: { model: "m", messages, stream: true },
  text: (b: Any) => b.choices[0].message.content,
  streamText: (bytes) => sseJson(bytes).map((c) => c.choices[0]?.delta?.content ?? "").join(""),
  message: (b: Any) => b.error.message,
  ...extra,
});

export const CASES: Record<string, Case> = {
  openai: openaiLike("/v1/chat/completions"),
  azure: openaiLike("/openai/deployments/dep/chat/completions?api-version=2024-10-21", {
    headers: { "api-key": "k" },
  }),
  anthropic: {
    json: "/v1/messages",
    stream: "/v1/messages",
    body: { model: "m", max_tokens: 9, messages },
    streamBody: { model: "m", max_tokens: 9, messages, stream: true },
    text: (b: Any) => b.content[0].text,
    streamText: (bytes) =>
      sseJson(bytes).filter((e) => e.type === "content_block_delta").map((e) => e.delta.text)
        .join(""),
    message: (b: Any) => b.error.message,
  },
  gemini: {
    json: "/v1beta/models/gemini-x:generateContent",
    stream: "/v1beta/models/gemini-x:streamGenerateContent?alt=sse",
    body: { contents: [{ role: "user", parts: [{ text: PROMPT }] }] },
    streamBody: { contents: [{ role: "user", parts: [{ text: PROMPT }] }] },
    text: (b: Any) => b.candidates[0].content.parts[0].text,
    streamText: (bytes) =>
      sseJson(bytes).map((r) => r.candidates[0].content.parts[0].text).join(""),
    message: (b: Any) => b.error.message,
  },
  bedrock: {
    json: "/model/m1/converse",
    stream: "/model/m1/converse-stream",
    body: { messages: [{ role: "user", content: [{ text: PROMPT }] }] },
    streamBody: { messages: [{ role: "user", content: [{ text: PROMPT }] }] },
    text: (b: Any) => b.output.message.content[0].text,
    streamText: (bytes) =>
      decodeEventStream(bytes).messages.map(json).map((p) => p.delta?.text ?? "").join(""),
    message: (b: Any) => b.message,
  },
  cohere: {
    json: "/v2/chat",
    stream: "/v2/chat",
    body: { model: "m", messages },
    streamBody: { model: "m", messages, stream: true },
    text: (b: Any) => b.message.content[0].text,
    streamText: (bytes) =>
      sseJson(bytes).filter((e) => e.type === "content-delta").map((e) =>
        e.delta.message.content.text
      ).join(""),
    message: (b: Any) => b.message,
  },
};

/** Sends a format's JSON or streaming request, optionally with an `x-mock-fault` header. */
export const call = (
  mock: MockUpstream,
  name: string,
  stream = false,
  fault?: unknown,
  body?: Body,
) => {
  const c = CASES[name];
  const headers = { ...c.headers, ...(fault ? { "x-mock-fault": JSON.stringify(fault) } : {}) };
  return post(
    mock,
    `/${name}${stream ? c.stream : c.json}`,
    body ?? (stream ? c.streamBody : c.body),
    headers,
  );
};
