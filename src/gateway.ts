// The gateway's runtime pieces, built from config and ports: one provider actor and one upstream
// target per configured provider, and the supervisor dependencies shared by all requests.
import {
  type ProbeLeases,
  type ProviderActor,
  type ProviderActorConfig,
  spawnProviderActor,
} from "../actors/provider/mod.ts";
import { Registry } from "../actors/runtime/mod.ts";
import type { SupervisorDeps } from "../actors/supervisor/mod.ts";
import type { Config, ProviderConfig } from "./config.ts";
import type { Logger } from "./lib/logger.ts";
import { sleep } from "./lib/sleep.ts";
import type {
  Clock,
  EventBus,
  IdGen,
  ProcessEventStats,
  ProviderHttp,
  Random,
  ReplicaStats,
} from "./ports.ts";
import { adapterFor } from "./providers/mod.ts";
import { providerTypeInfo, servesResponsesApi } from "./providers/provider_types.ts";
import type { ProviderTarget } from "./providers/execute.ts";
import { timeoutsLookup } from "./providers/timeouts.ts";
import { createTokenSource } from "./providers/vertex/mod.ts";
import { type AttemptPipeline, createAttemptPipeline } from "./http/attempt_pipeline.ts";
import {
  createGovernor,
  createMemoryKeyStore,
  type Governor,
  type KeyStore,
} from "./governance/mod.ts";
import { type ResponseStore, responseStoreFor } from "./responses/mod.ts";
import { createMetrics, type GatewayMetrics } from "./telemetry/mod.ts";
import {
  actorHealth,
  type Balancer,
  createBalancer,
  createPlanner,
  type Planner,
} from "./routing/mod.ts";
import type { GatewayEvent } from "./events/catalogue.ts";
import { createMcpHub, type McpHub, observeMcpMetrics } from "./mcp/mod.ts";
import {
  buildPlugins,
  type BuiltPlugins,
  type CacheStore,
  createPluginChain,
  type Embed,
  type Plugin,
  type PluginChain,
} from "./plugins/mod.ts";

export interface GatewayDeps {
  config: Config;
  bus: EventBus;
  clock: Clock;
  ids: IdGen;
  random: Random;
  http: ProviderHttp;
  logger: Logger;
  /** Replicas on NATS share half-open probe slots through these (src/events/state_sync.ts). */
  leases?: ProbeLeases;
  /** Events followed from other replicas (with NATS): metrics and /readyz show them. */
  replicas?: () => ReplicaStats;
  /** Where virtual keys, usage and spend live (default: in memory; NATS KV from server.ts). */
  keyStore?: KeyStore;
  /** Plugins given in code, run after the ones configured in gateway.json. */
  plugins?: readonly Plugin[];
  /** Where POST /v1/responses keeps answers (default: NATS KV when configured, else memory). */
  responseStore?: ResponseStore;
  /**
   * Under workers (src/workers/): every worker's events in one order, with the id and source
   * each keeps everywhere, for /v1/gateway/events (default: this gateway's bus).
   */
  feed?: EventFeed;
  /** Under workers: the whole process's event counts (every worker's), for /readyz. */
  processEvents?: () => Promise<ProcessEventStats>;
  /** Under workers without NATS: the cache plugin's memory store, shared (default: its own). */
  cacheStore?: (name: string, maxEntries: number, ttlMs: number) => CacheStore;
}

/** Events with the id and instance they carry on the wire. */
export interface EventFeed {
  subscribe(
    listener: (event: GatewayEvent, stamp: { id: string; instance: string }) => void,
  ): () => void;
}

export interface Gateway {
  deps: GatewayDeps;
  actors: Registry<ProviderActor>;
  targets: ReadonlyMap<string, ProviderTarget>;
  supervisor: SupervisorDeps;
  /** Prometheus metrics, fed from the bus from the moment the gateway exists. */
  metrics: GatewayMetrics;
  /** The embeddings pipeline in-process, for plugins (the semantic cache); bound by createApp. */
  embed?: Embed;
  /** Virtual keys: authentication, limits, budgets, spend, and the admin API's operations. */
  governor: Governor;
  /** Per-request order of route groups (weighted, latency), sticky sessions. */
  balancer: Balancer;
  /** The one candidate planner: model, route (through the balancer), fallbacks, virtual key. */
  plan: Planner;
  /** Every attempt's layers (meter, span, plugins, the call), composed once: ./http/attempt_pipeline.ts. */
  attempts: AttemptPipeline;
  /** Plugins around every attempt; `close` releases their stores (awaited on shutdown). */
  plugins: PluginChain & Pick<BuiltPlugins, "describe" | "close">;
  /** Stored Responses API answers (previous_response_id, GET /v1/responses/{id}); closed on shutdown. */
  responses: ResponseStore;
  /** MCP servers (src/mcp/): their tools for /v1/mcp/*, /mcp and chat calls. */
  mcp: McpHub;
  /** Set on SIGTERM: readiness fails and new requests are refused while in-flight ones finish. */
  draining: boolean;
  inFlight: number;
  stop(): void;
}

/** Provider without keys (a local vLLM, Ollama …) still gets one key slot for its limiter. */
function keysOf(p: ProviderConfig) {
  return p.keys.length ? p.keys : [{ id: `${p.id}-nokey`, weight: 1, secret: "", env: "" }];
}

/** The longest an attempt on this provider may take (its own or any model's totalMs). */
function longestAttemptMs(p: ProviderConfig): number {
  return Math.max(p.timeouts.totalMs, ...Object.values(p.timeouts.models).map((t) => t.totalMs));
}

export function actorConfig(p: ProviderConfig): ProviderActorConfig {
  return {
    id: p.id,
    keys: keysOf(p).map((k) => ({ id: k.id, weight: k.weight })),
    breaker: { ...p.breaker, probeLeaseMs: longestAttemptMs(p) + 5_000 },
    rateLimit: p.rateLimit,
    modelCooldownMs: p.modelCooldownMs,
    defaultRetryAfterMs: 1_000,
    quotaCooldownMs: p.quotaCooldownMs,
  };
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { config, bus, clock, logger } = deps;
  const actors = new Registry<ProviderActor>();
  const targets = new Map<string, ProviderTarget>();
  // Subscribed before any actor exists, so no event is missed.
  const metrics = createMetrics({
    bus,
    providers: Object.keys(config.providers),
    pricing: config.pricing,
    inFlight: () => gateway.inFlight,
    replicas: deps.replicas,
  });
  for (const p of Object.values(config.providers)) {
    const adapter = adapterFor(providerTypeInfo(p.type)?.family ?? p.type);
    if (!adapter) throw new Error(`providers.${p.id}.type: no adapter for "${p.type}"`);
    const { models, ...timeouts } = p.timeouts;
    targets.set(p.id, {
      adapter,
      baseUrl: p.baseUrl,
      timeouts,
      timeoutsFor: timeoutsLookup(timeouts, models),
      secrets: new Map(keysOf(p).map((k) => [k.id, k.secret])),
      settings: {
        responsesApi: servesResponsesApi(p),
        apiVersion: p.apiVersion,
        deployments: p.deployments,
        region: p.region,
        credentials: p.credentials,
        accessToken: p.serviceAccount
          ? createTokenSource({
            provider: p.id,
            account: p.serviceAccount,
            source: p.serviceAccountEnv,
            http: deps.http,
            clock,
          })
          : undefined,
        headers: p.headers,
      },
    });
    actors.register(spawnProviderActor(actorConfig(p), {
      clock,
      publish: (e) => bus.publish(e),
      onCrash: (err, id) =>
        logger.error("provider actor crashed and restarted", { provider: id, error: String(err) }),
      leases: deps.leases,
    }));
  }
  const balancer = createBalancer({
    plans: config.routePlans,
    clock,
    random: deps.random,
    healthy: actorHealth((id) => actors.get(id)),
  });
  const unobserve = bus.subscribe((e) => balancer.observe(e));
  const mcp = createMcpHub(config.mcp, {
    clock,
    ids: deps.ids,
    random: deps.random,
    publish: (e) => bus.publish(e),
    logger,
  });
  const unobserveMcp = observeMcpMetrics(metrics.registry, bus, Object.keys(config.mcp.servers));
  const built = buildPlugins(config.plugins, {
    nats: config.nats.url ? config.nats : undefined,
    logger,
    memoryStore: deps.cacheStore,
    // Late-bound: the embeddings pipeline needs the gateway (createApp binds gateway.embed).
    embed: (input, o) =>
      gateway.embed
        ? gateway.embed(input, o)
        : Promise.reject(new Error("no embeddings pipeline bound (createApp binds it)")),
  });
  const chain = createPluginChain([...built.plugins, ...(deps.plugins ?? [])], {
    clock,
    publish: (e) => bus.publish(e),
    logger,
  });
  const gateway: Gateway = {
    deps,
    actors,
    targets,
    attempts: createAttemptPipeline(targets),
    supervisor: {
      config: {
        maxRetries: config.retries.max,
        backoffBaseMs: config.retries.baseMs,
        backoffMaxMs: config.retries.maxMs,
        maxRetryAfterMs: config.retries.maxRetryAfterMs,
        requestMs: config.timeouts.requestMs,
      },
      provider: (id) => actors.get(id),
      publish: (e) => bus.publish(e),
      clock,
      random: deps.random,
      sleep,
    },
    metrics,
    governor: createGovernor({
      config,
      store: deps.keyStore ?? createMemoryKeyStore(),
      clock,
      publish: (e) => bus.publish(e),
      logger,
    }),
    balancer,
    plan: createPlanner({ config, choose: balancer.choose, random: deps.random }),
    plugins: {
      ...chain,
      describe: [...built.describe, ...(deps.plugins ?? []).map((p) => `${p.name}: (in code)`)],
      close: built.close,
    },
    responses: deps.responseStore ?? responseStoreFor(config, { logger, clock }),
    mcp,
    draining: false,
    inFlight: 0,
    stop: () => {
      unobserve();
      unobserveMcp();
      void mcp.stop();
      actors.stopAll();
      metrics.close();
    },
  };
  return gateway;
}
