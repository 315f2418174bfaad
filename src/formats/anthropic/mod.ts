// Anthropic's Messages API as an inbound wire format.
export { anthropicMessages } from "./format.ts";
