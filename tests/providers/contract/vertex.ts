// Google Vertex AI fixtures for the shared adapter contract, with a Gemini model (the Claude path
// is covered in tests/providers/vertex/adapter_test.ts): URLs and bodies per Vertex AI's REST
// reference (projects.locations.publishers.models.generateContent / streamGenerateContent), errors
// in Google's shape {"error": {"code", "message", "status"}}, and a Claude model's own errors in
// Anthropic's shape.
import assert from "node:assert/strict";
import { expectGeminiBody, googleError, sse } from "./gemini.ts";
import { type ContractCase, contractRequest } from "./harness.ts";

const BASE = "https://us-central1-aiplatform.googleapis.com/v1/projects/proj/locations/us-central1";

export const contract: ContractCase = {
  family: "vertex",
  ctx: {
    baseUrl: BASE,
    model: "gemini-2.5-flash",
    settings: { accessToken: () => Promise.resolve("ya29.contract") },
  },
  request: contractRequest,
  expectRequest(up, body) {
    assert.equal(up.url, `${BASE}/publishers/google/models/gemini-2.5-flash:generateContent`);
    assert.equal(up.headers.authorization, "Bearer ya29.contract");
    assert.equal(up.headers["x-goog-api-key"], undefined, "no API key next to the OAuth token");
    expectGeminiBody(body);
  },
  response: {
    candidates: [{
      content: { role: "model", parts: [{ text: "Hello!" }] },
      finishReason: "STOP",
      avgLogprobs: -0.12,
    }],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 },
    modelVersion: "gemini-2.5-flash",
    createTime: "2026-12-05T06:00:00.000000Z",
    responseId: "vertex-resp-1",
  },
  expectResponse: {
    content: "Hello!",
    finishReason: "stop",
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  },
  stream: sse({
    candidates: [{ content: { role: "model", parts: [{ text: "Hel" }] } }],
    usageMetadata: {},
    modelVersion: "gemini-2.5-flash",
  }) +
    sse({
      candidates: [{ content: { role: "model", parts: [{ text: "lo!" }] }, finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 },
      modelVersion: "gemini-2.5-flash",
    }),
  expectStream: {
    content: "Hello!",
    finishReason: "stop",
    usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  },
  errors: [
    {
      status: 429,
      body: googleError(429, "RESOURCE_EXHAUSTED", "Resource exhausted. Please try again later."),
      kind: "rate_limit",
    },
    {
      status: 401,
      body: googleError(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token.",
      ),
      kind: "auth",
    },
    {
      status: 403,
      body: googleError(
        403,
        "PERMISSION_DENIED",
        "Permission 'aiplatform.endpoints.predict' denied on resource (or it may not exist).",
      ),
      kind: "auth",
    },
    {
      status: 404,
      body: googleError(
        404,
        "NOT_FOUND",
        "Publisher Model `projects/proj/locations/us-central1/publishers/google/models/gemini-9` not found.",
      ),
      kind: "model_unavailable",
    },
    {
      status: 400,
      body: googleError(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
      kind: "caller_fault",
    },
    {
      status: 500,
      body: googleError(500, "INTERNAL", "Internal error encountered."),
      kind: "transient",
    },
    {
      status: 529,
      body: JSON.stringify({
        type: "error",
        error: { type: "overloaded_error", message: "Overloaded" },
      }),
      kind: "transient",
    },
  ],
};
