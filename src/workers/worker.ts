// One gateway worker (a Deno module Worker started by ./run.ts): loads the same config as the
// main thread, takes the instance id and port it is given, and runs the gateway exactly as a
// single process does — with the main thread's feed, stores and metrics gathering shared in.
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { loadConfig } from "../config.ts";
import { createMemoryBus } from "../events/mod.ts";
import { sourceOf } from "../events/envelope.ts";
import type { SharedEventLog } from "../http/events_sse.ts";
import { createLogger } from "../lib/logger.ts";
import { createBus, type RunningGateway, startGateway, startupLines } from "../server.ts";
import { createFoldOnce } from "./fold_once.ts";
import { foldOtherWorkers } from "./fold_replicas.ts";
import { createWorkerLink } from "./link.ts";
import type { ProcessEventStats } from "../ports.ts";
import type { FeedItem, ToMain, ToWorker } from "./protocol.ts";
import { createSharedBus } from "./shared_bus.ts";
import {
  sharedCacheStore,
  sharedKeyStore,
  sharedLeases,
  sharedResponseStore,
} from "./shared_stores.ts";

const post = (m: ToMain) => self.postMessage(m);
const link = createWorkerLink(post);
const logger = createLogger((Deno.env.get("LOG_LEVEL") as "info" | undefined) ?? "info");
let running: RunningGateway | undefined;
let index = -1;

async function start(init: Extract<ToWorker, { t: "init" }>) {
  index = init.index;
  const loaded = await loadConfig();
  const config = { ...loaded, instance: `${init.instance}-w${init.index}`, port: init.port };
  const nats = Boolean(config.nats.url);
  const ownSource = sourceOf(config.instance);
  const siblingPrefix = `${sourceOf(init.instance)}-w`;
  const once = createFoldOnce();
  const bus = createSharedBus({
    inner: nats ? createBus(config, logger) : createMemoryBus({ logger }),
    link,
    instance: config.instance,
  });
  running = startGateway(config, {
    logger,
    bus,
    worker: {
      ...(!nats && {
        keyStore: sharedKeyStore(link),
        leases: sharedLeases(link, config.instance),
        responseStore: sharedResponseStore(link),
        cacheStore: (name, max, ttl) => sharedCacheStore(link, name, max, ttl),
      }),
      // The other workers' breaker and limiter changes come through the main thread at once,
      // with NATS too (its stream is slower and may be down); there they are not followed.
      attach: (gateway) => foldOtherWorkers({ link, actors: gateway.actors, logger, once }).stop,
      once,
      siblings: (source) =>
        source !== ownSource && source.startsWith(siblingPrefix) &&
        /^\d+$/.test(source.slice(siblingPrefix.length)),
      feed: sharedLog(),
      scrape: () => link.call("metrics") as Promise<string>,
      events: () => link.call("events.stats") as Promise<ProcessEventStats>,
    },
  });
  const gw = running.gateway;
  link.serve("metrics.json", () => gw.metrics.registry.getMetricsAsJSON());
  link.serve("events.own", (): ProcessEventStats => ({
    bus: running!.bus.stats(),
    ...(gw.deps.replicas && { replicas: gw.deps.replicas() }),
  }));
  post({
    t: "ready",
    index,
    port: running.port,
    // The process's lines, under its own instance id (each worker's is that plus -w<index>).
    lines: index === 0 ? startupLines({ ...config, instance: init.instance }, running) : [],
  });
}

/**
 * The main thread's events log, read on demand: entries flow here only while a listener is
 * subscribed (a /v1/gateway/events client of this worker), and recent ones by call.
 */
function sharedLog(): SharedEventLog {
  const listeners = new Set<(item: FeedItem) => void>();
  link.onFeed((item) => {
    for (const l of listeners) l(item);
  });
  return {
    subscribe(listener) {
      const entry = (item: FeedItem) =>
        listener(item.event, { id: item.id, instance: item.instance });
      listeners.add(entry);
      if (listeners.size === 1) link.call("events.follow").catch(() => {});
      return () => {
        if (!listeners.delete(entry) || listeners.size > 0) return;
        link.call("events.unfollow").catch(() => {});
      };
    },
    recent: async (n) =>
      ((await link.call("events.recent", n)) as FeedItem[]).map((item) => [
        item.event,
        { id: item.id, instance: item.instance },
      ]),
  };
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (link.receive(m)) return;
  if (m.t === "init") {
    start(m).catch((err) => {
      post({
        t: "failed",
        index: m.index,
        error: err instanceof Error ? err.message : String(err),
      });
    });
  } else if (m.t === "drain") {
    const r = running;
    (r ? r.shutdown(m.graceMs) : Promise.resolve()).finally(() => {
      post({ t: "drained", index });
    });
  }
};
