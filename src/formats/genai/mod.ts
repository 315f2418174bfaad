// The Gemini API (Google's GenAI SDK) as an inbound wire format.
export { genaiGenerate, type GenaiParams } from "./format.ts";
