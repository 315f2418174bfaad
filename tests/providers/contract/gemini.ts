// Google Gemini API fixtures for the shared adapter contract, shaped as in Google's reference
// (ai.google.dev/api/generate-content) and its troubleshooting page's error table.
import assert from "node:assert/strict";
import { type ContractCase, contractRequest } from "./harness.ts";

export const sse = (data: unknown) => `data: ${JSON.stringify(data)}\r\n\r\n`;
export const googleError = (code: number, status: string, message: string, details?: unknown[]) =>
  JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });

/** The contract request as a generateContent body (the Gemini API's, and Vertex's for Gemini). */
export function expectGeminiBody(body: unknown) {
  const b = body as {
    contents: { role: string; parts: unknown[] }[];
    systemInstruction: { parts: { text: string }[] };
    generationConfig: { maxOutputTokens: number; temperature: number };
  };
  assert.deepEqual(b.contents, [{ role: "user", parts: [{ text: "Say hello." }] }]);
  assert.deepEqual(b.systemInstruction, { parts: [{ text: "Be brief." }] });
  assert.equal(b.generationConfig.maxOutputTokens, 64);
  assert.equal(b.generationConfig.temperature, 0.5);
}

export const contract: ContractCase = {
  family: "gemini",
  ctx: { baseUrl: "https://generativelanguage.googleapis.com/v1beta" },
  request: contractRequest,
  expectRequest(up, body) {
    assert.equal(
      up.url,
      "https://generativelanguage.googleapis.com/v1beta/models/contract-model:generateContent",
    );
    assert.equal(up.headers["x-goog-api-key"], "sk-contract");
    assert.equal(up.headers.authorization, undefined);
    expectGeminiBody(body);
  },
  response: {
    candidates: [{
      content: { role: "model", parts: [{ text: "Hello!" }] },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: {
      promptTokenCount: 12,
      candidatesTokenCount: 3,
      totalTokenCount: 15,
      cachedContentTokenCount: 4,
    },
    modelVersion: "gemini-2.5-flash",
    responseId: "resp-1",
  },
  expectResponse: {
    content: "Hello!",
    finishReason: "stop",
    usage: {
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 4 },
    },
  },
  stream: sse({
    candidates: [{ content: { role: "model", parts: [{ text: "Hel" }] }, index: 0 }],
    usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
    modelVersion: "gemini-2.5-flash",
    responseId: "resp-1",
  }) +
    sse({
      candidates: [{
        content: { role: "model", parts: [{ text: "lo!" }] },
        finishReason: "MAX_TOKENS",
        index: 0,
      }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 },
      modelVersion: "gemini-2.5-flash",
      responseId: "resp-1",
    }),
  expectStream: {
    content: "Hello!",
    finishReason: "length",
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  },
  errors: [
    {
      status: 429,
      body: googleError(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "22s" }],
      ),
      kind: "rate_limit",
    },
    {
      status: 400,
      body: googleError(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
      kind: "caller_fault",
    },
    {
      status: 400,
      body: googleError(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "API_KEY_INVALID",
            domain: "googleapis.com",
          },
        ],
      ),
      kind: "auth",
    },
    {
      status: 404,
      body: googleError(
        404,
        "NOT_FOUND",
        "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.",
      ),
      kind: "model_unavailable",
    },
    {
      status: 403,
      body: googleError(403, "PERMISSION_DENIED", "The caller does not have permission"),
      kind: "auth",
    },
    {
      status: 503,
      body: googleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
      kind: "transient",
    },
  ],
};
