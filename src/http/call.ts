// One call as every route sees it: its id and start time, what it reads from the client's
// request, and its answer before a route formats it: an error as data, or a completion or
// committed stream of OpenAI chunks. The pipeline (./pipeline.ts) produces these; the routes and
// the admission hooks (./admission.ts) only read them.
import type { KeyPolicy } from "../governance/keys.ts";
import type { ChatChunk, ChatCompletion } from "../openai/types.ts";
import type { Clock, IdGen } from "../ports.ts";
import type { GatewayError } from "../lib/errors.ts";
import type { extraFields } from "./gateway_headers.ts";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface CallStart {
  t0: number;
  requestId: string;
  /** The virtual key that authenticated the call (set by readJson; absent while keys are off). */
  virtualKey?: KeyPolicy;
  /** The client's request headers (set by readJson), for plugins and sticky routing. */
  headers?: Headers;
  /** Set when the answer is a relayed stream: settles when its body closes or is cancelled. */
  streamed?: Promise<void>;
}

/** An error answer before a route formats it: the gateway's one error, with its headers. */
export type CallError = GatewayError & { headers: Record<string, string> };

export type ChatOutcome =
  | CallError
  | {
    ok: true;
    kind: "json";
    completion: ChatCompletion;
    extra: ReturnType<typeof extraFields>;
    headers: Record<string, string>;
  }
  | {
    ok: true;
    kind: "stream";
    provider: string;
    /** First content chunk(s), then the rest. Throws StreamFailure if the upstream breaks. */
    chunks: AsyncGenerator<ChatChunk, void, undefined>;
    /** The client went away: stop the upstream, report the attempt as aborted. */
    cancel(): Promise<void>;
    /** The relay calls it once the body is finished (closed or cancelled). */
    finished?(): void;
    headers: Record<string, string>;
  };

/** Request id (the client's when sane) and start time, taken as the request arrives. */
export function startCall(
  gw: { deps: { clock: Clock; ids: IdGen } },
  sentId: string | undefined,
): CallStart {
  return {
    t0: gw.deps.clock.now(),
    requestId: sentId && REQUEST_ID.test(sentId) ? sentId : gw.deps.ids.next(),
  };
}

export function invalid(
  start: CallStart,
  status: number,
  message: string,
  code: string,
  param: string | null = null,
): CallError {
  return {
    ok: false,
    status,
    message,
    type: "invalid_request_error",
    code,
    param,
    headers: { "x-request-id": start.requestId },
  };
}

/** `x-gateway-fallbacks: a/b, c/d` — for clients that cannot add fields to the body. */
export function parseFallbacksHeader(value: string | undefined | null): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
}
