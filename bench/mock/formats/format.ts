// The contract between the mock's server core and one provider wire format.
//
// The core (../server.ts) owns everything that is the same for every provider: targets, fault
// queues, hit counters, latency, hangs, the timing of cut streams and shutdown. A format owns
// only what the provider's documentation fixes: which paths it answers, how it reads a request,
// and the exact bytes of its answers and error bodies. For each request the core calls:
//
//   match (first format that claims the path wins) → hit counted → admit → body parsed → model,
//   streaming → fault picked (by target, model, prefill) → latency → the fault's answer (error |
//   rateLimit | quota | reject | an answer cut short, stalled, held back or with a malformed
//   event | malformed), or → validate → prompt → answer
//
// Formats are stateless objects; everything a call needs arrives in `MockCall`.

export type Json = Record<string, unknown>;

/** One write on the wire: text is sent as UTF-8, bytes as they are. */
export type Chunk = string | Uint8Array;

/** What a format recognised in a path: the operation, and what the path itself decides. */
export interface MockRoute {
  /** "chat" answers with the target's completion text; "embed" with vectors (JSON only). */
  operation: "chat" | "embed";
  /** The model the path names (Gemini, Bedrock, an Azure deployment); else the body names it. */
  model?: string;
  /** Set when the path, not the body, decides streaming (Gemini, Bedrock). */
  stream?: boolean;
}

/** One request on a model route, as the format sees it. */
export interface MockCall {
  target: string;
  /** 1-based count of requests on this target, this one included (ids are built from it). */
  seq: number;
  route: MockRoute;
  /** The parsed JSON body; `{}` when it was not a JSON object. */
  body: Json;
  /** From `format.model(body, route)`. */
  model: string;
  /** From `format.streaming(body, route)`. */
  stream: boolean;
  req: Request;
  url: URL;
}

/** The text a chat answer carries, already sized and split by the core. */
export interface MockContent {
  /** The whole completion text: `completionText(target, completionBytes)`. */
  text: string;
  /** The pieces to stream, in order; fewer than all when the stream is to be cut. */
  pieces: string[];
  /** Token counts (≈ chars / 4) of the prompt (`format.prompt`) and of `text`. */
  input: number;
  output: number;
  /** false: the stream will be cut after `pieces`, so send no finish, usage or terminator. */
  complete: boolean;
}

/** Overrides a status fault carries (see `Fault`); each format maps them onto its own body. */
export interface MockErrorSpec {
  type?: string;
  code?: string | null;
  message?: string;
  param?: string | null;
}

/** The wait a rate-limit fault asks for; the core also sends it as Retry-After(-Ms) headers. */
export interface RetryAfter {
  sec: number;
  ms?: number;
}

/** A successful (or deliberately broken) answer: headers, then the chunks in order. */
export interface MockReply {
  headers: Record<string, string>;
  chunks: Chunk[];
  /** Streams: the index of the chunk with the first content piece; one chunk per piece follows. */
  firstPiece?: number;
  /** Streams: the last chunk is a bare end marker after finish and usage ([DONE], message_stop). */
  endMarker?: boolean;
}

/** Requests a provider refuses with a 400 of its own (or its documented equivalent). */
export type Refusal = "context_length" | "content_filter" | "prefill";

export interface MockFormat {
  /** Short id, e.g. "gemini"; also the section name in the CLI's start-up line. */
  readonly name: string;
  /** Where a client of this provider should point, after `${mock.url}/{target}`. */
  readonly baseUrl: string;
  /** The routes it answers, after `/{target}`, e.g. "POST /v2/chat". */
  readonly routes: readonly string[];
  /** The route a request is for, or undefined when this format does not answer that path. */
  match(method: string, path: readonly string[], url: URL): MockRoute | undefined;
  model(body: Json, route: MockRoute): string;
  streaming(body: Json, route: MockRoute): boolean;
  /**
   * Checks the provider makes before any model is involved (auth header, required query).
   * A rejection here is counted as a hit but leaves the fault queue untouched.
   */
  admit?(call: MockCall): Response | undefined;
  /** Request validation, in the provider's own 400 shape; runs after faults, like the real thing. */
  validate(call: MockCall): Response | undefined;
  /** The prompt text the input token count is computed from. */
  prompt(call: MockCall): string;
  /** An error in the provider's documented shape (status faults, bad JSON, bad fault header). */
  error(status: number, spec?: MockErrorSpec): Response;
  /** The provider's rate-limit answer; the core adds the Retry-After headers. */
  rateLimit(call: MockCall, retry: RetryAfter): Response;
  /** The provider's "quota / credit exhausted" answer. */
  quota(call: MockCall): Response;
  /**
   * The provider's refusal of a prompt too long for the model, of content its policy blocks, or
   * of an assistant prefill (a conversation that ends with the assistant's turn).
   */
  reject(call: MockCall, why: Refusal): Response;
  /** A successful answer: one JSON chunk, or the stream frames when `call.stream`. */
  answer(call: MockCall, content: MockContent): MockReply;
  /**
   * An answer whose body a client cannot parse (invalid JSON, a corrupt frame). For streams its
   * chunks are one unparseable event, which is also what a `malformed_chunk` fault inserts.
   */
  malformed(call: MockCall): MockReply;
}
