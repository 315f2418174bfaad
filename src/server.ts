// Starts a listening gateway from a Config: event bus (NATS when configured, else in-process),
// provider actors, Hono app, Deno.serve. Used by main.ts and by the integration tests, so tests
// exercise exactly what `deno task serve` runs.
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { createMemoryBus, createNatsBus } from "./events/mod.ts";
import { createStateSync } from "./events/state_sync.ts";
import { createGateway, type Gateway } from "./gateway.ts";
import { systemClock } from "./lib/clock.ts";
import { createIdGen } from "./lib/ids.ts";
import type { Logger } from "./lib/logger.ts";
import type { GatewayEvent } from "./events/catalogue.ts";
import type { EventBus, ProcessEventStats, ProviderHttp, Random } from "./ports.ts";
import { fetchHttp } from "./providers/fetch_http.ts";
import { keyStoreFor } from "./governance/mod.ts";
import { describeTracing, setupTracing } from "./telemetry/mod.ts";
import type { Plugin } from "./plugins/mod.ts";
import { describeRoute } from "./routing/mod.ts";
import type { ServeEnv } from "./http/signal.ts";
import type { ProbeLeases } from "../actors/provider/mod.ts";
import type { KeyStore } from "./governance/mod.ts";
import type { ResponseStore } from "./responses/mod.ts";
import type { EventFeed, GatewayDeps } from "./gateway.ts";

/**
 * What a gateway running as one of several workers on one port (src/workers/) shares with the
 * others; startGateway binds the port with SO_REUSEPORT when given.
 */
export interface WorkerShare {
  /** Without NATS: the stores in the main thread (with NATS: undefined, the KV buckets serve). */
  keyStore?: KeyStore;
  leases?: ProbeLeases;
  responseStore?: ResponseStore;
  cacheStore?: GatewayDeps["cacheStore"];
  /** Every worker's events in one order, for /v1/gateway/events. */
  feed: EventFeed;
  /** GET /metrics: every worker's registry, summed. */
  scrape(): Promise<string>;
  /** GET /readyz: every worker's event counts, summed. */
  events?(): Promise<ProcessEventStats>;
  /** Called with the gateway once built (folding the other workers' state); returns its undo. */
  attach?(gateway: Gateway): () => void;
  /** The other workers' event sources: with NATS, not followed there (attach folds them). */
  siblings?: (source: string) => boolean;
  /** False for a state event already folded (replay and the main thread may both bring it). */
  once?: (e: GatewayEvent) => boolean;
}

export interface RunningGateway {
  gateway: Gateway;
  bus: EventBus;
  url: string;
  port: number;
  /** The address it listens on (HOST / config `host`), as given: 0.0.0.0 means every interface. */
  hostname: string;
  /**
   * With NATS: resolves once the provider actors are rebuilt from JetStream, with the start-up
   * line saying what was replayed (/readyz answers 503 and requests wait until then).
   * Without NATS: resolves at once to undefined.
   */
  replayed: Promise<string | undefined>;
  /** Stop accepting, wait for in-flight requests and streams (bounded), flush events, close. */
  shutdown(graceMs?: number): Promise<void>;
}

/** The host part of a URL a client on this machine can use to reach a server bound to `hostname`. */
export function urlHost(hostname: string): string {
  if (hostname === "0.0.0.0") return "127.0.0.1";
  if (hostname === "::") return "[::1]";
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

export function createBus(config: Config, logger: Logger): EventBus {
  if (!config.nats.url) return createMemoryBus({ logger });
  return createNatsBus({
    access: config.nats,
    instance: config.instance,
    ids: createIdGen(),
    logger,
    stream: config.nats.stream,
    maxAgeMs: config.nats.maxAgeMs,
    replicas: config.nats.replicas,
    allowMutableStream: config.nats.allowMutableStream,
  });
}

export function startGateway(
  config: Config,
  opts: {
    logger: Logger;
    http?: ProviderHttp;
    hostname?: string;
    bus?: EventBus;
    /** Plugins written in code, run after those configured in gateway.json. */
    plugins?: readonly Plugin[];
    /** Source of randomness (weighted choice, jitter); tests pass a seeded one. */
    random?: Random;
    /** Set when this gateway is one of several workers on one port (src/workers/). */
    worker?: WorkerShare;
  },
): RunningGateway {
  const bus = opts.bus ?? createBus(config, opts.logger);
  // OpenTelemetry only when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set; shared process-wide.
  const tracing = setupTracing().catch((e) => {
    opts.logger.error("tracing disabled", { error: String(e) });
    return undefined;
  });
  // Replicas on NATS: replay on start, follow the others, share probe leases.
  const sync = config.nats.url && bus.kind === "nats"
    ? createStateSync({
      config,
      logger: opts.logger,
      clock: systemClock,
      siblings: opts.worker?.siblings,
      once: opts.worker?.once,
    })
    : undefined;
  const gateway = createGateway({
    config,
    bus,
    clock: systemClock,
    ids: createIdGen(),
    random: opts.random ?? Math.random,
    http: opts.http ?? fetchHttp,
    logger: opts.logger,
    leases: sync?.leases ?? opts.worker?.leases,
    replicas: sync?.stats,
    keyStore: opts.worker?.keyStore ?? keyStoreFor(config, opts.logger),
    plugins: opts.plugins,
    responseStore: opts.worker?.responseStore,
    feed: opts.worker?.feed,
    processEvents: opts.worker?.events,
    cacheStore: opts.worker?.cacheStore,
  });
  if (opts.worker) gateway.metrics = { ...gateway.metrics, scrape: opts.worker.scrape };
  const detach = opts.worker?.attach?.(gateway);
  void gateway.mcp.start(); // MCP servers connect in the background; a call waits for its own
  const app = createApp(gateway);
  let replaying = sync !== undefined;
  const replayed = sync
    ? sync.start(gateway.actors)
      .catch((e) => `provider state not replayed (${String(e)}): starting with fresh state`)
      .then((line) => {
        replaying = false;
        opts.logger.info(line);
        return line;
      })
    : Promise.resolve(undefined);
  // Aborted when the shutdown grace period ends: what is still in flight stops as if its client
  // had left (upstream closed, stream ended), else server.shutdown() would wait for it forever.
  const closing = new AbortController();
  // The calls in flight, each with its own controller, aborted when its client leaves or when
  // the grace ends. A set rather than AbortSignal.any([req.signal, closing.signal]) per call:
  // each of those is registered, through a weak reference, with the long-lived closing signal,
  // and that ever-growing registry pushed garbage into the old generation and major collections
  // into the tail latency (p99 at 500 RPS: ~20–35 ms with it, ~6–8 ms without).
  const live = new Set<AbortController>();
  closing.signal.addEventListener("abort", () => {
    for (const call of live) call.abort(closing.signal.reason);
  }, { once: true });
  const callEnv = (req: Request, completed: Promise<void>): ServeEnv => {
    const call = new AbortController();
    const done = () => void live.delete(call);
    if (closing.signal.aborted) call.abort(closing.signal.reason);
    else if (req.signal.aborted) call.abort(req.signal.reason);
    else {
      live.add(call);
      completed.then(done, done); // the answer, stream included, was sent or broke off
      req.signal.addEventListener("abort", () => call.abort(req.signal.reason), { once: true });
    }
    return { signal: call.signal };
  };
  const handler = async (req: Request, info: Deno.ServeHandlerInfo) => {
    if (replaying) {
      // Not ready until the provider state is rebuilt; requests wait for it (bounded by replay's
      // own timeout) rather than be decided on a state that is about to change.
      const path = new URL(req.url).pathname;
      if (path === "/readyz") {
        return Response.json({
          status: "not_ready",
          reason: "replaying provider state from NATS JetStream",
          providers: gateway.actors.ids(),
        }, { status: 503 });
      }
      if (path !== "/healthz") await replayed;
    }
    return app.fetch(req, callEnv(req, info.completed));
  };
  const hostname = opts.hostname ?? config.host;
  const server = Deno.serve(
    // Workers share one port: the kernel spreads new connections over their listeners.
    { port: config.port, hostname, onListen: () => {}, ...(opts.worker && { reusePort: true }) },
    handler,
  );
  const port = server.addr.port;
  let done: Promise<void> | undefined;
  return {
    gateway,
    bus,
    port,
    replayed,
    hostname,
    url: `http://${urlHost(hostname)}:${port}`,
    shutdown(graceMs = 10_000) {
      done ??= (async () => {
        gateway.draining = true;
        const deadline = Date.now() + graceMs;
        while (gateway.inFlight > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        closing.abort(
          new DOMException("The gateway shut down before the answer was complete.", "AbortError"),
        );
        await server.shutdown();
        await sync?.close();
        detach?.();
        await gateway.mcp.stop();
        gateway.stop();
        await gateway.governor.close();
        await gateway.plugins.close();
        await gateway.responses.close();
        await bus.close();
        await (await tracing)?.flush().catch(() => {});
      })();
      return done;
    },
  };
}

/** The lines a person sees at start-up: what is served, which providers, where events go. */
/** The defaults that decide a failover, so an operator sees them without reading the code. */
function describeFailover(config: Config): string {
  const t = config.timeouts;
  const s = (ms: number) => `${Math.round(ms / 100) / 10}s`;
  return [
    `headers ${s(t.headersMs)}, first token ${s(t.firstTokenMs)}, idle ${s(t.idleMs)}, request ${
      s(t.requestMs)
    }`,
    "breakers per model and provider-wide",
    `stream continuation ${config.streams.continuation ? "on" : "off"}`,
  ].join("; ");
}

/** Who may read the operator endpoints and /metrics, so an open deployment is never a surprise. */
function describeOperatorAccess(config: Config): string {
  const operator = config.adminKey
    ? "/v1/gateway/*, /dashboard, /admin/* behind GATEWAY_ADMIN_KEY"
    : "/v1/gateway/*, /dashboard open to anyone (set GATEWAY_ADMIN_KEY to protect them)";
  const metrics = config.metricsToken ? "/metrics behind METRICS_TOKEN" : "/metrics open";
  return `${operator}; ${metrics}`;
}

export function startupLines(config: Config, running: RunningGateway): string[] {
  const providers = Object.values(config.providers);
  const lines = [
    `gateway ${config.instance} listening on ${running.url}${
      running.hostname === "0.0.0.0" || running.hostname === "::"
        ? `  (HOST=${running.hostname}: every interface)`
        : ""
    }`,
    `  OpenAI-compatible: POST ${running.url}/v1/chat/completions  (model "provider/model", optional "fallbacks")`,
    `  also: POST /v1/responses  POST /v1/embeddings  GET /v1/models  GET /v1/gateway/providers  GET /healthz  GET /readyz  GET /metrics`,
    `  config: ${config.source}`,
  ];
  if (providers.length === 0) {
    lines.push(
      "  providers: none yet. Set OPENAI_API_KEY and/or ANTHROPIC_API_KEY, or point GATEWAY_CONFIG at a gateway.json.",
    );
  }
  for (const p of providers) {
    const keys = p.keys.length ? p.keys.map((k) => `${k.id} (env ${k.env})`).join(", ") : "no key";
    lines.push(`  provider ${p.id}: ${p.type} ${p.baseUrl}  keys: ${keys}`);
  }
  const aliases = Object.entries(config.routes);
  for (const [alias] of aliases) {
    lines.push(`  route ${alias} → ${describeRoute(config.routePlans[alias])}`);
  }
  for (const p of running.gateway.plugins.describe) lines.push(`  plugin ${p}`);
  lines.push(`  failover: ${describeFailover(config)}`);
  lines.push(`  traces: ${describeTracing()}`);
  lines.push(`  dashboard: ${running.url}/dashboard  (live events as SSE: GET /v1/gateway/events)`);
  for (const line of running.gateway.governor.describe()) lines.push(`  ${line}`);
  lines.push(`  operator endpoints: ${describeOperatorAccess(config)}`);
  lines.push(`  events: ${running.bus.describe}`);
  return lines;
}
