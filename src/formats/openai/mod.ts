// OpenAI's chat completions as an inbound wire format.
export { openaiChat } from "./format.ts";
export { openaiError } from "./errors.ts";
