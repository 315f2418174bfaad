// The route-independent core of a chat call: resolve candidates, run the supervisor, and hand
// back either a completion, a committed stream of OpenAI chunks, or an error as data. Each
// drop-in route (OpenAI, and other SDK formats) only translates its own wire format around this.
import { supervise, type Supervised } from "../../actors/supervisor/mod.ts";
import type { Gateway } from "../gateway.ts";
import type { ChatChunk, ChatCompletion, ChatRequest } from "../openai/types.ts";
import {
  executeJson,
  executeStream,
  failureOf,
  type StartedStream,
  StreamFailure,
  usageFacts,
} from "../providers/execute.ts";
import { resolveCandidates } from "../routing.ts";
import { readBody } from "./body.ts";
import { extraFields, gatewayHeaders, type Served } from "./gateway_headers.ts";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

const CODE_BY_STATUS: Record<number, string> = {
  404: "model_not_found",
  429: "rate_limited",
  499: "client_closed_request",
  502: "upstream_error",
  503: "providers_unavailable",
  504: "upstream_timeout",
};

/** An error answer before a route formats it. */
export interface CallError {
  ok: false;
  status: number;
  message: string;
  type: string;
  code: string;
  param: string | null;
  headers: Record<string, string>;
  retryAfterMs?: number;
}

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
    headers: Record<string, string>;
  };

export interface CallStart {
  t0: number;
  requestId: string;
}

/** Request id (the client's when sane) and start time, taken as the request arrives. */
export function startCall(gw: Gateway, sentId: string | undefined): CallStart {
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

/** Reads and JSON-decodes a body under the size limit; errors name what is wrong. */
export async function readJson(
  gw: Gateway,
  start: CallStart,
  req: Request,
): Promise<{ ok: true; json: unknown; length: number } | CallError> {
  if (gw.draining) {
    return {
      ...invalid(
        start,
        503,
        "The gateway is shutting down; retry on another instance.",
        "draining",
      ),
      type: "unavailable",
      retryAfterMs: 1000,
    };
  }
  const body = await readBody(req, gw.deps.config.limits.maxBodyBytes);
  if (!body.ok) return invalid(start, body.status, body.message, body.code);
  try {
    return { ok: true, json: JSON.parse(body.text), length: body.text.length };
  } catch (e) {
    return invalid(
      start,
      400,
      `The request body is not valid JSON: ${(e as Error).message}`,
      "invalid_json",
    );
  }
}

/** A rough token count for the TPM bucket; corrected from the upstream's usage afterwards. */
function estimateTokens(bodyLength: number, req: ChatRequest): number {
  return Math.ceil(bodyLength / 4) + (req.max_completion_tokens ?? req.max_tokens ?? 0);
}

/** Runs a validated chat request through the candidate chain. */
export async function runChat(
  gw: Gateway,
  start: CallStart,
  req: ChatRequest,
  signal: AbortSignal,
  bodyLength: number,
): Promise<ChatOutcome> {
  const { clock, config, http } = gw.deps;
  const { requestId, t0 } = start;
  const chain = resolveCandidates(config, req.model, req.fallbacks);
  if (!chain.ok) return invalid(start, 400, chain.message, chain.code, chain.param);
  const stream = req.stream === true;
  const exec = { http, clock };
  gw.inFlight++;
  let handedOver = false;
  try {
    const result = await supervise<ChatCompletion | StartedStream>(
      gw.supervisor,
      {
        requestId,
        model: req.model,
        candidates: chain.candidates,
        stream,
        estTokens: estimateTokens(bodyLength, req),
        signal,
      },
      (a) => {
        const target = gw.targets.get(a.candidate.provider)!;
        const spec = {
          model: a.candidate.model,
          key: a.key,
          id: `chatcmpl-${requestId}`,
          signal: a.signal,
        };
        return stream
          ? executeStream(exec, target, req, spec)
          : executeJson(exec, target, req, spec);
      },
    );
    const served = (r: Supervised<unknown>): Served => {
      const state = r.ok ? r.state() : r.state;
      const upstream = state.attempts.reduce((sum, a) => sum + a.latency_ms, 0);
      return {
        requestId,
        requested: req.model,
        candidate: r.ok ? r.candidate : undefined,
        state,
        overheadMs: Math.max(0, clock.now() - t0 - upstream - state.waitedMs),
      };
    };
    if (!result.ok) {
      const f = result.failure;
      return {
        ok: false,
        status: f.status,
        message: f.message,
        type: f.errorType,
        code: CODE_BY_STATUS[f.status] ?? "upstream_rejected_request",
        param: null,
        headers: gatewayHeaders(served(result)),
        retryAfterMs: f.retryAfterMs,
      };
    }
    if (!stream) {
      const s = served(result) as Served & { candidate: NonNullable<Served["candidate"]> };
      const upstream = s.state.attempts[s.state.attempts.length - 1]?.latency_ms ?? 0;
      return {
        ok: true,
        kind: "json",
        completion: result.value as ChatCompletion,
        extra: extraFields(s, clock.now() - t0, upstream),
        headers: gatewayHeaders(s),
      };
    }
    handedOver = true;
    const r = result as Extract<Supervised<StartedStream>, { ok: true }>;
    // The committed attempt is only reported when the stream ends: count it already, and its
    // time to first token as upstream time, so the headers agree with a JSON answer's.
    const s = served(r);
    const ttft = clock.now() - r.value.startedAt;
    const committed = {
      provider: r.candidate.provider,
      model: r.candidate.model,
      status: 200,
      error_type: null,
      latency_ms: ttft,
    };
    return {
      ok: true,
      kind: "stream",
      provider: r.candidate.provider,
      headers: gatewayHeaders({
        ...s,
        state: { ...s.state, attempts: [...s.state.attempts, committed] },
        overheadMs: Math.max(0, s.overheadMs - ttft),
      }),
      ...relay(gw, r),
    };
  } finally {
    if (!handedOver) gw.inFlight--;
  }
}

/** Wraps a committed stream so that however it ends, the attempt is settled exactly once. */
function relay(gw: Gateway, r: Extract<Supervised<StartedStream>, { ok: true }>) {
  const { clock } = gw.deps;
  const s = r.value;
  let ended = false;
  const end = (outcome: Parameters<typeof r.settle>[0]) => {
    if (ended) return;
    ended = true;
    gw.inFlight--;
    r.settle(outcome);
  };
  const latency = () => clock.now() - s.startedAt;
  async function* chunks(): AsyncGenerator<ChatChunk, void, undefined> {
    try {
      yield* s.first;
      while (true) {
        const n = await s.rest.next();
        if (n.done) break;
        yield n.value;
      }
      end({ type: "success", status: 200, latencyMs: latency(), usage: usageFacts(s.usage()) });
    } catch (e) {
      const failure = failureOf(e, clock.now());
      end({ type: "failure", failure, latencyMs: latency() });
      throw new StreamFailure(failure);
    } finally {
      if (!ended) {
        end({ type: "aborted", latencyMs: latency() });
        await s.rest.return(undefined).catch(() => {});
      }
    }
  }
  const gen = chunks();
  return {
    chunks: gen,
    async cancel() {
      end({ type: "aborted", latencyMs: latency() });
      await gen.return(undefined).catch(() => {});
      await s.rest.return(undefined).catch(() => {});
    },
  };
}
