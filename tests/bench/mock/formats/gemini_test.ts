import assert from "node:assert/strict";
import { ApiError, GoogleGenAI } from "@google/genai";
import { completionText } from "../../../../bench/mock/mod.ts";
import { embedding } from "../../../../bench/mock/formats/mod.ts";
import { drain, parseSse, post, withMock } from "./_helpers.ts";

const BODY = {
  systemInstruction: { parts: [{ text: "Be brief." }] },
  contents: [{ role: "user", parts: [{ text: "Say hello please" }] }],
};
const GENERATE = "/g1/v1beta/models/gemini-test:generateContent";
const STREAM = "/g1/v1beta/models/gemini-test:streamGenerateContent";

Deno.test("gemini generateContent: a GenerateContentResponse with STOP and usageMetadata", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, GENERATE, BODY);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^application\/json/);
    assert.deepEqual(await res.json(), {
      candidates: [{
        content: { parts: [{ text: completionText("g1") }], role: "model" },
        finishReason: "STOP",
        index: 0,
      }],
      // "Be brief." + "Say hello please" = 25 chars → 7 tokens; 64 chars of text → 16.
      usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 16, totalTokenCount: 23 },
      modelVersion: "gemini-test",
      responseId: "resp_g1_1",
    });
  });
});

Deno.test("gemini streamGenerateContent?alt=sse: CRLF events, no [DONE], the last one finishes", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, `${STREAM}?alt=sse`, BODY);
    assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
    const text = await res.text();
    assert.ok(text.endsWith("}\r\n\r\n"), "events end with CRLF CRLF");
    const events = parseSse(text).map((f) => JSON.parse(f.data));
    assert.equal(events.length, 4);
    assert.ok(!text.includes("[DONE]"));
    assert.equal(
      events.map((e) => e.candidates[0].content.parts[0].text).join(""),
      completionText("g1"),
    );
    assert.deepEqual(events.map((e) => e.candidates[0].finishReason), [
      undefined,
      undefined,
      undefined,
      "STOP",
    ]);
    // Running counts on the way; the last event carries the call's usage.
    assert.deepEqual(events.map((e) => e.usageMetadata.candidatesTokenCount), [4, 8, 12, 16]);
    assert.deepEqual(events.at(-1).usageMetadata, {
      promptTokenCount: 7,
      candidatesTokenCount: 16,
      totalTokenCount: 23,
    });
    assert.ok(
      events.every((e) => e.responseId === "resp_g1_1" && e.modelVersion === "gemini-test"),
    );
  });
});

Deno.test("gemini streamGenerateContent without alt=sse streams one JSON array", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, STREAM, BODY);
    assert.match(res.headers.get("content-type")!, /^application\/json/);
    const events = await res.json();
    assert.ok(Array.isArray(events) && events.length === 4);
    assert.equal(events.at(-1).candidates[0].finishReason, "STOP");
  });
});

Deno.test("gemini embedContent and batchEmbedContents: one vector per text", async () => {
  await withMock(async (mock) => {
    let res = await post(mock, "/g1/v1beta/models/text-embedding-004:embedContent", {
      content: { parts: [{ text: "hello" }] },
    });
    assert.deepEqual(await res.json(), { embedding: { values: embedding("hello") } });
    res = await post(mock, "/g1/v1beta/models/text-embedding-004:batchEmbedContents", {
      requests: ["a", "b"].map((text) => ({
        model: "models/text-embedding-004",
        content: { parts: [{ text }] },
        outputDimensionality: 8,
      })),
    });
    assert.deepEqual(await res.json(), {
      embeddings: [{ values: embedding("a", 8) }, { values: embedding("b", 8) }],
    });
    assert.equal(mock.hits("g1"), 2);
  });
});

Deno.test("gemini errors: {error: {code, message, status}} with the documented status names", async () => {
  await withMock(async (mock) => {
    let res = await post(mock, GENERATE, { contents: [] });
    assert.equal(res.status, 400);
    const invalid = await res.json();
    assert.deepEqual(Object.keys(invalid.error).sort(), ["code", "message", "status"]);
    assert.equal(invalid.error.code, 400);
    assert.equal(invalid.error.status, "INVALID_ARGUMENT");
    assert.match(invalid.error.message, /contents/);

    mock.setFaults("g1", [{ kind: "status", status: 503, retryAfterSec: 4 }]);
    res = await post(mock, GENERATE, BODY);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "4");
    assert.equal((await res.json()).error.status, "UNAVAILABLE");

    mock.setFaults("g1", [{ kind: "rate_limit", retryAfterSec: 7 }]);
    res = await post(mock, GENERATE, BODY);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "7");
    const limited = (await res.json()).error;
    assert.equal(limited.status, "RESOURCE_EXHAUSTED");
    const types = limited.details.map((d: { "@type": string }) => d["@type"]);
    assert.deepEqual(types, [
      "type.googleapis.com/google.rpc.QuotaFailure",
      "type.googleapis.com/google.rpc.RetryInfo",
    ]);
    assert.equal(limited.details[1].retryDelay, "7s");
    assert.match(limited.details[0].violations[0].quotaId, /PerMinute/);

    mock.setFaults("g1", [{ kind: "quota" }]);
    res = await post(mock, GENERATE, BODY);
    assert.equal(res.status, 429);
    const spent = (await res.json()).error;
    assert.match(spent.message, /exceeded your current quota/);
    assert.match(spent.details[0].violations[0].quotaId, /PerDay/);
  });
});

Deno.test("gemini cut and malformed streams: no finishReason, then a broken connection", async () => {
  await withMock(async (mock) => {
    mock.setFaults("g1", [{ kind: "cut", afterChunks: 1, times: 1 }, { kind: "malformed" }]);
    const cut = await drain(await post(mock, `${STREAM}?alt=sse`, BODY));
    assert.ok(cut.error);
    const events = parseSse(cut.text).map((f) => JSON.parse(f.data));
    assert.equal(events.length, 1);
    assert.equal(events[0].candidates[0].finishReason, undefined);
    const bad = parseSse(await (await post(mock, `${STREAM}?alt=sse`, BODY)).text());
    assert.throws(() => JSON.parse(bad[0].data), SyntaxError);
  });
});

Deno.test("the @google/genai SDK talks to the mock: generate, stream, embed, typed 429", async () => {
  await withMock(async (mock) => {
    const ai = new GoogleGenAI({ apiKey: "test", httpOptions: { baseUrl: `${mock.url}/g1` } });
    const answer = await ai.models.generateContent({ model: "gemini-x", contents: "hello" });
    assert.equal(answer.text, completionText("g1"));
    assert.equal(answer.usageMetadata?.candidatesTokenCount, 16);
    let text = "";
    const stream = await ai.models.generateContentStream({ model: "gemini-x", contents: "hi" });
    for await (const chunk of stream) text += chunk.text;
    assert.equal(text, completionText("g1"));
    const embedded = await ai.models.embedContent({ model: "e", contents: ["a", "b"] });
    assert.deepEqual(embedded.embeddings?.map((e) => e.values), [embedding("a"), embedding("b")]);
    mock.setFaults("g1", [{ kind: "rate_limit", times: 1 }]);
    await assert.rejects(
      ai.models.generateContent({ model: "gemini-x", contents: "hello" }),
      (e: unknown) => e instanceof ApiError && e.status === 429,
    );
    assert.equal(mock.hits("g1"), 4);
  });
});
