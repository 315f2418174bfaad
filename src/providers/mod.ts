// The public surface of the providers folder: import from here, never from deeper files.
export type {
  AdapterContext,
  ProviderAdapter,
  StreamDecoder,
  UpstreamErrorInfo,
  UpstreamRequest,
} from "./adapter.ts";
export { UpstreamStreamError } from "./adapter.ts";
export { encodeSse, parseSse, type SseEvent } from "./sse.ts";
export {
  classifyHttpFailure,
  classifyNetworkError,
  classifyStreamError,
  type Failure,
  isCallerFault,
  parseRetryAfterMs,
} from "./classifier.ts";
export { ADAPTER_FAMILIES, adapterFor } from "./families.ts";
export { openaiAdapter } from "./openai/adapter.ts";
export { anthropicAdapter } from "./anthropic/adapter.ts";
