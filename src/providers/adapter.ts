// The adapter interface: one implementation per provider wire format. Adapters are pure
// translators: they never fetch, never read the clock and never classify failures themselves.
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "../openai/types.ts";
import type { SseEvent } from "./sse.ts";

/** Provider-specific settings from config that only some adapters use. */
export interface ProviderSettings {
  /** Azure OpenAI: `api-version` query value. */
  apiVersion?: string;
  /** Azure OpenAI: model name → deployment name (a model without one is its own deployment). */
  deployments?: Readonly<Record<string, string>>;
  /** AWS Bedrock: region, e.g. "us-east-1". */
  region?: string;
  /** AWS Bedrock: resolved credentials for SigV4. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * OpenAI, Azure: the upstream serves the Responses API, so calls that came in on
   * POST /v1/responses are passed through to it (src/providers/openai/responses_api.ts).
   */
  responsesApi?: boolean;
  /**
   * Google Vertex AI: the provider's OAuth access token (a service account's, cached and
   * refreshed). Throws an UpstreamStreamError (401: auth) when the token cannot be had.
   */
  accessToken?: () => Promise<string>;
  /** Static extra headers sent upstream (e.g. OpenRouter's HTTP-Referer / X-Title). */
  headers?: Readonly<Record<string, string>>;
}

/** What the supervisor hands an adapter for one attempt. */
export interface AdapterContext {
  /** Provider base URL from config, without trailing slash, e.g. "https://api.openai.com/v1". */
  baseUrl: string;
  /** Resolved secret for the chosen key ("" when the provider needs none, e.g. a local vLLM). */
  apiKey: string;
  /** The upstream model name (the part after "provider/"). */
  model: string;
  stream: boolean;
  /** Unix seconds, for `created` fields the upstream does not give. */
  nowSec: number;
  /** Id to use for completions when the upstream has none of its own. */
  id: string;
  /** Epoch milliseconds, for request signing (SigV4). */
  now: number;
  settings: ProviderSettings;
}

export interface UpstreamRequest {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string | Uint8Array<ArrayBuffer>;
}

/** An error as the provider described it, before classification. */
export interface UpstreamErrorInfo {
  message: string;
  /** Provider's error type, e.g. "rate_limit_error", "insufficient_quota", "overloaded_error". */
  type?: string;
  /** Provider's error code, e.g. "context_length_exceeded", "model_not_found". */
  code?: string;
  param?: string;
}

/** An error reported inside a 200 stream (e.g. Anthropic's `event: error`). */
export class UpstreamStreamError extends Error {
  constructor(readonly info: UpstreamErrorInfo, readonly status?: number) {
    super(info.message);
    this.name = "UpstreamStreamError";
  }
}

/** Turns one upstream SSE stream into OpenAI chunks. Stateful: one decoder per attempt. */
export interface StreamDecoder {
  /** Chunks produced by this event (possibly none). Throws UpstreamStreamError on an error event. */
  push(event: SseEvent): ChatChunk[];
  /** True once the upstream signalled a normal end of stream ([DONE], message_stop, …). */
  readonly finished: boolean;
}

export interface ProviderAdapter {
  /** Adapter family, the `type` in config: "openai", "anthropic", … */
  readonly family: string;
  /** May be async (request signing). Throws when the request cannot be expressed: a caller fault. */
  buildChatRequest(
    request: ChatRequest,
    ctx: AdapterContext,
  ): UpstreamRequest | Promise<UpstreamRequest>;
  /** Maps a 2xx JSON body to an OpenAI completion. Throws on a body that is not the expected shape. */
  parseChatResponse(body: unknown, ctx: AdapterContext): ChatCompletion;
  createStreamDecoder(ctx: AdapterContext): StreamDecoder;
  /** Extracts the provider's error description from a non-2xx body (which may not be JSON). */
  parseError(status: number, bodyText: string): UpstreamErrorInfo;
  /**
   * Splits a 2xx streaming body into events for the decoder. Default: Server-Sent Events. Formats
   * that are not SSE (Bedrock's binary event stream) map each frame to {event, data}.
   */
  readStream?(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseEvent>;
  /** Embeddings, for families that have them. */
  buildEmbeddingsRequest?(
    request: EmbeddingsRequest,
    ctx: AdapterContext,
  ): UpstreamRequest | Promise<UpstreamRequest>;
  parseEmbeddingsResponse?(body: unknown, ctx: AdapterContext): EmbeddingsResponse;
}
