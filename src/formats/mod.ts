// Inbound wire formats: the interface every format implements, the one route that serves them,
// and the formats the gateway mounts.
export type { FormatCall, JsonAnswer, Target, WireFormat } from "./wire_format.ts";
export { formatRoute } from "./route.ts";
export { openaiChat, openaiError } from "./openai/mod.ts";
export { anthropicMessages } from "./anthropic/mod.ts";
export { genaiGenerate } from "./genai/mod.ts";
export { bedrockConverse } from "./bedrock/mod.ts";
