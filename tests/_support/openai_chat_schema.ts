// The parts of OpenAI's published OpenAPI spec (openai/openai-openapi, openapi.yaml) that a chat
// answer must match: CreateChatCompletionResponse, CreateChatCompletionStreamResponse,
// ChatCompletionResponseMessage, ChatCompletionStreamResponseDelta, the tool-call shapes and
// CompletionUsage, with their required fields and types, as JSON Schema for ajv. No npm package
// ships the spec (npm has no `openai-openapi`), so these components are written out here from the
// documented spec; extra properties are allowed, as the spec allows them.
// Stream choices also require `logprobs` (null when not asked for), as OpenAI sends it.

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: "null" }] });

const FINISH_REASONS = ["stop", "length", "tool_calls", "content_filter", "function_call"];

const logprobs = nullable({
  type: "object",
  required: ["content", "refusal"],
  properties: {
    content: nullable({ type: "array" }),
    refusal: nullable({ type: "array" }),
  },
});

const CompletionUsage = {
  type: "object",
  required: ["prompt_tokens", "completion_tokens", "total_tokens"],
  properties: {
    prompt_tokens: { type: "integer" },
    completion_tokens: { type: "integer" },
    total_tokens: { type: "integer" },
    prompt_tokens_details: {
      type: "object",
      properties: { cached_tokens: { type: "integer" }, audio_tokens: { type: "integer" } },
    },
    completion_tokens_details: {
      type: "object",
      properties: {
        reasoning_tokens: { type: "integer" },
        audio_tokens: { type: "integer" },
        accepted_prediction_tokens: { type: "integer" },
        rejected_prediction_tokens: { type: "integer" },
      },
    },
  },
};

const ChatCompletionMessageToolCall = {
  type: "object",
  required: ["id", "type", "function"],
  properties: {
    id: { type: "string" },
    type: { enum: ["function"] },
    function: {
      type: "object",
      required: ["name", "arguments"],
      properties: { name: { type: "string" }, arguments: { type: "string" } },
    },
  },
};

export const ChatCompletionResponseMessage = {
  type: "object",
  required: ["content", "refusal", "role"],
  properties: {
    content: nullable({ type: "string" }),
    refusal: nullable({ type: "string" }),
    tool_calls: { type: "array", items: ChatCompletionMessageToolCall },
    annotations: { type: "array" },
    role: { enum: ["assistant"] },
    audio: nullable({ type: "object" }),
  },
};

export const CreateChatCompletionResponse = {
  type: "object",
  required: ["choices", "created", "id", "model", "object"],
  properties: {
    id: { type: "string" },
    choices: {
      type: "array",
      items: {
        type: "object",
        required: ["finish_reason", "index", "message", "logprobs"],
        properties: {
          finish_reason: { enum: FINISH_REASONS },
          index: { type: "integer" },
          message: ChatCompletionResponseMessage,
          logprobs,
        },
      },
    },
    created: { type: "integer" },
    model: { type: "string" },
    service_tier: nullable({ type: "string" }),
    system_fingerprint: nullable({ type: "string" }),
    object: { enum: ["chat.completion"] },
    usage: CompletionUsage,
  },
};

const ChatCompletionMessageToolCallChunk = {
  type: "object",
  required: ["index"],
  properties: {
    index: { type: "integer" },
    id: { type: "string" },
    type: { enum: ["function"] },
    function: {
      type: "object",
      properties: { name: { type: "string" }, arguments: { type: "string" } },
    },
  },
};

const ChatCompletionStreamResponseDelta = {
  type: "object",
  properties: {
    content: nullable({ type: "string" }),
    tool_calls: { type: "array", items: ChatCompletionMessageToolCallChunk },
    role: { enum: ["developer", "system", "user", "assistant", "tool"] },
    refusal: nullable({ type: "string" }),
  },
};

export const CreateChatCompletionStreamResponse = {
  type: "object",
  required: ["choices", "created", "id", "model", "object"],
  properties: {
    id: { type: "string" },
    choices: {
      type: "array",
      items: {
        type: "object",
        required: ["delta", "finish_reason", "index", "logprobs"],
        properties: {
          delta: ChatCompletionStreamResponseDelta,
          logprobs,
          finish_reason: nullable({ enum: FINISH_REASONS }),
          index: { type: "integer" },
        },
      },
    },
    created: { type: "integer" },
    model: { type: "string" },
    service_tier: nullable({ type: "string" }),
    system_fingerprint: nullable({ type: "string" }),
    object: { enum: ["chat.completion.chunk"] },
    usage: nullable(CompletionUsage),
  },
};
