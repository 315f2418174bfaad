// Azure OpenAI fixtures for the shared adapter contract, in the shapes of the Azure OpenAI REST
// reference and content-filtering docs: completions and chunks carry prompt_filter_results /
// content_filter_results, the stream opens with an annotation-only chunk, and errors use
// OpenAI's `{"error": {...}}` with Azure's codes.
import assert from "node:assert/strict";
import { type ContractCase, contractRequest } from "./harness.ts";

const filters = {
  hate: { filtered: false, severity: "safe" },
  self_harm: { filtered: false, severity: "safe" },
  sexual: { filtered: false, severity: "safe" },
  violence: { filtered: false, severity: "safe" },
};

const data = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
const chunk = (delta: unknown, finish: string | null = null) =>
  data({
    id: "chatcmpl-AZ1",
    object: "chat.completion.chunk",
    created: 1_730_000_000,
    model: "gpt-4o-2024-08-06",
    system_fingerprint: "fp_azure",
    choices: [{
      index: 0,
      delta,
      finish_reason: finish,
      logprobs: null,
      content_filter_results: finish ? {} : filters,
    }],
  });

export const contract: ContractCase = {
  family: "azure",
  ctx: {
    baseUrl: "https://contoso.openai.azure.com",
    settings: { deployments: { "contract-model": "gpt4o-prod" } },
  },
  request: contractRequest,
  expectRequest(up, body) {
    assert.equal(
      up.url,
      "https://contoso.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
    );
    assert.equal(up.headers["api-key"], "sk-contract");
    assert.equal(up.headers.authorization, undefined);
    const b = body as { model?: string; messages: unknown[]; max_tokens: number };
    assert.equal(b.model, undefined, "the deployment in the URL picks the model");
    assert.equal(b.messages.length, 2);
    assert.equal(b.max_tokens, 64);
  },
  response: {
    id: "chatcmpl-AZ1",
    object: "chat.completion",
    created: 1_730_000_000,
    model: "gpt-4o-2024-08-06",
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: filters }],
    choices: [{
      index: 0,
      finish_reason: "stop",
      logprobs: null,
      message: { role: "assistant", content: "Hello!", refusal: null },
      content_filter_results: filters,
    }],
    usage: { prompt_tokens: 18, completion_tokens: 3, total_tokens: 21 },
    system_fingerprint: "fp_azure",
  },
  expectResponse: {
    content: "Hello!",
    finishReason: "stop",
    usage: { prompt_tokens: 18, completion_tokens: 3, total_tokens: 21 },
  },
  stream: data({
    choices: [],
    created: 0,
    id: "",
    model: "",
    object: "",
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: filters }],
  }) +
    chunk({ role: "assistant", content: "" }) +
    chunk({ content: "Hel" }) +
    chunk({ content: "lo!" }) +
    chunk({}, "stop") +
    data({
      id: "chatcmpl-AZ1",
      object: "chat.completion.chunk",
      created: 1_730_000_000,
      model: "gpt-4o-2024-08-06",
      choices: [],
      usage: { prompt_tokens: 18, completion_tokens: 3, total_tokens: 21 },
    }) +
    "data: [DONE]\n\n",
  expectStream: { content: "Hello!", finishReason: "stop", usage: { total_tokens: 21 } },
  errors: [
    {
      // Content filtering concept page: the prompt was filtered; never retried elsewhere.
      status: 400,
      body: JSON.stringify({
        error: {
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
          type: null,
          param: "prompt",
          code: "content_filter",
          status: 400,
          innererror: {
            code: "ResponsibleAIPolicyViolation",
            content_filter_result: {
              hate: { filtered: true, severity: "high" },
              self_harm: { filtered: false, severity: "safe" },
              sexual: { filtered: false, severity: "safe" },
              violence: { filtered: false, severity: "safe" },
            },
          },
        },
      }),
      kind: "caller_fault",
    },
    {
      status: 429,
      headers: { "retry-after": "7" },
      body: JSON.stringify({
        error: {
          code: "429",
          message:
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 7 seconds.",
        },
      }),
      kind: "rate_limit",
    },
    {
      status: 401,
      body: JSON.stringify({
        error: {
          code: "401",
          message:
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        },
      }),
      kind: "auth",
    },
    {
      status: 404,
      body: JSON.stringify({
        error: {
          code: "DeploymentNotFound",
          message:
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
        },
      }),
      kind: "model_unavailable",
    },
    {
      status: 400,
      body: JSON.stringify({
        error: {
          message:
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens.",
          type: "invalid_request_error",
          param: "messages",
          code: "context_length_exceeded",
        },
      }),
      kind: "capability",
    },
    { status: 503, body: "Service Unavailable", kind: "transient" },
  ],
};
