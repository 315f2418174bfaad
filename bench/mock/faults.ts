// The mock's faults: what can be injected, strict validation of untrusted fault JSON (control
// API, header, CLI), and the per-target queues that decide which fault a request gets.

/**
 * A fault to inject. Each format answers it in its provider's own shape: `status` uses the
 * format's error body (`type` is the OpenAI/Anthropic error type, Gemini's `status` string or
 * Bedrock's exception name; `code` the OpenAI/Azure error code), `rate_limit` its rate-limit
 * answer plus Retry-After, `quota` its "quota or credit exhausted" answer, `context_length`,
 * `content_filter` and `reject_prefill` its own rejection of such a request.
 *
 * Every fault may carry `model`: it then applies only to requests for that model (as the format
 * reads it from the body or path), so two models on one target can fail differently; requests
 * for other models pass it by without using it up. `times` (default: until cleared) counts only
 * the requests it applied to.
 */
export type Fault = FaultScope & FaultKind;

export interface FaultScope {
  model?: string;
  times?: number;
}

export type FaultKind =
  | {
    kind: "status";
    status: number;
    type?: string;
    code?: string;
    message?: string;
    retryAfterSec?: number;
  }
  | { kind: "rate_limit"; retryAfterSec?: number; retryAfterMs?: number }
  | { kind: "quota" }
  /** No answer at all until the client goes away. */
  | { kind: "hang" }
  /** The stream (or JSON body) breaks off after `afterChunks` pieces (default 1). */
  | { kind: "cut"; afterChunks?: number }
  /** A 200 whose body no client can parse. */
  | { kind: "malformed" }
  /** `ms` before the answer; `chunkMs` (optional) between the pieces of the answer it sends. */
  | { kind: "latency"; ms: number; chunkMs?: number }
  /** A stream sends `afterChunks` pieces (default 1), then nothing, and stays open. JSON: half
   * the body, then nothing. */
  | { kind: "stall"; afterChunks?: number }
  /** Streams: headers and preamble at once, the first piece after `ms`. JSON: all after `ms`. */
  | { kind: "slow_first_token"; ms: number }
  /** Streams: one unparseable event after `afterChunks` pieces (default 1), otherwise whole. */
  | { kind: "malformed_chunk"; afterChunks?: number }
  /** Streams: complete (finish and usage) but without the end marker ([DONE], message_stop). */
  | { kind: "no_done" }
  /** The connection is closed before any response byte (needs the mock's `resets` option). */
  | { kind: "reset" }
  /** 400: the prompt does not fit the model's context window. */
  | { kind: "context_length" }
  /** 400: the request was refused by the provider's content policy. */
  | { kind: "content_filter" }
  /** 400 only for requests that end with an assistant turn (a prefill); others pass it by. */
  | { kind: "reject_prefill" };

export type FaultName = Fault["kind"];

export const FAULT_KINDS: readonly FaultName[] = [
  "status",
  "rate_limit",
  "quota",
  "hang",
  "cut",
  "malformed",
  "latency",
  "stall",
  "slow_first_token",
  "malformed_chunk",
  "no_done",
  "reset",
  "context_length",
  "content_filter",
  "reject_prefill",
];

// Fields each kind may carry besides kind, model and times: anything else is a typo.
const FIELDS: Record<FaultName, readonly string[]> = {
  status: ["status", "type", "code", "message", "retryAfterSec"],
  rate_limit: ["retryAfterSec", "retryAfterMs"],
  quota: [],
  hang: [],
  cut: ["afterChunks"],
  malformed: [],
  latency: ["ms", "chunkMs"],
  stall: ["afterChunks"],
  slow_first_token: ["ms"],
  malformed_chunk: ["afterChunks"],
  no_done: [],
  reset: [],
  context_length: [],
  content_filter: [],
  reject_prefill: [],
};

const int = (v: unknown, min: number, max = Infinity) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const nonNegative = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;

/** Validates untrusted JSON (control API, header, CLI) as a Fault or Fault[]; throws on a bad one. */
export function parseFaults(value: unknown): Fault[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    const fail = (why: string): never => {
      throw new Error(`fault ${i}: ${why}`);
    };
    if (typeof item !== "object" || item === null) return fail("expected an object");
    const f = item as Record<string, unknown>;
    const kind = f.kind as FaultName;
    if (!FAULT_KINDS.includes(kind)) fail(`kind must be one of ${FAULT_KINDS.join(", ")}`);
    const known = ["kind", "model", "times", ...FIELDS[kind]];
    const extra = Object.keys(f).filter((k) => !known.includes(k));
    if (extra.length) {
      fail(`${kind} takes no ${extra.join(", ")} (fields: ${known.slice(1).join(", ")})`);
    }
    if (kind === "status" && !int(f.status, 400, 599)) fail("status must be from 400 to 599");
    if ((kind === "latency" || kind === "slow_first_token") && !nonNegative(f.ms)) {
      fail("ms must be a number >= 0");
    }
    if (f.chunkMs !== undefined && !nonNegative(f.chunkMs)) fail("chunkMs must be >= 0");
    if (f.afterChunks !== undefined && !int(f.afterChunks, 0)) {
      fail("afterChunks must be an integer >= 0");
    }
    for (const k of ["retryAfterSec", "retryAfterMs"]) {
      if (f[k] !== undefined && !nonNegative(f[k])) fail(`${k} must be a number >= 0`);
    }
    for (const k of ["type", "code", "message"]) {
      if (f[k] !== undefined && typeof f[k] !== "string") fail(`${k} must be a string`);
    }
    if (f.model !== undefined && !(typeof f.model === "string" && f.model !== "")) {
      fail("model must be a non-empty string");
    }
    if (f.times !== undefined && !int(f.times, 1)) fail("times must be a positive integer");
    return f as unknown as Fault;
  });
}

/** What a queued fault may look at to decide whether it applies to a request. */
export interface FaultSubject {
  model: string;
  /** The request ends with an assistant turn (a prefill). */
  prefill: boolean;
}

/** A fault applies to requests for its model (any, without one); reject_prefill to prefills only. */
export function applies(f: Fault, s: FaultSubject): boolean {
  return (f.model === undefined || f.model === s.model) &&
    (f.kind !== "reject_prefill" || s.prefill);
}

/** Per-target fault queues: faults apply in order, each for `times` requests it applies to. */
export class FaultQueues {
  #queues = new Map<string, { fault: Fault; left: number }[]>();

  set(target: string, faults: Fault[]): void {
    this.#queues.set(target, faults.map((fault) => ({ fault, left: fault.times ?? Infinity })));
  }

  clear(target?: string): void {
    if (target === undefined) this.#queues.clear();
    else this.#queues.delete(target);
  }

  /** The first queued fault that applies to this request, used up by one. */
  take(target: string, s: FaultSubject): Fault | undefined {
    const queue = this.#queues.get(target);
    const i = queue?.findIndex((q) => applies(q.fault, s)) ?? -1;
    if (!queue || i < 0) return undefined;
    const entry = queue[i];
    if (--entry.left <= 0) queue.splice(i, 1);
    return entry.fault;
  }
}
