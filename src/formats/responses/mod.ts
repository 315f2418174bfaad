// OpenAI's Responses API as an inbound wire format, and its stored-response routes.
export { RESPONSES_PATH, responsesFormat } from "./format.ts";
export type { ResponsesDeps } from "./format.ts";
export { deleteResponse, getResponse, listInputItems } from "./stored.ts";
