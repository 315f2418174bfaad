// Where POST /v1/responses keeps its answers, so `previous_response_id` and GET
// /v1/responses/{id} work: one small interface, served in memory or by a NATS KV bucket.

/** One Responses API item (message, function_call, function_call_output, reasoning …). */
export type Item = Record<string, unknown>;

/** A response as kept: what came before it, what it was asked, and what it answered. */
export interface StoredResponse {
  id: string;
  /** The virtual key that created it: only that key may read it (none while keys are off). */
  caller?: string;
  /** The items before this turn: the previous response's whole conversation, in order. */
  history: Item[];
  /** This turn's input items, each with an id (GET /v1/responses/{id}/input_items). */
  input: Item[];
  /** The Response object as it was answered (its `output` holds the output items). */
  response: Record<string, unknown> & { output: Item[] };
}

/** The store could not be reached: the call answers 503 rather than lose the conversation. */
export class ResponseStoreUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResponseStoreUnavailable";
  }
}

export interface ResponseStore {
  /** For the start-up lines. */
  readonly describe: string;
  /** The stored response, or undefined when unknown or expired. */
  get(id: string): Promise<StoredResponse | undefined>;
  put(r: StoredResponse): Promise<void>;
  /** Whether it was there. */
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The whole conversation a response ends: history, its input, its output. */
export const conversationOf = (r: StoredResponse): Item[] => [
  ...r.history,
  ...r.input,
  ...r.response.output,
];
