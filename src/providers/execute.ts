// Runs one attempt against one provider: builds the upstream request with the adapter, calls it
// through ProviderHttp under the provider's timeouts, and turns whatever comes back into an
// AttemptResult (success, classified failure, or client abort) for the supervisor.
import type { AttemptResult } from "../../actors/supervisor/mod.ts";
import type { UsageFacts } from "../events/catalogue.ts";
import type {
  ChatChunk,
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  Usage,
} from "../openai/types.ts";
import type { Clock, ProviderHttp } from "../ports.ts";
import type {
  AdapterContext,
  ProviderAdapter,
  ProviderSettings,
  UpstreamRequest,
} from "./adapter.ts";
import { UpstreamStreamError } from "./adapter.ts";
import {
  classifyHttpFailure,
  classifyNetworkError,
  classifyStreamError,
  type Failure,
} from "./classifier.ts";
import { parseSse } from "./sse.ts";
import { withTraceContext } from "../telemetry/mod.ts";
import { deadlines } from "../lib/deadlines.ts";

export interface ProviderTarget {
  adapter: ProviderAdapter;
  baseUrl: string;
  timeouts: { firstTokenMs: number; totalMs: number };
  /** key id → secret */
  secrets: ReadonlyMap<string, string>;
  settings: ProviderSettings;
}

export interface AttemptSpec {
  model: string;
  key: string;
  id: string;
  signal: AbortSignal;
}

/** A stream that has produced its first content; the rest is read on demand. */
export interface StartedStream {
  /** Clock time the attempt began, to report the whole stream's latency at the end. */
  startedAt: number;
  first: ChatChunk[];
  rest: AsyncGenerator<ChatChunk, void, undefined>;
  usage(): Usage | undefined;
  /** Set when this stream continues an answer another attempt began, and how it was asked. */
  continuation?: "prefill" | "continue";
}

/** Thrown by StartedStream.rest when the upstream fails after the stream was committed. */
export class StreamFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = "StreamFailure";
  }
}

export function usageFacts(u: Usage | undefined): UsageFacts | undefined {
  return u
    ? { promptTokens: u.prompt_tokens ?? 0, completionTokens: u.completion_tokens ?? 0 }
    : undefined;
}

function timeoutError(what: string, ms: number) {
  return new DOMException(`${what} after ${ms} ms`, "TimeoutError");
}

/** Failure from anything thrown while talking to the upstream. */
export function failureOf(err: unknown, now: number): Failure {
  if (err instanceof StreamFailure) return err.failure;
  if (err instanceof UpstreamStreamError) return classifyStreamError(err, now);
  return classifyNetworkError(err);
}

type Build = (ctx: AdapterContext) => UpstreamRequest | Promise<UpstreamRequest>;

// What could make a URL that starts with its base resolve outside it: a "." or ".." segment
// (also percent-encoded, or after a backslash, which URLs read as "/"), or a query or fragment
// that the parser would move the path out of.
const MAY_ESCAPE = /[\\/](?:\.|%2e)|[?#]/i;

/** True when `url`, once "." and ".." segments are resolved, is still under `base`. */
export function withinBase(url: string, base: string): boolean {
  // The common case, decided without parsing either URL: the base, a "/", then a plain path.
  const head = base.endsWith("/") ? base : `${base}/`;
  if (url.startsWith(head) && !MAY_ESCAPE.test(url.slice(head.length - 1))) return true;
  const u = new URL(url);
  const b = new URL(base);
  const prefix = b.pathname.endsWith("/") ? b.pathname : `${b.pathname}/`;
  return u.origin === b.origin && `${u.pathname}/`.startsWith(prefix);
}

async function send(
  http: ProviderHttp,
  t: ProviderTarget,
  build: Build,
  ctx: AdapterContext,
  signal: AbortSignal,
  clock: Clock,
): Promise<Response | Failure> {
  let up;
  try {
    up = await build(ctx);
  } catch (e) {
    // The adapter cannot express this request in its provider's format: the caller must change it.
    return { kind: "caller_fault", status: 400, message: (e as Error).message };
  }
  if (!withinBase(up.url, ctx.baseUrl)) {
    // A model name is a path segment for some providers (Gemini, Bedrock, Azure): "." and ".."
    // in it would be resolved away and send the provider's key to another path of its host.
    const message = `model "${ctx.model}": "." and ".." path segments are not allowed`;
    return { kind: "caller_fault", status: 400, message };
  }
  const res = await http.fetch(up.url, {
    method: up.method,
    // Static headers from config (e.g. OpenRouter attribution) never override the adapter's;
    // with tracing on, the attempt's span continues upstream as a W3C `traceparent`.
    headers: withTraceContext(
      t.settings.headers ? { ...t.settings.headers, ...up.headers } : up.headers,
    ),
    body: up.body,
    signal,
  });
  if (res.ok) return res;
  const text = await res.text().catch(() => "");
  const error = t.adapter.parseError(res.status, text);
  return classifyHttpFailure({ status: res.status, headers: res.headers, error, now: clock.now() });
}

function context(t: ProviderTarget, a: AttemptSpec, stream: boolean, clock: Clock): AdapterContext {
  return {
    baseUrl: t.baseUrl,
    apiKey: t.secrets.get(a.key) ?? "",
    model: a.model,
    stream,
    nowSec: Math.floor(clock.now() / 1000),
    id: a.id,
    now: clock.now(),
    settings: t.settings,
  };
}

/** One JSON request/response exchange: how to build it, how to read the answer. */
interface JsonCall<T> {
  build: Build;
  parse(body: unknown, ctx: AdapterContext): T;
  usage(value: T): Usage | undefined;
}

async function executeJsonCall<T>(
  deps: { http: ProviderHttp; clock: Clock },
  t: ProviderTarget,
  a: AttemptSpec,
  call: JsonCall<T>,
): Promise<AttemptResult<T>> {
  const started = deps.clock.now();
  const latency = () => deps.clock.now() - started;
  // Cancelled as soon as the attempt ends: an AbortSignal.timeout() would stay armed for the
  // whole totalMs after every answer, keeping its signal and everything hanging off it alive.
  const total = new AbortController();
  const cancel = deadlines.after(
    t.timeouts.totalMs,
    () => total.abort(timeoutError("no complete answer", t.timeouts.totalMs)),
  );
  const signal = AbortSignal.any([a.signal, total.signal]);
  const ctx = context(t, a, false, deps.clock);
  try {
    const res = await send(deps.http, t, call.build, ctx, signal, deps.clock);
    if (!(res instanceof Response)) return { type: "failure", failure: res, latencyMs: latency() };
    const text = await res.text();
    let value: T;
    try {
      value = call.parse(JSON.parse(text), ctx);
    } catch (e) {
      // A 2xx that carries an error body is classified like that error; anything else is garbage.
      const failure: Failure = e instanceof UpstreamStreamError
        ? classifyStreamError(e, deps.clock.now())
        : {
          kind: "transient",
          status: res.status,
          message: `malformed response from upstream: ${(e as Error).message}`,
        };
      return { type: "failure", failure, latencyMs: latency() };
    }
    return {
      type: "success",
      status: res.status,
      latencyMs: latency(),
      usage: usageFacts(call.usage(value)),
      value,
    };
  } catch (e) {
    if (a.signal.aborted) return { type: "aborted", latencyMs: latency() };
    const failure = total.signal.aborted
      ? { kind: "timeout" as const, message: `no complete answer within ${t.timeouts.totalMs} ms` }
      : failureOf(e, deps.clock.now());
    return { type: "failure", failure, latencyMs: latency() };
  } finally {
    cancel();
  }
}

export function executeJson(
  deps: { http: ProviderHttp; clock: Clock },
  t: ProviderTarget,
  request: ChatRequest,
  a: AttemptSpec,
): Promise<AttemptResult<ChatCompletion>> {
  return executeJsonCall(deps, t, a, {
    build: (ctx) => t.adapter.buildChatRequest(request, ctx),
    parse: (body, ctx) => t.adapter.parseChatResponse(body, ctx),
    usage: (c) => c.usage,
  });
}

/** Embeddings through the same attempt machinery; the pipeline prechecks support. */
export function executeEmbeddings(
  deps: { http: ProviderHttp; clock: Clock },
  t: ProviderTarget,
  request: EmbeddingsRequest,
  a: AttemptSpec,
): Promise<AttemptResult<EmbeddingsResponse>> {
  const { buildEmbeddingsRequest, parseEmbeddingsResponse } = t.adapter;
  if (!buildEmbeddingsRequest || !parseEmbeddingsResponse) {
    throw new Error(`${t.adapter.family} has no embeddings`);
  }
  return executeJsonCall(deps, t, a, {
    build: (ctx) => buildEmbeddingsRequest.call(t.adapter, request, ctx),
    parse: (body, ctx) => parseEmbeddingsResponse.call(t.adapter, body, ctx),
    usage: (r) => ({
      prompt_tokens: r.usage?.prompt_tokens ?? 0,
      completion_tokens: 0,
      total_tokens: r.usage?.total_tokens ?? 0,
    }),
  });
}

const hasContent = (c: ChatChunk) =>
  c.choices.some((ch) =>
    !!ch.delta.content || !!ch.delta.tool_calls?.length || ch.finish_reason !== null
  );

/**
 * Starts a stream and waits for its first content chunk under the time-to-first-token timeout.
 * Until then any failure is an ordinary attempt failure (the supervisor may fall over); after
 * that the stream is committed and later failures surface as StreamFailure from `rest`.
 */
export async function executeStream(
  deps: { http: ProviderHttp; clock: Clock },
  t: ProviderTarget,
  request: ChatRequest,
  a: AttemptSpec,
): Promise<AttemptResult<StartedStream>> {
  const started = deps.clock.now();
  const latency = () => deps.clock.now() - started;
  const ctl = new AbortController();
  const ttft = deadlines.after(
    t.timeouts.firstTokenMs,
    () => ctl.abort(timeoutError("no first token", t.timeouts.firstTokenMs)),
  );
  const total = deadlines.after(
    t.timeouts.totalMs,
    () => ctl.abort(timeoutError("stream not finished", t.timeouts.totalMs)),
  );
  const stopTimers = () => {
    ttft();
    total();
  };
  const signal = AbortSignal.any([a.signal, ctl.signal]);
  const ctx = context(t, a, true, deps.clock);
  const decoder = t.adapter.createStreamDecoder(ctx);
  let usage: Usage | undefined;
  const take = (chunks: ChatChunk[]) => {
    for (const c of chunks) if (c.usage) usage = c.usage;
    return chunks;
  };
  let events: AsyncGenerator<{ event?: string; data: string }> | undefined;
  try {
    const res = await send(
      deps.http,
      t,
      (c) => t.adapter.buildChatRequest(request, c),
      ctx,
      signal,
      deps.clock,
    );
    if (!(res instanceof Response)) {
      stopTimers();
      return { type: "failure", failure: res, latencyMs: latency() };
    }
    if (!res.body) throw new TypeError("upstream stream has no body");
    events = t.adapter.readStream
      ? t.adapter.readStream(res.body, signal)
      : parseSse(res.body, signal);
    const first: ChatChunk[] = [];
    while (!first.some(hasContent) && !decoder.finished) {
      const n = await events.next();
      if (n.done) break;
      first.push(...take(decoder.push(n.value)));
    }
    if (!decoder.finished && !first.some(hasContent)) {
      throw new TypeError("upstream stream ended before any content");
    }
    ttft();
    const source = events;
    const rest = async function* () {
      try {
        while (!decoder.finished) {
          const n = await source.next();
          if (n.done) throw new TypeError("upstream stream was cut before it finished");
          yield* take(decoder.push(n.value));
        }
      } catch (e) {
        if (a.signal.aborted) throw e;
        throw new StreamFailure(
          ctl.signal.aborted
            ? failureOf(ctl.signal.reason, deps.clock.now())
            : failureOf(e, deps.clock.now()),
        );
      } finally {
        stopTimers();
        // Stops the upstream body whatever ended us (done, failure or the client going away).
        await source.return(undefined).catch(() => {});
      }
    };
    return {
      type: "success",
      pending: true,
      status: res.status,
      latencyMs: latency(),
      value: {
        startedAt: started,
        first,
        rest: rest(),
        usage: () => usage,
      },
    };
  } catch (e) {
    stopTimers();
    await events?.return(undefined).catch(() => {});
    if (a.signal.aborted) return { type: "aborted", latencyMs: latency() };
    const failure = ctl.signal.aborted
      ? failureOf(ctl.signal.reason, deps.clock.now())
      : failureOf(e, deps.clock.now());
    return { type: "failure", failure, latencyMs: latency() };
  }
}
