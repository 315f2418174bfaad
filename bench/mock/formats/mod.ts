// The wire formats the mock speaks, in the order the server tries their routes, and the
// building blocks a test needs to check them (the event-stream encoder and its CRC32, the
// deterministic embedding vectors).
import { anthropic } from "./anthropic.ts";
import { azure } from "./azure.ts";
import { bedrock } from "./bedrock.ts";
import { cohere } from "./cohere.ts";
import type { MockFormat } from "./format.ts";
import { gemini } from "./gemini.ts";
import { openai } from "./openai.ts";

export const FORMATS: readonly MockFormat[] = [openai, anthropic, azure, gemini, bedrock, cohere];

export { anthropic, azure, bedrock, cohere, gemini, openai };
export { crc32, encodeEvent, encodeMessage } from "./eventstream.ts";
export { DEFAULT_DIMENSIONS, embedding, endsWithAssistant } from "./wire.ts";
export type {
  Chunk,
  Json,
  MockCall,
  MockContent,
  MockErrorSpec,
  MockFormat,
  MockReply,
  MockRoute,
  Refusal,
  RetryAfter,
} from "./format.ts";
