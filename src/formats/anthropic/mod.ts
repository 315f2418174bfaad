// Anthropic's Messages API as an inbound wire format.
export { anthropicMessages } from "./format.ts";
export { countTokens } from "./count_tokens.ts";
