// Runs the configured plugins around one request: `begin` once before the chain, `pre` and `post`
// around every attempt (the pipeline wraps each `run.attempt` with `attempt`). Turns a plugin's
// stop into an attempt result the supervisor understands (`stop` on the result), publishes the
// events of requests the plugins finished themselves (answered or stopped before any attempt),
// and decorates this request's `request.*` events with its metadata.
import type {
  AttemptInput,
  AttemptResult,
  Candidate,
  ChainStop,
} from "../../actors/supervisor/mod.ts";
import type { GatewayEvent } from "../events/catalogue.ts";
import { assembleCompletion } from "../openai/chunks_to_completion.ts";
import type { ChatChunk, ChatCompletion, Usage } from "../openai/types.ts";
import type { Logger } from "../lib/logger.ts";
import type { Clock } from "../ports.ts";
import type {
  Answer,
  AttemptContext,
  AttemptOutcome,
  CanonicalRequest,
  JsonResponse,
  Plugin,
  PostContext,
  RequestContext,
  StopSpec,
} from "./plugin.ts";

export interface PluginChainDeps {
  clock: Clock;
  publish(event: GatewayEvent): void;
  logger: Logger;
}

export interface OpenRequest {
  requestId: string;
  t0: number;
  stream: boolean;
  headers: Headers;
  caller?: string;
  request: CanonicalRequest;
  requested: { model: string; fallbacks: readonly string[] };
  chain: readonly Candidate[];
}

/** Who stopped the request and what the client is told. */
export interface Stopped {
  plugin: string;
  reason: string;
  status: number;
  code: string;
  type: string;
}

export type Begun =
  | { type: "continue" }
  | { type: "stop"; stopped: Stopped }
  | { type: "answer"; plugin: string; answer: Answer["answer"] };

/** The attempt the plugins wrap: this attempt's request and upstream headers, then `c` and `a`. */
export type AttemptStep<T, C> = (
  request: CanonicalRequest,
  upstreamHeaders: Record<string, string>,
  c: C,
  a: AttemptInput,
) => Promise<AttemptResult<T>>;

export interface RequestPlugins {
  readonly metadata: Readonly<Record<string, string>>;
  /** Headers for the client's answer, whatever it turns out to be. */
  readonly responseHeaders: Readonly<Record<string, string>>;
  /** Set once a plugin has stopped the request. */
  readonly stopped: Stopped | undefined;
  /** A value, not a promise, when no plugin has a `begin` (nothing to wait for). */
  begin(): Begun | Promise<Begun>;
  /**
   * Runs `pre`, the attempt (with this attempt's request and upstream headers), then `post`.
   * `run` also gets `c` and `a`, so a caller composed once passes its per-call data instead of
   * allocating a closure per attempt.
   */
  attempt<T, C = undefined>(
    a: AttemptInput,
    run: AttemptStep<T, C>,
    c?: C,
  ): Promise<AttemptResult<T>>;
  /** The bus, for this request's supervisor: adds metadata to `request.*` events. */
  publish(event: GatewayEvent): void;
}

export interface PluginChain {
  readonly plugins: readonly Plugin[];
  open(req: OpenRequest): RequestPlugins;
}

const REQUEST_EVENTS = new Set(["request.started", "request.completed", "request.failed"]);

export function createPluginChain(plugins: readonly Plugin[], deps: PluginChainDeps): PluginChain {
  const seen = new Set<string>();
  for (const p of plugins) {
    if (seen.has(p.name)) throw new Error(`two plugins are named "${p.name}"`);
    seen.add(p.name);
  }
  const withBegin = plugins.filter((p) => p.begin);
  const withPre = plugins.filter((p) => p.pre);
  const withPost = plugins.filter((p) => p.post).reverse();
  const withStreamed = plugins.filter((p) => p.streamed);
  const { clock, logger } = deps;

  return {
    plugins,
    open(req) {
      if (plugins.length === 0) return bare(deps.publish, req.request);
      const metadata: Record<string, string> = {};
      const responseHeaders: Record<string, string> = {};
      let stopped: Stopped | undefined;
      // Events plugins publish before this request's request.started wait for it.
      let started = false;
      const waiting: GatewayEvent[] = [];
      const publish = (e: GatewayEvent) => {
        const decorated = REQUEST_EVENTS.has(e.type) && Object.keys(metadata).length > 0
          ? { ...e, metadata: { ...metadata } } as GatewayEvent
          : e;
        deps.publish(decorated);
        if (e.type === "request.started" && !started) {
          started = true;
          for (const w of waiting.splice(0)) deps.publish(w);
        }
      };
      const shared: Omit<RequestContext, "request"> = {
        requestId: req.requestId,
        stream: req.stream,
        headers: req.headers,
        caller: req.caller,
        requested: req.requested,
        chain: req.chain,
        metadata,
        responseHeaders,
        scratch: new Map(),
        now: () => clock.now(),
        publish: (e) => (started ? deps.publish(e) : waiting.push(e)),
      };
      const base = { at: 0, requestId: req.requestId };
      const announce = () =>
        publish({
          type: "request.started",
          ...base,
          at: clock.now(),
          model: req.requested.model,
          candidates: req.chain.map((c) => `${c.provider}/${c.model}`),
          stream: req.stream,
        });
      const crashed = (p: Plugin, e: unknown): StopSpec => ({
        reason: `plugin "${p.name}" failed: ${(e as Error)?.message ?? String(e)}`,
        status: 500,
        code: "plugin_error",
        type: "internal_error",
      });

      return {
        metadata,
        responseHeaders,
        get stopped() {
          return stopped;
        },
        publish,
        // No plugin with a `begin`: nothing to wait for (see RequestPlugins.begin).
        begin: withBegin.length === 0 ? () => CONTINUE : async () => {
          const ctx: RequestContext = { ...shared, request: req.request };
          for (const p of withBegin) {
            let v;
            try {
              v = await p.begin!(ctx);
            } catch (e) {
              v = { stop: crashed(p, e) };
            }
            if (v && "stop" in v) {
              stopped = settle(p, v.stop, 400, "invalid_request_error");
              announce();
              publish({
                type: "plugin.stopped",
                ...base,
                at: clock.now(),
                plugin: p.name,
                reason: stopped.reason,
                status: stopped.status,
              });
              publish({
                type: "request.failed",
                ...base,
                at: clock.now(),
                status: stopped.status,
                errorType: stopped.type,
                message: stopped.reason,
                attempts: 0,
              });
              return { type: "stop", stopped };
            }
            if (v && "answer" in v) {
              // A stream request only by an answer that says it may (a chat completion, sent as
              // chunks by the pipeline).
              if (
                req.stream && !(v.answer.stream && v.answer.response.object === "chat.completion")
              ) {
                logger.warn("plugin answered a stream request; ignored", { plugin: p.name });
                continue;
              }
              // Whatever the plugin published (e.g. cache.hit) goes out right after this.
              announce();
              publish({
                type: "request.completed",
                ...base,
                at: clock.now(),
                provider: v.answer.provider,
                model: v.answer.model,
                fallbackIndex: 0,
                attempts: 0,
                latencyMs: clock.now() - req.t0,
                upstreamLatencyMs: 0,
              });
              return { type: "answer", plugin: p.name, answer: v.answer };
            }
          }
          return CONTINUE;
        },
        async attempt<T, C>(a: AttemptInput, run: AttemptStep<T, C>, c?: C) {
          if (withPre.length === 0 && withPost.length === 0 && withStreamed.length === 0) {
            return run(req.request, {}, c as C, a);
          }
          const ctx: AttemptContext = {
            ...shared,
            attempt: a.attempt,
            fallbackIndex: a.fallbackIndex,
            candidate: a.candidate,
            // A fresh copy per attempt: what one attempt's plugins changed never leaks into the next.
            request: withPre.length ? structuredClone(req.request) : req.request,
            upstreamHeaders: {},
          };
          for (const p of withPre) {
            let v;
            try {
              v = await p.pre!(ctx);
            } catch (e) {
              v = { stop: crashed(p, e) };
            }
            if (v && "stop" in v) {
              stopped = settle(p, v.stop, 400, "invalid_request_error");
              // Reported to the provider as a caller fault: it never saw this attempt.
              return {
                type: "failure",
                failure: { kind: "caller_fault", status: stopped.status, message: stopped.reason },
                latencyMs: 0,
                stop: chainStop(stopped),
              };
            }
          }
          let result = await run(ctx.request, ctx.upstreamHeaders, c as C, a);
          if (
            withStreamed.length && req.stream && result.type === "success" &&
            ctx.request.kind === "chat"
          ) {
            const s = result.value as unknown as ChatStream;
            if (!s.continuation) {
              const value = watched(s, (response) => {
                for (const p of withStreamed) {
                  Promise.resolve().then(() => p.streamed!({ ...ctx, response })).catch((e) =>
                    logger.error("plugin streamed hook failed", {
                      plugin: p.name,
                      error: String(e),
                    })
                  );
                }
              });
              result = { ...result, value: value as unknown as T };
            }
          }
          if (withPost.length === 0) return result;
          const post: PostContext = { ...ctx, outcome: outcomeOf(result, req.stream) };
          for (const p of withPost) {
            let v;
            try {
              v = await p.post!(post);
            } catch (e) {
              logger.error("plugin post hook failed", { plugin: p.name, error: String(e) });
              continue;
            }
            // A success ends the chain anyway; a stop only matters after a failure.
            if (v && "stop" in v && result.type !== "success" && !result.stop) {
              const fallback = post.outcome.type === "failure"
                ? {
                  status: (post.outcome.status ?? 0) >= 400 ? post.outcome.status! : 502,
                  type: post.outcome.kind,
                }
                : { status: 499, type: "client_abort" };
              stopped = settle(p, v.stop, fallback.status, fallback.type);
              result = { ...result, stop: chainStop(stopped) };
            }
          }
          return result;
        },
      };
    },
  };
}

/** What a started chat stream looks like to the chain (src/providers/execute.ts StartedStream). */
interface ChatStream {
  first: ChatChunk[];
  rest: AsyncGenerator<ChatChunk, void, undefined>;
  usage(): Usage | undefined;
  continuation?: string;
}

/**
 * The same stream, its chunks also put together; `done` gets the whole answer once the upstream
 * ended it well (never when it failed or the client left). Only when a plugin wants it.
 */
function watched(s: ChatStream, done: (answer: ChatCompletion) => void): ChatStream {
  const answer = assembleCompletion();
  for (const c of s.first) answer.push(c);
  async function* rest(): AsyncGenerator<ChatChunk, void, undefined> {
    for await (const c of s.rest) {
      answer.push(c);
      yield c;
    }
    const whole = answer.result(s.usage());
    if (whole) done(whole);
  }
  return { ...s, rest: rest() };
}

function settle(p: Plugin, s: StopSpec, status: number, type: string): Stopped {
  return {
    plugin: p.name,
    reason: s.reason,
    status: s.status ?? status,
    code: s.code ?? "plugin_stopped",
    type: s.type ?? type,
  };
}

const chainStop = (s: Stopped): ChainStop => ({
  plugin: s.plugin,
  reason: s.reason,
  status: s.status,
  errorType: s.type,
});

function outcomeOf<T>(r: AttemptResult<T>, stream: boolean): AttemptOutcome {
  if (r.type === "success") {
    return {
      type: "success",
      status: r.status,
      latencyMs: r.latencyMs,
      response: stream ? undefined : r.value as unknown as JsonResponse,
    };
  }
  if (r.type === "aborted") return { type: "aborted", latencyMs: r.latencyMs };
  return {
    type: "failure",
    kind: r.failure.kind,
    status: r.failure.status,
    message: r.failure.message,
    latencyMs: r.latencyMs,
  };
}

const CONTINUE: Begun = { type: "continue" };

/** No plugins configured: nothing to run, nothing to copy. */
function bare(publish: (e: GatewayEvent) => void, request: CanonicalRequest): RequestPlugins {
  return {
    metadata: {},
    responseHeaders: {},
    stopped: undefined,
    publish,
    begin: () => CONTINUE,
    attempt<T, C>(a: AttemptInput, run: AttemptStep<T, C>, c?: C) {
      return run(request, {}, c as C, a);
    },
  };
}
