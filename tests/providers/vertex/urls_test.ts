import assert from "node:assert/strict";
import {
  isClaudeModel,
  publisherModelUrl,
  vertexBaseUrl,
  vertexHost,
} from "../../../src/providers/vertex/urls.ts";

Deno.test("vertex host: regional, except the global location", () => {
  assert.equal(vertexHost("us-central1"), "https://us-central1-aiplatform.googleapis.com");
  assert.equal(vertexHost("europe-west4"), "https://europe-west4-aiplatform.googleapis.com");
  assert.equal(vertexHost("global"), "https://aiplatform.googleapis.com");
});

Deno.test("vertex base URL: project and location under /v1; baseUrl replaces only the host", () => {
  assert.equal(
    vertexBaseUrl("my-proj", "us-central1"),
    "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1",
  );
  assert.equal(
    vertexBaseUrl("my-proj", "global"),
    "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global",
  );
  assert.equal(
    vertexBaseUrl("my-proj", "europe-west1", "http://127.0.0.1:9000/"),
    "http://127.0.0.1:9000/v1/projects/my-proj/locations/europe-west1",
  );
});

Deno.test("publisher model URLs: Google and Anthropic models, methods with queries, @ versions", () => {
  const base = "https://h/v1/projects/p/locations/l";
  assert.equal(
    publisherModelUrl(base, "google", "gemini-2.5-flash", "streamGenerateContent?alt=sse"),
    `${base}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse`,
  );
  assert.equal(
    publisherModelUrl(base, "anthropic", "claude-sonnet-4-5@20250929", "rawPredict"),
    `${base}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`,
  );
  // A model is one path segment: a slash cannot walk to another resource.
  assert.equal(
    publisherModelUrl(base, "google", "a/b", "predict"),
    `${base}/publishers/google/models/a%2Fb:predict`,
  );
});

Deno.test("Claude models are told apart by name", () => {
  assert.ok(isClaudeModel("claude-3-5-haiku@20241022"));
  assert.ok(isClaudeModel("claude-opus-4-1@20250805"));
  assert.ok(!isClaudeModel("gemini-2.5-pro"));
  assert.ok(!isClaudeModel("text-embedding-005"));
});
