// Starts a listening gateway from a Config: event bus (NATS when configured, else in-process),
// provider actors, Hono app, Deno.serve. Used by main.ts and by the integration tests, so tests
// exercise exactly what `deno task serve` runs.
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { createMemoryBus, createNatsBus } from "./events/mod.ts";
import { createGateway, type Gateway } from "./gateway.ts";
import { systemClock } from "./lib/clock.ts";
import { createIdGen } from "./lib/ids.ts";
import type { Logger } from "./lib/logger.ts";
import type { EventBus, ProviderHttp } from "./ports.ts";
import { fetchHttp } from "./providers/http.ts";

export interface RunningGateway {
  gateway: Gateway;
  bus: EventBus;
  url: string;
  port: number;
  /** Stop accepting, wait for in-flight requests and streams (bounded), flush events, close. */
  shutdown(graceMs?: number): Promise<void>;
}

export function createBus(config: Config, logger: Logger): EventBus {
  if (!config.nats.url) return createMemoryBus({ logger });
  return createNatsBus({
    url: config.nats.url,
    instance: config.instance,
    ids: createIdGen(),
    logger,
    stream: config.nats.stream,
    maxAgeMs: config.nats.maxAgeMs,
  });
}

export function startGateway(
  config: Config,
  opts: { logger: Logger; http?: ProviderHttp; hostname?: string; bus?: EventBus },
): RunningGateway {
  const bus = opts.bus ?? createBus(config, opts.logger);
  const gateway = createGateway({
    config,
    bus,
    clock: systemClock,
    ids: createIdGen(),
    random: Math.random,
    http: opts.http ?? fetchHttp,
    logger: opts.logger,
  });
  const app = createApp(gateway);
  // Aborted when the shutdown grace period ends: what is still in flight stops as if its client
  // had left (upstream closed, stream ended), else server.shutdown() would wait for it forever.
  const closing = new AbortController();
  const handler = (req: Request, info: Deno.ServeHandlerInfo) =>
    app.fetch(new Request(req, { signal: AbortSignal.any([req.signal, closing.signal]) }), info);
  const hostname = opts.hostname ?? "0.0.0.0";
  const server = Deno.serve({ port: config.port, hostname, onListen: () => {} }, handler);
  const port = server.addr.port;
  const shown = hostname === "0.0.0.0" ? "127.0.0.1" : hostname;
  let done: Promise<void> | undefined;
  return {
    gateway,
    bus,
    port,
    url: `http://${shown}:${port}`,
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
        gateway.stop();
        await bus.close();
      })();
      return done;
    },
  };
}

/** The lines a person sees at start-up: what is served, which providers, where events go. */
export function startupLines(config: Config, running: RunningGateway): string[] {
  const providers = Object.values(config.providers);
  const lines = [
    `gateway ${config.instance} listening on ${running.url}`,
    `  OpenAI-compatible: POST ${running.url}/v1/chat/completions  (model "provider/model", optional "fallbacks")`,
    `  also: GET /v1/models  GET /v1/gateway/providers  GET /healthz  GET /readyz`,
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
  for (const [alias, chain] of aliases) lines.push(`  route ${alias} → ${chain.join(" → ")}`);
  lines.push(`  events: ${running.bus.describe}`);
  return lines;
}
