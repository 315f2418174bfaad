// The route-independent core of a chat call: plan candidates, run the supervisor, and hand back
// either a completion, a committed stream of OpenAI chunks, or an error as data (the shapes are
// in ./call.ts). Each drop-in route (OpenAI, and other SDK formats) only translates its own wire
// format around this.
import {
  type AttemptResult,
  type Candidate,
  supervise,
  type Supervised,
} from "../../actors/supervisor/mod.ts";
import type { Gateway } from "../gateway.ts";
import type {
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "../openai/types.ts";
import {
  type AttemptSpec,
  executeEmbeddings,
  executeJson,
  type ProviderTarget,
  type StartedStream,
} from "../providers/execute.ts";
import { nativeResponsesOf } from "../providers/openai/responses_api.ts";
import { providerTypeInfo } from "../providers/provider_types.ts";
import { unsupportedParams, unsupportedReason } from "../providers/unsupported.ts";
import { attemptSpans, type GenAiOperation } from "../telemetry/mod.ts";
import { answeredState, type CanonicalRequest } from "../plugins/mod.ts";
import { admitCall } from "./admission.ts";
import type { AttemptCall } from "./attempt_pipeline.ts";
import { type CallError, type CallStart, type ChatOutcome, invalid } from "./call.ts";
import { completionChunks } from "./answer_stream.ts";
import { SentAnswer } from "./continuation.ts";
import { type Continuing, relay, streamAttempt } from "./stream_relay.ts";
import { extraFields, gatewayHeaders, type Served } from "./gateway_headers.ts";

const CODE_BY_STATUS: Record<number, string> = {
  404: "model_not_found",
  429: "rate_limited",
  499: "client_closed_request",
  502: "upstream_error",
  503: "providers_unavailable",
  504: "upstream_timeout",
};

/** A rough token count for the TPM bucket; corrected from the upstream's usage afterwards. */
function estimateTokens(bodyLength: number, req: ChatRequest): number {
  return Math.ceil(bodyLength / 4) + (req.max_completion_tokens ?? req.max_tokens ?? 0);
}

interface Run<T> {
  model: string;
  fallbacks?: string[];
  stream: boolean;
  estTokens: number;
  signal: AbortSignal;
  /** GenAI operation named in attempt spans (default "chat"). */
  operation?: GenAiOperation;
  /** Why a provider cannot serve this request at all; such candidates are skipped with it. */
  precheck?(target: ProviderTarget, providerId: string, model: string): string | undefined;
  /** The request field the skipped candidates refused (the error's `param`), if one. */
  unsupportedParam?(): string | undefined;
  /** The canonical request; each attempt gets the copy its plugins prepared. */
  request: CanonicalRequest;
  attempt(
    target: ProviderTarget,
    spec: AttemptSpec,
    request: CanonicalRequest,
  ): Promise<AttemptResult<T>>;
}

type Ran<T> =
  | CallError
  | {
    ok: true;
    result: Extract<Supervised<T>, { ok: true }>;
    served: Served & { candidate: Candidate };
    /** Headers the plugins add to the answer (e.g. x-gateway-cache). */
    extraHeaders: Readonly<Record<string, string>>;
    /** Answered by a plugin: `result.value` is its stored answer (a completion even for a stream). */
    answered?: true;
  };

/** Plans the candidate chain and runs it through a supervisor; errors come back as data. */
async function runThrough<T>(gw: Gateway, start: CallStart, run: Run<T>): Promise<Ran<T>> {
  const { clock, config } = gw.deps;
  const { requestId, t0 } = start;
  // The one planner, narrowed by the caller's virtual key: 400/403/429/402 as data.
  const admitted = admitCall(gw.governor, gw.plan, start, {
    model: run.model,
    fallbacks: run.fallbacks,
    headers: start.headers,
  });
  const gate = admitted instanceof Promise ? await admitted : admitted;
  if (!gate.ok) return gate;
  const chain = gate.plan;
  const plugins = gw.plugins.open({
    requestId,
    t0,
    stream: run.stream,
    headers: start.headers ?? new Headers(),
    caller: start.virtualKey?.id,
    request: run.request,
    requested: { model: run.model, fallbacks: run.fallbacks ?? [] },
    chain: chain.candidates,
  });
  const beginning = plugins.begin();
  const begun = beginning instanceof Promise ? await beginning : beginning;
  if (begun.type === "stop") {
    const s = begun.stopped;
    return {
      ...invalid(start, s.status, s.reason, s.code),
      type: s.type,
      headers: { "x-request-id": requestId, ...plugins.responseHeaders },
    };
  }
  if (begun.type === "answer") {
    // Answered by a plugin (a cache hit): no provider asked, nothing charged.
    const candidate = { provider: begun.answer.provider, model: begun.answer.model };
    const state = answeredState(requestId, t0, chain.candidates);
    return {
      ok: true,
      result: {
        ok: true,
        value: begun.answer.response as T,
        candidate,
        state: () => state,
        settle() {},
        resume: () => Promise.reject(new Error("a cached answer cannot be resumed")),
        continued() {},
      },
      served: { requestId, requested: run.model, candidate, state, overheadMs: clock.now() - t0 },
      extraHeaders: plugins.responseHeaders,
      answered: true,
    };
  }
  const precheck = run.precheck;
  const spans = attemptSpans(run.operation ?? "chat", (id) => ({
    type: config.providers[id].type,
    baseUrl: gw.targets.get(id)!.baseUrl,
  }));
  // This call's part of the attempt pipeline (composed once per gateway, ./attempt_pipeline.ts).
  const call: AttemptCall<T> = {
    requestId,
    admission: gate,
    spans,
    plugins,
    attempt: run.attempt,
  };
  const attempts = gw.attempts;
  const supervised = await supervise<T>(
    { ...gw.supervisor, publish: plugins.publish },
    {
      requestId,
      model: run.model,
      candidates: chain.candidates,
      stream: run.stream,
      estTokens: run.estTokens,
      signal: run.signal,
      precheck: precheck &&
        ((c) => precheck(gw.targets.get(c.provider)!, c.provider, c.model)),
    },
    (a) => attempts(call, a),
  );
  const result = gate.settle(spans.following(supervised));
  const state = result.ok ? result.state() : result.state;
  const upstream = state.attempts.reduce((sum, a) => sum + a.latency_ms, 0);
  const served: Served = {
    requestId,
    requested: run.model,
    candidate: result.ok ? result.candidate : undefined,
    state,
    overheadMs: Math.max(0, clock.now() - t0 - upstream - state.waitedMs),
  };
  if (result.ok) {
    chain.served(result.candidate);
    return {
      ok: true,
      result,
      served: served as Served & { candidate: Candidate },
      extraHeaders: plugins.responseHeaders,
    };
  }
  const f = result.failure;
  // No candidate could take the request (context too long, …): the provider's own 400, as
  // OpenAI words it, so SDKs raise the error they would have raised calling it directly.
  // So is a request no candidate accepts (n > 1 where only one choice can come back, …).
  const unserved = f.errorType === "capability" || f.errorType === "unsupported";
  const capability = f.errorType === "capability";
  return {
    ok: false,
    status: f.status,
    message: f.message,
    type: unserved ? "invalid_request_error" : f.errorType,
    code: plugins.stopped?.code ??
      (capability
        ? f.code ?? "capability_exceeded"
        : f.errorType === "unsupported"
        ? "unsupported_request"
        : CODE_BY_STATUS[f.status] ?? "upstream_rejected_request"),
    param: f.errorType === "unsupported" ? run.unsupportedParam?.() ?? null : null,
    headers: { ...gatewayHeaders(served), ...plugins.responseHeaders },
    retryAfterMs: f.retryAfterMs,
    cause: f,
  };
}

/** Runs a validated chat request through the candidate chain. */
export async function runChat(
  gw: Gateway,
  start: CallStart,
  req: ChatRequest,
  signal: AbortSignal,
  bodyLength: number,
): Promise<ChatOutcome> {
  const { clock, http, logger } = gw.deps;
  const exec = { http, clock, logger };
  const stream = req.stream === true;
  // Mid-stream continuation (streams.continuation, default on) keeps what the client was sent.
  const continuing: Continuing | undefined = stream && gw.deps.config.streams.continuation
    ? { sent: new SentAnswer() }
    : undefined;
  const refused: string[][] = []; // the fields each skipped candidate does not accept
  const ran = await runThrough<ChatCompletion | StartedStream>(gw, start, {
    model: req.model,
    fallbacks: req.fallbacks,
    stream,
    estTokens: estimateTokens(bodyLength, req),
    signal,
    precheck: (target, id, model) => {
      // Built-in tools and the like (POST /v1/responses) run only on a native Responses API.
      if (!target.settings.responsesApi) {
        const only = nativeResponsesOf(req)?.nativeOnly ?? [];
        if (only.length) {
          return `${id} does not serve the Responses API natively, which ${only.join(", ")} needs`;
        }
      }
      const type = providerTypeInfo(gw.deps.config.providers[id].type);
      const params = unsupportedParams(req, type, model);
      if (params.length === 0) return undefined;
      refused.push(params);
      return unsupportedReason(id, params);
    },
    unsupportedParam: () => commonParam(refused),
    request: { kind: "chat", body: req },
    attempt: (target, spec, r) => {
      const body = r.body as ChatRequest;
      return stream
        ? streamAttempt(gw, target, body, spec, continuing?.partial)
        : executeJson(exec, target, body, spec);
    },
  });
  if (!ran.ok) return ran;
  const { result, served } = ran;
  if (stream && ran.answered) {
    // A plugin's answer (a semantic cache hit) to a stream request: the completion as chunks.
    return {
      ok: true,
      kind: "stream",
      provider: served.candidate.provider,
      headers: { ...gatewayHeaders(served), ...ran.extraHeaders },
      ...completionChunks(
        result.value as ChatCompletion,
        req.stream_options?.include_usage === true,
      ),
      finished: streamed(start),
    };
  }
  if (!stream) {
    const upstream = served.state.attempts[served.state.attempts.length - 1]?.latency_ms ?? 0;
    return {
      ok: true,
      kind: "json",
      completion: result.value as ChatCompletion,
      extra: extraFields(served, clock.now() - start.t0, upstream),
      headers: { ...gatewayHeaders(served), ...ran.extraHeaders },
    };
  }
  const r = result as Extract<Supervised<StartedStream>, { ok: true }>;
  // The committed attempt is only reported when the stream ends: count it already, and its
  // time to first token as upstream time, so the headers agree with a JSON answer's.
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
    headers: {
      ...gatewayHeaders({
        ...served,
        state: { ...served.state, attempts: [...served.state.attempts, committed] },
        overheadMs: Math.max(0, served.overheadMs - ttft),
      }),
      ...ran.extraHeaders,
    },
    ...relay(gw, r, signal, ttft, continuing),
    finished: streamed(start),
  };
}

/**
 * The field to name when every candidate was skipped for fields it does not accept: the first one
 * all of them refused (`n`), else the first one the first refused.
 */
function commonParam(refused: readonly string[][]): string | undefined {
  const [first, ...rest] = refused;
  const shared = first?.find((p) => rest.every((r) => r.includes(p)));
  const name = shared ?? first?.[0];
  return name?.startsWith("messages[].") ? "messages" : name;
}

/** Marks the call's answer as a stream; the hook settles `start.streamed` when it is finished. */
function streamed(start: CallStart): () => void {
  let finish!: () => void;
  start.streamed = new Promise<void>((resolve) => finish = resolve);
  return finish;
}

/** Runs a validated embeddings request; providers without embeddings are skipped with a reason. */
export async function runEmbeddings(
  gw: Gateway,
  start: CallStart,
  req: EmbeddingsRequest,
  signal: AbortSignal,
  bodyLength: number,
): Promise<
  CallError | {
    ok: true;
    response: EmbeddingsResponse;
    extra: ReturnType<typeof extraFields>;
    headers: Record<string, string>;
  }
> {
  const { clock, http } = gw.deps;
  const ran = await runThrough<EmbeddingsResponse>(gw, start, {
    model: req.model,
    fallbacks: req.fallbacks,
    stream: false,
    estTokens: Math.ceil(bodyLength / 4),
    signal,
    operation: "embeddings",
    precheck: (t, id) =>
      t.adapter.buildEmbeddingsRequest
        ? undefined
        : `${id} (${t.adapter.family}) has no embeddings API`,
    // Upstreams are always asked for floats; base64 is produced here, the same for every family.
    request: { kind: "embeddings", body: req },
    attempt: (target, spec, r) =>
      executeEmbeddings(
        { http, clock },
        target,
        { ...(r.body as EmbeddingsRequest), encoding_format: undefined },
        spec,
      ),
  });
  if (!ran.ok) return ran;
  const upstream = ran.served.state.attempts[ran.served.state.attempts.length - 1]?.latency_ms ??
    0;
  return {
    ok: true,
    response: req.encoding_format === "base64" ? toBase64(ran.result.value) : ran.result.value,
    extra: extraFields(ran.served, clock.now() - start.t0, upstream),
    headers: { ...gatewayHeaders(ran.served), ...ran.extraHeaders },
  };
}

/** OpenAI's base64 embeddings: the little-endian float32 bytes of each vector. */
function toBase64(r: EmbeddingsResponse): EmbeddingsResponse {
  const encode = (v: number[] | string) => {
    if (typeof v === "string") return v;
    const bytes = new Uint8Array(new Float32Array(v).buffer);
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin);
  };
  return { ...r, data: r.data.map((d) => ({ ...d, embedding: encode(d.embedding) })) };
}
