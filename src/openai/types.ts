// Canonical wire types: the OpenAI Chat Completions shapes every adapter translates to and from.

export type Role = "system" | "developer" | "user" | "assistant" | "tool";

export interface TextPart {
  type: "text";
  text: string;
}
export interface ImagePart {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}
export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: Role;
  content: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}

export interface ToolDefinition {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export type ToolChoice =
  | "none"
  | "auto"
  | "required"
  | { type: "function"; function: { name: string } };

/** The body a client sends (after validation). `model` is still "provider/model" here. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  fallbacks?: string[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string | string[];
  n?: number;
  seed?: number;
  user?: string;
  presence_penalty?: number;
  frequency_penalty?: number;
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  response_format?: { type: "text" | "json_object" | "json_schema"; json_schema?: unknown };
  /** Other OpenAI fields pass through untouched to OpenAI-compatible upstreams. */
  [extra: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: {
      role: "assistant";
      content: string | null;
      tool_calls?: ToolCall[];
      /** Required (string or null) by OpenAI's schema; translated answers carry null. */
      refusal?: string | null;
    };
    finish_reason: FinishReason | null;
    logprobs: unknown;
  }[];
  usage?: Usage;
  system_fingerprint?: string | null;
}

export interface ChunkToolCall {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

export interface ChatChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: "assistant"; content?: string | null; tool_calls?: ChunkToolCall[] };
    finish_reason: FinishReason | null;
    /** Required by OpenAI's schema in every chunk choice; translated chunks carry null. */
    logprobs?: unknown;
  }[];
  usage?: Usage | null;
}

/** OpenAI's error body. */
export interface ErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

/** POST /v1/embeddings body (after validation). `model` is "provider/model" here. */
export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  fallbacks?: string[];
  encoding_format?: "float" | "base64";
  dimensions?: number;
  user?: string;
  [extra: string]: unknown;
}

export interface EmbeddingsResponse {
  object: "list";
  data: { object: "embedding"; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}
