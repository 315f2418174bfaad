// The plugin interface. A plugin hooks into a request at three points:
//
//   begin(ctx)  once per request, before the first attempt: may answer it from the gateway itself
//               (no upstream call, e.g. a cache hit) or stop it
//   pre(ctx)    before EVERY attempt, fallbacks and retries included (each fallback is a fresh
//               request): gets its own copy of the canonical request to change, may add upstream
//               headers, or stop the request with an error the client sees
//   post(ctx)   after every attempt: sees the response or the failure; may stop the chain so no
//               further fallback is tried
//   streamed(ctx) after a chat stream an attempt served has ended well: its whole answer, put
//               together from the chunks (e.g. to cache it); not for a stream that failed or was
//               cut, nor for one continuing another attempt's answer
//
// Plugins run in configured order for begin and pre, and in reverse order for post (the first
// plugin wraps all the others). A stop reaches the client as an error body naming the reason and
// the events as `plugin.stopped` followed by `request.failed`.
import type { Candidate } from "../../actors/supervisor/mod.ts";
import type { FailureKind, GatewayEvent } from "../events/catalogue.ts";
import type {
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "../openai/types.ts";

/** The request in the gateway's canonical (OpenAI) form, whatever route it came in through. */
export type CanonicalRequest =
  | { kind: "chat"; body: ChatRequest }
  | { kind: "embeddings"; body: EmbeddingsRequest };

/** A complete JSON answer (streams never are one). */
export type JsonResponse = ChatCompletion | EmbeddingsResponse;

export interface StopSpec {
  /** Told to the client (error message) and to the events (`plugin.stopped.reason`). */
  reason: string;
  /** Default: 400 from begin/pre; the failed attempt's status (or 502) from post. */
  status?: number;
  /** Error `code` in the body. Default "plugin_stopped". */
  code?: string;
  /** Error `type` in the body. Default "invalid_request_error" from begin/pre, the failure kind from post. */
  type?: string;
}

/** End the chain here: no (further) upstream call, no fallback. */
export interface Stop {
  stop: StopSpec;
}

/**
 * Answer the request without calling any upstream. `provider`/`model` say who produced it.
 * `stream: true` lets a chat completion answer a stream request too: it is sent as chunks.
 */
export interface Answer {
  answer: { response: JsonResponse; provider: string; model: string; stream?: boolean };
}

export interface RequestContext {
  readonly requestId: string;
  readonly stream: boolean;
  /** The client's request headers. */
  readonly headers: Headers;
  /** The virtual key that authenticated the request (its id), when virtual keys are on. */
  readonly caller?: string;
  /** The request as the client sent it (validated). Attempts get their own copies to change. */
  readonly request: Readonly<CanonicalRequest>;
  /** `model` and `fallbacks` as the client named them (a route alias stays an alias). */
  readonly requested: { readonly model: string; readonly fallbacks: readonly string[] };
  /** The resolved candidate chain for this request. */
  readonly chain: readonly Candidate[];
  /** Labels attached to this request's `request.*` events. */
  readonly metadata: Record<string, string>;
  /** Headers added to the answer the client gets (errors included). */
  readonly responseHeaders: Record<string, string>;
  /** Storage shared by this request's hooks (begin → pre → post); key it with your own symbol. */
  readonly scratch: Map<symbol, unknown>;
  now(): number;
  /** Publish an event on the gateway's bus (after this request's `request.started`). */
  publish(event: GatewayEvent): void;
}

export interface AttemptContext extends Omit<RequestContext, "request"> {
  /** The supervisor's attempt number (1, 2, …; retries and fallbacks each count). */
  readonly attempt: number;
  /** 0 = the requested model, 1 = the first fallback, … */
  readonly fallbackIndex: number;
  readonly candidate: Candidate;
  /** This attempt's own copy of the canonical request: changes apply to this attempt only. */
  request: CanonicalRequest;
  /** Extra headers for this attempt's upstream call; the adapter's own headers (auth) win. */
  readonly upstreamHeaders: Record<string, string>;
}

export type AttemptOutcome =
  | { type: "success"; status: number; latencyMs: number; response?: JsonResponse }
  | { type: "failure"; kind: FailureKind; status?: number; message: string; latencyMs: number }
  | { type: "aborted"; latencyMs: number };

export interface PostContext extends AttemptContext {
  /** What the attempt produced; `response` is there for JSON answers, not for streams. */
  readonly outcome: AttemptOutcome;
}

type Hook<C, R> = (ctx: C) => R | void | Promise<R | void>;

export interface StreamedContext extends AttemptContext {
  /** The stream's whole answer as a chat.completion (content joined, tool calls merged, usage). */
  readonly response: ChatCompletion;
}

export interface Plugin {
  /** Names the plugin in events and errors: [A-Za-z0-9_.-]. */
  readonly name: string;
  begin?: Hook<RequestContext, Stop | Answer>;
  pre?: Hook<AttemptContext, Stop>;
  post?: Hook<PostContext, Stop>;
  /** Runs after the answer went out; what it returns or throws changes nothing for the client. */
  streamed?: Hook<StreamedContext, void>;
}

/** The text of a chat or embeddings request that content rules look at. */
export function requestTexts(r: CanonicalRequest): string[] {
  if (r.kind === "embeddings") {
    const input = r.body.input;
    if (typeof input === "string") return [input];
    return Array.isArray(input) ? input.filter((x): x is string => typeof x === "string") : [];
  }
  const out: string[] = [];
  for (const m of r.body.messages) {
    if (typeof m.content === "string") out.push(m.content);
    else if (Array.isArray(m.content)) {
      for (const part of m.content) if (part.type === "text") out.push(part.text);
    }
  }
  return out;
}
