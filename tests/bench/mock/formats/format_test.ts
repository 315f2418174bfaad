// The MockFormat contract, checked for every format the mock speaks: routes and base URLs agree,
// answers carry the target's completion text (JSON and streamed), and every fault kind is
// answered in that format's own way.
import assert from "node:assert/strict";
import { completionText, FORMATS, type MockUpstream } from "../../../../bench/mock/mod.ts";
import { DEFAULT_DIMENSIONS, embedding } from "../../../../bench/mock/formats/mod.ts";
import { decodeEventStream, drainBytes, json, parseSse, post, withMock } from "./_helpers.ts";

type Body = Record<string, unknown>;
const PROMPT = "Say hello please";
const decoder = new TextDecoder();

interface Case {
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
type Any = any;
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

const CASES: Record<string, Case> = {
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

const call = (mock: MockUpstream, name: string, stream = false, fault?: unknown) => {
  const c = CASES[name];
  const headers = { ...c.headers, ...(fault ? { "x-mock-fault": JSON.stringify(fault) } : {}) };
  return post(
    mock,
    `/${name}${stream ? c.stream : c.json}`,
    stream ? c.streamBody : c.body,
    headers,
  );
};

Deno.test("FORMATS: unique names, every route lies under its format's base URL", () => {
  assert.deepEqual(FORMATS.map((f) => f.name), [
    "openai",
    "anthropic",
    "azure",
    "gemini",
    "bedrock",
    "cohere",
  ]);
  for (const f of FORMATS) {
    assert.ok(f.routes.length > 0, f.name);
    for (const route of f.routes) assert.ok(route.startsWith(`POST ${f.baseUrl}/`), route);
  }
  assert.deepEqual(Object.keys(CASES).sort(), FORMATS.map((f) => f.name).sort());
});

Deno.test("every format answers with the target's completion text, as JSON and as a stream", async () => {
  await withMock(async (mock) => {
    for (const [name, c] of Object.entries(CASES)) {
      const res = await call(mock, name);
      assert.equal(res.status, 200, name);
      assert.equal(c.text(await res.json()), completionText(name), name);
      const streamed = await drainBytes(await call(mock, name, true));
      assert.equal(streamed.error, undefined, name);
      assert.equal(c.streamText(streamed.bytes), completionText(name), name);
      assert.equal(mock.hits(name), 2, name);
    }
  });
});

Deno.test("every format: status, rate_limit and quota faults in its own error shape", async () => {
  await withMock(async (mock) => {
    for (const [name, c] of Object.entries(CASES)) {
      let res = await call(mock, name, false, { kind: "status", status: 503, message: "down" });
      assert.equal(res.status, 503, name);
      assert.equal(c.message(await res.json()), "down", name);

      res = await call(mock, name, true, { kind: "rate_limit", retryAfterMs: 1500 });
      assert.equal(res.status, 429, name);
      assert.equal(res.headers.get("retry-after"), "2", name);
      assert.equal(res.headers.get("retry-after-ms"), "1500", name);
      assert.ok(c.message(await res.json()).length > 0, name);

      res = await call(mock, name, false, { kind: "quota" });
      assert.ok([402, 429].includes(res.status), `${name}: ${res.status}`);
      assert.ok(c.message(await res.json()).length > 0, name);
    }
  });
});

Deno.test("every format: malformed answers do not parse, cut ones break off mid-answer", async () => {
  await withMock(async (mock) => {
    const half = completionText("x").length / 2; // 2 of the default 4 pieces
    for (const [name, c] of Object.entries(CASES)) {
      let res = await call(mock, name, false, { kind: "malformed" });
      assert.equal(res.status, 200, name);
      await assert.rejects(res.json(), SyntaxError, name);
      const bad = await drainBytes(await call(mock, name, true, { kind: "malformed" }));
      assert.equal(bad.error, undefined, name);
      assert.ok(bad.bytes.length > 0, name);
      assert.throws(() => c.streamText(bad.bytes), name);

      res = await call(mock, name, false, { kind: "cut" });
      await assert.rejects(res.json(), name);
      const cut = await drainBytes(await call(mock, name, true, { kind: "cut", afterChunks: 2 }));
      assert.ok(cut.error, `${name}: the stream must break`);
      assert.equal(c.streamText(cut.bytes), completionText(name).slice(0, half), name);
    }
  });
});

Deno.test("every format: hang holds the answer, latency delays it, queued faults count per target", async () => {
  await withMock(async (mock) => {
    for (const name of Object.keys(CASES)) {
      mock.setFaults(name, [{ kind: "hang", times: 1 }, { kind: "latency", ms: 60, times: 1 }]);
      const c = CASES[name];
      await assert.rejects(
        fetch(`${mock.url}/${name}${c.json}`, {
          method: "POST",
          body: JSON.stringify(c.body),
          headers: c.headers,
          signal: AbortSignal.timeout(50),
        }),
        (e: Error) => e.name === "TimeoutError",
        name,
      );
      const started = performance.now();
      const res = await call(mock, name);
      assert.ok(performance.now() - started >= 55, name);
      assert.equal(res.status, 200, name);
      await res.body?.cancel();
      assert.equal(mock.hits(name), 2, name);
    }
  });
});

Deno.test("embedding vectors: deterministic per text, unit length, sized on request", () => {
  const a = embedding("hello");
  assert.equal(a.length, DEFAULT_DIMENSIONS);
  assert.deepEqual(embedding("hello"), a);
  assert.notDeepEqual(embedding("hello!"), a);
  assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-6);
  assert.equal(embedding("hello", 3).length, 3);
});
