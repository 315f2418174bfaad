// AWS Bedrock Converse / ConverseStream fixtures for the shared adapter contract. The stream is
// the raw application/vnd.amazon.eventstream bytes, built from the event payloads documented in
// the Bedrock API reference (API_runtime_ConverseStreamOutput and the *Event shapes it names).
import assert from "node:assert/strict";
import { eventFrame } from "../../../src/providers/bedrock/eventstream.ts";
import { signRequest } from "../../../src/providers/bedrock/sigv4.ts";
import { concat } from "../fixtures/load.ts";
import { baseCtx, type ContractCase, contractRequest } from "./harness.ts";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const BASE = "https://bedrock-runtime.us-east-1.amazonaws.com";
const MODEL = "anthropic.claude-3-haiku-20240307-v1:0";

export const contract: ContractCase = {
  family: "bedrock",
  ctx: {
    baseUrl: BASE,
    apiKey: "",
    model: MODEL,
    settings: { region: "us-east-1", credentials },
  },
  request: contractRequest,
  async expectRequest(up, body) {
    assert.equal(up.url, `${BASE}/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse`);
    assert.ok(
      up.headers.authorization.startsWith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/bedrock/aws4_request, ",
      ),
      up.headers.authorization,
    );
    assert.equal(up.headers["x-amz-date"], "20231114T221320Z"); // ctx.now, 1_700_000_000_000
    // The signature is over exactly what is sent.
    const { authorization: _, "x-amz-date": _d, "x-amz-content-sha256": _h, ...sent } = up.headers;
    const again = await signRequest({
      method: "POST",
      url: up.url,
      headers: sent,
      body: up.body,
      region: "us-east-1",
      service: "bedrock",
      credentials,
      now: baseCtx.now,
      contentSha256: true,
    });
    assert.equal(up.headers.authorization, again.authorization);
    assert.deepEqual(body, {
      messages: [{ role: "user", content: [{ text: "Say hello." }] }],
      system: [{ text: "Be brief." }],
      inferenceConfig: { maxTokens: 64, temperature: 0.5 },
    });
  },
  response: {
    output: { message: { role: "assistant", content: [{ text: "Hello!" }] } },
    stopReason: "end_turn",
    usage: { inputTokens: 10, outputTokens: 3, totalTokens: 15, cacheReadInputTokens: 2 },
    metrics: { latencyMs: 312 },
  },
  expectResponse: {
    content: "Hello!",
    finishReason: "stop",
    usage: {
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 2 },
    },
  },
  stream: concat([
    eventFrame("messageStart", { role: "assistant" }),
    eventFrame("contentBlockDelta", { delta: { text: "Hel" }, contentBlockIndex: 0 }),
    eventFrame("contentBlockDelta", { delta: { text: "lo!" }, contentBlockIndex: 0 }),
    eventFrame("contentBlockStop", { contentBlockIndex: 0 }),
    eventFrame("messageStop", { stopReason: "max_tokens" }),
    eventFrame("metadata", {
      usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 },
      metrics: { latencyMs: 240 },
    }),
  ]),
  expectStream: {
    content: "Hello!",
    finishReason: "length",
    usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
  },
  errors: [
    {
      status: 429,
      headers: { "x-amzn-errortype": "ThrottlingException" },
      body: JSON.stringify({ message: "Too many requests, please wait before trying again." }),
      kind: "rate_limit",
    },
    {
      status: 400,
      body: JSON.stringify({ message: "The provided model identifier is invalid." }),
      kind: "model_unavailable",
    },
    {
      status: 403,
      body: JSON.stringify({
        message: "You don't have access to the model with the specified model ID.",
      }),
      kind: "model_unavailable",
    },
    {
      status: 403,
      body: JSON.stringify({ message: "The security token included in the request is invalid." }),
      kind: "auth",
    },
    {
      status: 400,
      body: JSON.stringify({ message: "Input is too long for requested model." }),
      kind: "capability",
    },
    {
      status: 424,
      body: JSON.stringify({ message: "Received 500 from the model. Try your request again." }),
      kind: "transient",
    },
    {
      status: 408,
      body: JSON.stringify({ message: "Model has timed out in processing the request." }),
      kind: "timeout",
    },
    { status: 503, body: JSON.stringify({ message: "Service unavailable." }), kind: "transient" },
  ],
};
