// Every domain event goes to JetStream as a CloudEvent without ever making a request wait:
// publish() only appends to a bounded buffer that a background loop drains. NATS being slow or
// down costs buffered events (and, past the bound, dropped ones), never latency or errors.
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { createJetStreamPublisher, type JetStreamPublisher, type Outgoing } from "./js_publish.ts";
import type { BusStats, EventBus, IdGen } from "../ports.ts";
import type { Logger } from "../lib/logger.ts";
import { sourceOf, toCloudEvent } from "./envelope.ts";
import { createMemoryBus } from "./memory_bus.ts";
import {
  connectOptions,
  describeServers,
  isAuthError,
  type NatsAccess,
} from "../lib/nats_connect.ts";
import { eventsStreamConfig, mutableStreamProblem } from "./stream_config.ts";

export interface NatsBusOptions {
  /** Websocket URL(s) of nats-server, credential and CA (src/lib/nats_connect.ts). */
  access: NatsAccess;
  /** Names this replica in the CloudEvents `source` (/gateway/<instance>). */
  instance: string;
  ids: IdGen;
  logger: Logger;
  /** JetStream stream name (default GATEWAY_EVENTS); created if missing, left alone if present. */
  stream?: string;
  /** Events held while NATS is unreachable (default 10000); the oldest go first. */
  maxBuffer?: number;
  /** Stream retention by age (default 24 h). */
  maxAgeMs?: number;
  /** Stream retention by size (default unbounded; age still bounds it). */
  maxBytes?: number;
  storage?: "file" | "memory";
  /** Stream replicas when creating it (default 1; 3 on a 3-node cluster). */
  replicas?: number;
  /** Publish to an existing stream that allows deletes or purges (default: refuse, say why). */
  allowMutableStream?: boolean;
  /** Pause between connect and publish retries (default 1000 ms). */
  retryMs?: number;
  /** How long close() waits for the buffer to drain (default 2000 ms). */
  closeTimeoutMs?: number;
}

type Pending = Outgoing;

const BATCH = 256;
const why = (err: unknown) => err instanceof Error ? err.message : String(err);
const PUBLISH_TIMEOUT_MS = 5_000;

export function createNatsBus(opts: NatsBusOptions): EventBus {
  const stream = opts.stream ?? "GATEWAY_EVENTS";
  const maxBuffer = Math.max(1, opts.maxBuffer ?? 10_000);
  const maxAgeMs = opts.maxAgeMs ?? 24 * 3_600_000;
  const retryMs = opts.retryMs ?? 1_000;
  const log = opts.logger;
  const url = describeServers(opts.access.servers);
  const local = createMemoryBus({ logger: log });

  let queue: Pending[] = [];
  let published = 0; // acknowledged by JetStream
  let dropped = 0;
  let nc: NatsConnection | undefined;
  let connected = false;
  let streamReady = false;
  let mutableWarned = false;
  let failing = false; // inside a streak of publish failures (logged once per streak)
  let closing = false; // close() called: drain what we can
  let stopped = false; // give up: the loop exits

  // The background loop sleeps on this; publish, reconnect and close wake it. While backing off
  // after a failure, publishes do not wake it, or a busy gateway would retry in a hot loop.
  let wake: (() => void) | undefined;
  let backingOff = false;
  const pause = (ms?: number) =>
    new Promise<void>((resolve) => {
      backingOff = ms !== undefined;
      const timer = ms === undefined ? undefined : setTimeout(() => wake?.(), ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        backingOff = false;
        resolve();
      };
    });

  async function connect(): Promise<NatsConnection | undefined> {
    let warned = false;
    while (!stopped) {
      try {
        // Our own first-connect loop rather than waitOnFirstConnect: close() can stop it.
        const c = await wsconnect(connectOptions(opts.access, {
          name: `gateway/${opts.instance}`,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: retryMs,
          timeout: 5_000,
          // Stream management calls are requests; with async traces on, nats-core builds Error
          // objects (stack traces included) for each in case it later fails.
          noAsyncTraces: true,
        }));
        if (!stopped) return c;
        await c.close();
      } catch (err) {
        if (!warned && isAuthError(err)) {
          log.error("NATS refused the gateway's credential; buffering events", {
            url,
            error: why(err),
          });
        } else if (!warned) {
          log.warn("NATS unreachable; buffering events", { url, error: why(err) });
        }
        warned = true;
        await pause(retryMs);
      }
    }
    return undefined;
  }

  async function watchStatus(c: NatsConnection) {
    // nats-core repeats a status once per failed reconnect attempt: act on transitions only.
    for await (const s of c.status()) {
      if (s.type === "disconnect" && connected) {
        connected = false;
        streamReady = false; // a restarted server may have lost a memory-backed stream
        log.warn("NATS disconnected; buffering events", { server: s.server });
      } else if (s.type === "reconnect" && !connected) {
        connected = true;
        log.info("NATS reconnected", { server: s.server, buffered: queue.length });
        wake?.();
      }
    }
  }

  async function ensureStream(c: NatsConnection) {
    const jsm = await jetstreamManager(c);
    try {
      const info = await jsm.streams.info(stream);
      const problem = opts.allowMutableStream ? undefined : mutableStreamProblem(info.config);
      // Checked before start (src/events/nats_preflight.ts); changed since: say so, keep going.
      if (problem && !mutableWarned) log.error(problem);
      mutableWarned = problem !== undefined;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) {
        throw err;
      }
      await jsm.streams.add(eventsStreamConfig({
        stream,
        storage: opts.storage,
        maxAgeMs,
        maxBytes: opts.maxBytes,
        replicas: opts.replicas,
      }));
      log.info("created JetStream stream", {
        stream,
        subjects: "gateway.>",
        replicas: opts.replicas ?? 1,
        immutable: true,
      });
    }
    streamReady = true;
  }

  /** Publishes the head of the buffer; what fails stays buffered for the next round. */
  async function flushBatch(js: JetStreamPublisher): Promise<boolean> {
    const batch = queue.slice(0, BATCH);
    const errors = await js.publishBatch(batch);
    const acked = new Set<Pending>();
    let failed: Error | undefined;
    for (let i = 0; i < batch.length; i++) {
      if (errors[i]) failed ??= errors[i];
      else acked.add(batch[i]);
    }
    const before = queue.length;
    queue = queue.filter((p) => !acked.has(p));
    published += before - queue.length; // evicted while in flight: already counted as dropped
    if (failed && !failing) {
      log.warn("JetStream publish failed; retrying", { error: why(failed) });
    } else if (!failed && failing) log.info("JetStream publish recovered", { stream });
    failing = failed !== undefined;
    return !failed;
  }

  async function run() {
    nc = await connect();
    if (!nc) return;
    connected = true;
    log.info("NATS connected", { url, stream });
    watchStatus(nc).catch(() => {}); // ends when the connection closes
    const js = createJetStreamPublisher(nc, PUBLISH_TIMEOUT_MS, sourceOf(opts.instance));
    nc.closed().then(() => js.close());
    while (!stopped && !(closing && queue.length === 0)) {
      if (!connected || queue.length === 0) {
        await pause();
        continue;
      }
      try {
        if (!streamReady) await ensureStream(nc);
        if (await flushBatch(js)) continue;
      } catch (err) {
        if (!failing) {
          log.warn("JetStream stream unavailable; retrying", { stream, error: why(err) });
        }
        failing = true;
      }
      streamReady = false; // e.g. the stream was deleted: check it again before retrying
      await pause(retryMs);
    }
  }
  const running = run().catch((err) => log.error("event bus loop crashed", { error: why(err) }));

  return {
    kind: "nats",
    describe: `NATS ${url} → JetStream stream ${stream} (subjects gateway.>)`,
    publish(event) {
      local.publish(event);
      if (stopped) {
        dropped++;
        return;
      }
      try {
        const ce = toCloudEvent(event, opts.ids.next(), opts.instance);
        queue.push({ id: ce.id, subject: ce.subject, payload: JSON.stringify(ce) });
      } catch (err) {
        dropped++; // an unserialisable event must not fail the request that produced it
        log.error("event not serialisable", { type: event.type, error: why(err) });
        return;
      }
      if (queue.length > maxBuffer) {
        queue.shift();
        dropped++;
      }
      if (!backingOff) wake?.();
    },
    subscribe: (listener) => local.subscribe(listener),
    stats(): BusStats {
      return { published, dropped, buffered: queue.length, connected };
    },
    async close() {
      closing = true;
      wake?.();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeUp = new Promise<void>((r) => timer = setTimeout(r, opts.closeTimeoutMs ?? 2_000));
      await Promise.race([running, timeUp]);
      clearTimeout(timer);
      stopped = true;
      wake?.();
      // Closing the connection rejects publishes still in flight, so the loop ends promptly.
      if (queue.length > 0) log.warn("closing with unflushed events", { buffered: queue.length });
      await nc?.close();
      await running;
      connected = false;
      await local.close();
    },
  };
}
