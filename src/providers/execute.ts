// Runs one attempt against one provider: builds the upstream request with the adapter, calls it
// through ProviderHttp under the model's timeouts (headers, first token, stall, total, all within
// what is left of the request's budget), and turns whatever comes back into an AttemptResult
// (success, classified failure, or client abort) for the supervisor. Streams are forgiving where
// the answer is not at risk: one malformed event is skipped, and a stream whose finish_reason
// came is complete even if the upstream then drops the connection or never sends its end marker.
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
import { isObject, withSource } from "./upstream_json.ts";
import { withTraceContext } from "../telemetry/mod.ts";
import { deadlines, type Watchdog } from "../lib/deadlines.ts";
import type { Logger } from "../lib/logger.ts";
import { type AttemptTimeouts, type TimeoutOverrides, withDefaultTimeouts } from "./timeouts.ts";

export interface ProviderTarget {
  adapter: ProviderAdapter;
  baseUrl: string;
  /** The provider's own timeouts; any left out take the defaults (src/providers/timeouts.ts). */
  timeouts: TimeoutOverrides;
  /**
   * The timeouts for one model, resolved model → provider → top-level → defaults (the gateway's
   * targets have it, built once from config). Without it: `timeouts` over the defaults.
   */
  timeoutsFor?(model: string): AttemptTimeouts;
  /** key id → secret */
  secrets: ReadonlyMap<string, string>;
  settings: ProviderSettings;
}

/** The timeouts an attempt at `model` on `t` runs under. Allocates nothing per call. */
export function attemptTimeouts(t: ProviderTarget, model: string): AttemptTimeouts {
  return t.timeoutsFor ? t.timeoutsFor(model) : withDefaultTimeouts(t.timeouts);
}

export interface AttemptSpec {
  model: string;
  key: string;
  id: string;
  signal: AbortSignal;
  /**
   * Clock time the request's whole-call budget (`timeouts.requestMs`) runs out. The attempt's
   * deadlines are clamped to it, all but a committed stream's (which runs on under its own
   * `idleMs` and `totalMs`). Absent: no budget.
   */
  deadlineAt?: number;
}

export interface ExecuteDeps {
  http: ProviderHttp;
  clock: Clock;
  /** Where skipped malformed stream events are reported (once per attempt, at warn). */
  logger?: Logger;
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
  /** Malformed upstream events skipped so far (a healthy stream may carry one now and then). */
  skippedEvents(): number;
}

/** Malformed events in a row that make a stream a failure (fewer are skipped). */
export const MAX_MALFORMED_IN_A_ROW = 3;

/**
 * After every choice has its finish_reason, how long to wait for the rest (OpenAI sends a
 * usage-only chunk after the finish chunk) before the answer is finished without the upstream's
 * end marker. Never longer than the stream's idle timeout.
 */
export const FINISH_GRACE_MS = 1_000;

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

/**
 * Arms `ms` from now, clamped to `left` (what remains of the request's budget), to abort `ctl`
 * with a TimeoutError that says what did not happen in time, or that the budget ran out. Wall-clock
 * time: for the hard limits (the whole attempt).
 */
function arm(ctl: AbortController, what: string, ms: number, left: number): () => void {
  return deadlines.after(
    Math.max(0, Math.min(ms, left)),
    () => ctl.abort(new DOMException(budgetMessage(what, ms, left), "TimeoutError")),
  );
}

function budgetMessage(what: string, ms: number, left: number): string {
  return left < ms
    ? `the request's time budget (timeouts.requestMs) ran out: ${what} after ${
      Math.max(0, Math.round(left))
    } ms`
    : `${what} after ${ms} ms`;
}

/**
 * A deadline that ran out while the gateway itself was stalled for most of the wait (its event
 * loop too busy to read the upstream's answer): the upstream did not get its time, so the failure
 * says nothing about its health (scope "gateway", never counted against a breaker).
 */
export class GatewayStallTimeout extends Error {
  override name = "TimeoutError";
}

/**
 * Like `arm`, for what the upstream must do in time (send headers, send its first token): `ms` of
 * time in which the gateway was responsive, so the gateway's own stalls are not the upstream's
 * delay, still clamped to `left` in wall-clock time (the budget is the client's). When the budget
 * cuts the wait short while the gateway was stalled for most of it, the timeout is the gateway's.
 */
function armPatient(ctl: AbortController, what: string, ms: number, left: number): () => void {
  const budget = Math.max(0, left);
  return deadlines.patient(ms, (active, elapsed) => {
    ctl.abort(timeoutReason(what, ms, left, active, elapsed));
  }, budget);
}

/**
 * Why a patient deadline fired: `activeMs` of responsive time had passed when it did. Exported
 * for tests.
 */
export function timeoutReason(
  what: string,
  ms: number,
  left: number,
  activeMs: number,
  elapsedMs: number,
): Error {
  if (activeMs >= ms) return new DOMException(`${what} after ${ms} ms`, "TimeoutError");
  const message = budgetMessage(what, ms, left);
  const stalled = elapsedMs - activeMs;
  if (stalled <= activeMs) return new DOMException(message, "TimeoutError");
  return new GatewayStallTimeout(
    `${message} (the gateway itself was stalled for ${
      Math.round(stalled)
    } ms of it: overloaded, not the upstream's delay)`,
  );
}

const noop = () => {};

/**
 * Aborts `ctl` when `outer` (the call's signal) aborts, with its reason; the returned function
 * stops following. One listener for the attempt's life, instead of an `AbortSignal.any` per
 * attempt, which registers weak references on both signals that every collection then walks.
 */
function follow(ctl: AbortController, outer: AbortSignal): () => void {
  if (outer.aborted) {
    ctl.abort(outer.reason);
    return noop;
  }
  const onAbort = () => ctl.abort(outer.reason);
  // No `{ once: true }`: a signal aborts once, the returned function removes the listener, and
  // an options dictionary would be converted (WebIDL) on every attempt.
  outer.addEventListener("abort", onAbort);
  return () => outer.removeEventListener("abort", onAbort);
}

/** What is left of the request's budget at `now` (Infinity without one). */
const budgetLeft = (a: AttemptSpec, now: number) =>
  a.deadlineAt === undefined ? Infinity : a.deadlineAt - now;

const budgetSpent = (latencyMs: number): AttemptResult<never> => ({
  type: "failure",
  failure: {
    kind: "timeout",
    message: "the request's time budget (timeouts.requestMs) ran out before this attempt",
  },
  latencyMs,
});

/** Failure from anything thrown while talking to the upstream. */
export function failureOf(err: unknown, now: number): Failure {
  if (err instanceof StreamFailure) return err.failure;
  if (err instanceof GatewayStallTimeout) {
    return { kind: "timeout", scope: "gateway", message: err.message };
  }
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
    // The adapter could not authenticate (Vertex AI's token exchange): classified like the answer.
    if (e instanceof UpstreamStreamError) return classifyStreamError(e, clock.now());
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
  deps: ExecuteDeps,
  t: ProviderTarget,
  a: AttemptSpec,
  call: JsonCall<T>,
): Promise<AttemptResult<T>> {
  const started = deps.clock.now();
  const latency = () => deps.clock.now() - started;
  const left = budgetLeft(a, started);
  if (left <= 0) return budgetSpent(0);
  const tm = attemptTimeouts(t, a.model);
  // Cancelled as soon as the attempt ends: an AbortSignal.timeout() would stay armed for the
  // whole totalMs after every answer, keeping its signal and everything hanging off it alive.
  const ctl = new AbortController();
  const stopHeaders = armPatient(ctl, "no response headers", tm.headersMs, left);
  const stopTotal = arm(ctl, "no complete answer", tm.totalMs, left);
  const unfollow = follow(ctl, a.signal);
  const signal = ctl.signal;
  const ctx = context(t, a, false, deps.clock);
  try {
    const res = await send(deps.http, t, call.build, ctx, signal, deps.clock);
    stopHeaders();
    if (!(res instanceof Response)) return { type: "failure", failure: res, latencyMs: latency() };
    const text = await res.text();
    let value: T;
    try {
      const json = JSON.parse(text);
      value = call.parse(json, ctx);
      // The adapter kept the upstream's own object: its text is its JSON, to be sent on unparsed.
      if (value === json && isObject(json)) withSource(json, text);
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
    const failure = failureOf(ctl.signal.aborted ? ctl.signal.reason : e, deps.clock.now());
    return { type: "failure", failure, latencyMs: latency() };
  } finally {
    stopHeaders();
    stopTotal();
    unfollow();
  }
}

export function executeJson(
  deps: ExecuteDeps,
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
  deps: ExecuteDeps,
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

/** Whether every choice of a stream has its finish_reason, from the chunks seen so far. */
class FinishTracker {
  #open = new Set<number>();
  #finished = new Set<number>();

  see(chunks: readonly ChatChunk[]): void {
    for (const c of chunks) {
      for (const ch of c.choices) {
        if (ch.finish_reason !== null && ch.finish_reason !== undefined) {
          this.#finished.add(ch.index);
          this.#open.delete(ch.index);
        } else if (!this.#finished.has(ch.index)) {
          this.#open.add(ch.index);
        }
      }
    }
  }

  /** True once a finish_reason came and no choice is still open. */
  get done(): boolean {
    return this.#finished.size > 0 && this.#open.size === 0;
  }
}

/**
 * Starts a stream and waits for its first content chunk under the headers and first-token
 * timeouts (clamped to the request's budget). Until then any failure is an ordinary attempt
 * failure (the supervisor may fall over); after that the stream is committed, runs under its
 * own idle and total timeouts, and later failures surface as StreamFailure from `rest`.
 *
 * Forgiving where the answer is not at risk: a malformed event is skipped and counted (three in
 * a row fail the stream), and once every choice has its finish_reason the stream is complete,
 * whether the upstream then ends cleanly, drops the connection, or sends nothing more (it gets
 * FINISH_GRACE_MS for a trailing usage chunk).
 */
export async function executeStream(
  deps: ExecuteDeps,
  t: ProviderTarget,
  request: ChatRequest,
  a: AttemptSpec,
): Promise<AttemptResult<StartedStream>> {
  const started = deps.clock.now();
  const latency = () => deps.clock.now() - started;
  const left = budgetLeft(a, started);
  if (left <= 0) return budgetSpent(0);
  const tm = attemptTimeouts(t, a.model);
  const ctl = new AbortController();
  const abortWith = (message: string) => () => ctl.abort(new DOMException(message, "TimeoutError"));
  const stopHeaders = armPatient(ctl, "no response headers", tm.headersMs, left);
  const stopFirst = armPatient(ctl, "no first token", tm.firstTokenMs, left);
  // Not clamped to the budget: a committed stream runs on under its own limits.
  const stopTotal = deadlines.after(
    tm.totalMs,
    abortWith(`stream not finished after ${tm.totalMs} ms`),
  );
  let idle: Watchdog | undefined;
  let stopGrace: (() => void) | undefined;
  const unfollow = follow(ctl, a.signal);
  const stopTimers = () => {
    stopHeaders();
    stopFirst();
    stopTotal();
    idle?.cancel();
    stopGrace?.();
    unfollow();
  };
  const signal = ctl.signal;
  const ctx = context(t, a, true, deps.clock);
  const decoder = t.adapter.createStreamDecoder(ctx);
  const finish = new FinishTracker();
  let usage: Usage | undefined;
  let skipped = 0;
  let inARow = 0;
  let firstSkip = "";
  let logged = false;
  const logSkips = () => {
    if (skipped === 0 || logged) return;
    logged = true;
    deps.logger?.warn("skipped malformed upstream stream events", {
      family: t.adapter.family,
      model: a.model,
      skipped,
      first: firstSkip,
    });
  };
  const NONE: ChatChunk[] = [];
  /** One upstream event → chunks; a malformed one is skipped (three in a row fail the stream). */
  const decode = (event: { event?: string; data: string }): ChatChunk[] => {
    let chunks: ChatChunk[];
    try {
      chunks = decoder.push(event);
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      skipped++;
      inARow++;
      if (firstSkip === "") firstSkip = e.message;
      if (inARow >= MAX_MALFORMED_IN_A_ROW) {
        throw new StreamFailure({
          kind: "transient",
          message: `malformed stream: ${inARow} malformed events in a row (${e.message})`,
        });
      }
      return NONE;
    }
    inARow = 0;
    for (const c of chunks) if (c.usage) usage = c.usage;
    finish.see(chunks);
    return chunks;
  };
  /** Every choice finished: give the upstream a moment for its trailing events, then end. */
  const armGrace = () => {
    stopGrace ??= deadlines.after(
      Math.min(FINISH_GRACE_MS, tm.idleMs),
      () =>
        ctl.abort(new DOMException("finished: no end marker after finish_reason", "AbortError")),
    );
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
    stopHeaders();
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
      first.push(...decode(n.value));
    }
    // A finish_reason counts as content: an empty answer that finished is still an answer.
    if (!decoder.finished && !first.some(hasContent)) {
      throw new TypeError("upstream stream ended before any content");
    }
    stopFirst();
    idle = deadlines.watch(
      tm.idleMs,
      abortWith(`stream stalled: no chunk for ${tm.idleMs} ms`),
    );
    if (finish.done) armGrace();
    const source = events;
    const rest = async function* () {
      try {
        // The idle clock only runs while we wait on the upstream: a client slow to take the
        // chunks (backpressure) is not an upstream stall.
        idle!.touch();
        while (!decoder.finished) {
          const n = await source.next();
          if (n.done) {
            if (finish.done) return; // complete: only the end marker is missing
            throw new TypeError("upstream stream was cut before it finished");
          }
          idle!.touch();
          const chunks = decode(n.value);
          if (finish.done) armGrace();
          for (const c of chunks) yield c; // not yield*: no async wrapper per array
          idle!.touch();
        }
      } catch (e) {
        if (a.signal.aborted) throw e;
        // Every choice had its finish_reason: what broke afterwards (a dropped connection, the
        // grace running out, a late error) cannot make the answer any less complete.
        if (finish.done) return;
        throw new StreamFailure(
          failureOf(ctl.signal.aborted ? ctl.signal.reason : e, deps.clock.now()),
        );
      } finally {
        stopTimers();
        logSkips();
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
        skippedEvents: () => skipped,
      },
    };
  } catch (e) {
    stopTimers();
    logSkips();
    await events?.return(undefined).catch(() => {});
    if (a.signal.aborted) return { type: "aborted", latencyMs: latency() };
    const failure = failureOf(ctl.signal.aborted ? ctl.signal.reason : e, deps.clock.now());
    return { type: "failure", failure, latencyMs: latency() };
  }
}
