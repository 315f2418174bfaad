// POST /genai/{v1,v1beta}/models/{model}:generateContent and :streamGenerateContent on a real
// listening gateway, called by the official @google/genai SDK (only its base URL changed), served
// by OpenAI-format and Gemini-format mock upstreams: JSON, streams, fallback through the
// x-gateway-fallbacks header, Google-shaped errors and a stream cut mid-way.
import { ApiError, GoogleGenAI } from "@google/genai";
import assert from "node:assert/strict";
import { completionText, type MockUpstream, startMockUpstream } from "../../../bench/mock/mod.ts";
import type { ConfigFile } from "../../../src/config.ts";
import type { RunningGateway } from "../../../src/server.ts";
import { mockProvider, startTestGateway } from "../../_support/gateway.ts";

const config = (url: string): ConfigFile => ({
  retries: { max: 0 },
  providers: {
    primary: mockProvider(url, "primary"),
    backup: mockProvider(url, "backup", "anthropic"),
    gem: { type: "gemini", baseUrl: `${url}/gem/v1beta`, timeouts: { firstTokenMs: 2_000 } },
  },
  routes: { fast: ["primary/gpt-4o-mini", "backup/claude-3-5-haiku-latest"] },
});

interface Ctx {
  mock: MockUpstream;
  gw: RunningGateway;
  /** An SDK client whose base URL is the gateway's /genai (apiVersion: the SDK's default, v1). */
  ai: GoogleGenAI;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
}

async function withGateway(fn: (c: Ctx) => Promise<void>): Promise<void> {
  const mock = await startMockUpstream();
  let gw: RunningGateway | undefined;
  try {
    gw = startTestGateway(config(mock.url));
    const base = `${gw.url}/genai`;
    await fn({
      mock,
      gw,
      ai: new GoogleGenAI({ apiKey: "x", httpOptions: { baseUrl: base } }),
      post: (path, body, headers = {}) =>
        fetch(`${base}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
    });
  } finally {
    await gw?.shutdown(2_000);
    await mock.close();
  }
}

const hello = { contents: [{ role: "user", parts: [{ text: "hello" }] }] };

Deno.test("generateContent through the SDK: an OpenAI-format provider answers in Gemini's shape", async () => {
  await withGateway(async ({ ai, mock }) => {
    const res = await ai.models.generateContent({
      model: "primary/gpt-4o-mini",
      contents: "hello",
      config: { systemInstruction: "Be brief.", temperature: 0.3, maxOutputTokens: 50 },
    });
    assert.equal(res.text, completionText("primary"));
    assert.equal(res.candidates?.[0].finishReason, "STOP");
    assert.equal(res.modelVersion, "gpt-4o-mini");
    assert.ok((res.usageMetadata?.promptTokenCount ?? 0) > 0);
    assert.equal(
      res.usageMetadata?.totalTokenCount,
      res.usageMetadata!.promptTokenCount! + res.usageMetadata!.candidatesTokenCount!,
    );
    const headers = res.sdkHttpResponse?.headers ?? {};
    assert.equal(headers["x-gateway-provider"], "primary");
    assert.equal(headers["x-gateway-model"], "gpt-4o-mini");
    assert.equal(headers["x-gateway-fallback-index"], "0");
    assert.equal(mock.hits("primary"), 1);
  });
});

Deno.test("generateContentStream on v1beta: text in pieces, the last chunk finishes with usage", async () => {
  await withGateway(async ({ gw }) => {
    const ai = new GoogleGenAI({
      apiKey: "x",
      httpOptions: { baseUrl: `${gw.url}/genai`, apiVersion: "v1beta" },
    });
    const stream = await ai.models.generateContentStream({
      model: "primary/gpt-4o-mini",
      contents: [{ role: "user", parts: [{ text: "hello" }] }],
    });
    let text = "";
    const chunks = [];
    for await (const chunk of stream) {
      text += chunk.text ?? "";
      chunks.push(chunk);
    }
    assert.equal(text, completionText("primary"));
    assert.ok(chunks.length > 2, "streamed in several pieces");
    const last = chunks.at(-1)!;
    assert.equal(last.candidates?.[0].finishReason, "STOP");
    assert.ok((last.usageMetadata?.candidatesTokenCount ?? 0) > 0);
    assert.equal(chunks.filter((c) => c.candidates?.[0].finishReason).length, 1);
  });
});

Deno.test("a failing primary falls over to the x-gateway-fallbacks candidate", async () => {
  await withGateway(async ({ ai, mock }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const res = await ai.models.generateContent({
      model: "primary/gpt-4o-mini",
      contents: "hello",
      config: {
        httpOptions: { headers: { "x-gateway-fallbacks": " backup/claude-3-5-haiku-latest " } },
      },
    });
    assert.equal(res.text, completionText("backup"));
    const headers = res.sdkHttpResponse?.headers ?? {};
    assert.equal(headers["x-gateway-provider"], "backup");
    assert.equal(headers["x-gateway-fallback-index"], "1");
    assert.deepEqual(JSON.parse(headers["x-gateway-fallback-errors"]), [{
      provider: "primary",
      model: "gpt-4o-mini",
      status: 503,
      error_type: "transient",
    }]);
    assert.equal(mock.hits("primary"), 1);
    assert.equal(mock.hits("backup"), 1);

    // Streams fall over the same way before their first chunk.
    let text = "";
    const stream = await ai.models.generateContentStream({
      model: "primary/gpt-4o-mini",
      contents: "hello",
      config: {
        httpOptions: { headers: { "x-gateway-fallbacks": "backup/claude-3-5-haiku-latest" } },
      },
    });
    for await (const chunk of stream) text += chunk.text ?? "";
    assert.equal(text, completionText("backup"));
  });
});

Deno.test("the model may be URL-escaped, qualified with models/, or a route alias", async () => {
  await withGateway(async ({ ai, post, mock }) => {
    const escaped = await ai.models.generateContent({
      model: "primary%2Fgpt-4o-mini",
      contents: "hi",
    });
    assert.equal(escaped.text, completionText("primary"));
    const alias = await ai.models.generateContent({ model: "models/fast", contents: "hi" });
    assert.equal(alias.text, completionText("primary"));
    // Plain REST with the key in the query string, as curl examples do.
    const res = await post("/v1beta/models/primary/gpt-4o-mini:generateContent?key=abc", hello);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.candidates[0].content.role, "model");
    assert.equal(body.candidates[0].content.parts[0].text, completionText("primary"));
    assert.equal(mock.hits("primary"), 3);
  });
});

Deno.test("a Gemini-format provider behind the route: the adapter and the route round-trip", async () => {
  await withGateway(async ({ ai, mock }) => {
    const res = await ai.models.generateContent({ model: "gem/gemini-2.5-flash", contents: "hi" });
    assert.equal(res.text, completionText("gem"));
    assert.equal(res.modelVersion, "gemini-2.5-flash");
    let text = "";
    for await (
      const chunk of await ai.models.generateContentStream({
        model: "gem/gemini-2.5-flash",
        contents: "hi",
      })
    ) text += chunk.text ?? "";
    assert.equal(text, completionText("gem"));
    assert.equal(mock.hits("gem"), 2);
  });
});

Deno.test("without alt=sse a stream is one JSON array of responses, as Google sends it", async () => {
  await withGateway(async ({ post }) => {
    const res = await post("/v1beta/models/primary/gpt-4o-mini:streamGenerateContent", hello);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const list = await res.json();
    assert.ok(Array.isArray(list) && list.length > 1);
    const text = list.map((r: { candidates?: { content: { parts: { text?: string }[] } }[] }) =>
      r.candidates?.[0].content.parts.map((p) => p.text ?? "").join("") ?? ""
    ).join("");
    assert.equal(text, completionText("primary"));
    assert.equal(list.at(-1).candidates[0].finishReason, "STOP");
  });
});

Deno.test("errors come back in Google's shape; the SDK raises them as ApiError", async () => {
  await withGateway(async ({ ai, post, mock }) => {
    await assert.rejects(
      ai.models.generateContent({ model: "nope/gpt-4o-mini", contents: "hi" }),
      (e) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 400);
        assert.match(e.message, /unknown provider \\"nope\\"/);
        return true;
      },
    );
    const bad = await post("/v1/models/primary/gpt-4o-mini:generateContent", { contents: [] });
    assert.equal(bad.status, 400);
    const body = await bad.json();
    assert.equal(body.error.code, 400);
    assert.equal(body.error.status, "INVALID_ARGUMENT");
    assert.match(body.error.message, /^contents: must hold at least one Content/);
    assert.equal(body.error.details[0].metadata.param, "contents");

    mock.setFaults("primary", [{ kind: "rate_limit", retryAfterSec: 7 }]);
    const limited = await post("/v1/models/primary/gpt-4o-mini:generateContent", hello);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "7");
    const lb = await limited.json();
    assert.equal(lb.error.status, "RESOURCE_EXHAUSTED");
    assert.deepEqual(lb.error.details[1], {
      "@type": "type.googleapis.com/google.rpc.RetryInfo",
      retryDelay: "7s",
    });
    assert.equal(limited.headers.get("x-gateway-provider"), null);

    const missing = await post("/v1beta/models/primary/gpt-4o-mini:countTokens", hello);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.status, "NOT_FOUND");
  });
});

Deno.test("a stream cut after its first chunk ends with Google's error, which the SDK throws", async () => {
  await withGateway(async ({ ai, mock }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 2 }]);
    const stream = await ai.models.generateContentStream({
      model: "primary/gpt-4o-mini",
      contents: "hello",
    });
    let text = "";
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) text += chunk.text ?? "";
      })(),
      (e) => {
        assert.ok(e instanceof ApiError, String(e));
        assert.match(e.message, /primary failed mid-stream/);
        return true;
      },
    );
    assert.ok(text.length > 0 && completionText("primary").startsWith(text));
    assert.equal(mock.hits("primary"), 1, "the SDK does not resume a stream that failed");
  });
});
