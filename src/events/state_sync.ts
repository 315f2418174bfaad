// Provider state across restarts and replicas, when NATS is configured. On start: replay the
// recent state events from JetStream into the provider actors (hydrate: nothing is published),
// ask for the probe lease of any breaker already due a half-open probe, then follow the other
// replicas' events from where the replay stopped. The probe leases live in a KV bucket on the
// same connection. NATS down at start: start with fresh state, say so, and begin following
// the others (from then on) once it is reachable.
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import type { KV } from "@nats-io/kv";
import type { ProviderActor } from "../../actors/provider/mod.ts";
import type { Registry } from "../../actors/runtime/mod.ts";
import type { Config } from "../config.ts";
import { connectOptions } from "../lib/nats_connect.ts";
import type { Logger } from "../lib/logger.ts";
import type { Clock, ReplicaStats } from "../ports.ts";
import type { GatewayEvent } from "./catalogue.ts";
import { createKvProbeLeases, openLeaseBucket } from "./probe_leases.ts";
import { type Follower, followReplicas } from "./follow_replicas.ts";
import { readReplay, replayLine, replayWindows } from "./replay.ts";

export interface StateSyncOptions {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** How long the first connection attempt may take before starting fresh (default 2000). */
  connectTimeoutMs?: number;
  /** How long replay may take before starting fresh (default 10000). */
  replayTimeoutMs?: number;
  /** The newest events replayed per kind (default 50000). */
  maxEvents?: number;
  /** Pause between connection attempts after a failed start (default 1000). */
  retryMs?: number;
  /** Sources not to follow: this process's other workers (src/workers/), folded another way. */
  siblings?: (source: string) => boolean;
  /** False for an event already folded another way (src/workers/fold_once.ts): not folded again. */
  once?: (e: GatewayEvent) => boolean;
}

export interface StateSync {
  /** Hand to the provider actors (createGateway), before start(). */
  readonly leases: ReturnType<typeof createKvProbeLeases>;
  /** Replays into `actors` and starts following; resolves with the start-up line. */
  start(actors: Registry<ProviderActor>): Promise<string>;
  /** Counts of the events followed from the other replicas. */
  stats(): ReplicaStats;
  close(): Promise<void>;
}

const why = (err: unknown) => err instanceof Error ? err.message : String(err);

function deadlineAfter<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeUp]).finally(() => clearTimeout(timer));
}

export function createStateSync(o: StateSyncOptions): StateSync {
  const { config, logger } = o;
  const url = config.nats.url;
  if (!url) throw new Error("state sync needs nats.url");
  const stream = config.nats.stream;
  const instance = config.instance;
  const retryMs = o.retryMs ?? 1_000;
  let nc: NatsConnection | undefined;
  let bucket: KV | undefined;
  let follower: Follower | undefined;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const leases = createKvProbeLeases({
    bucket: () => bucket,
    instance,
    clock: o.clock,
    logger,
  });

  const connect = () =>
    wsconnect(connectOptions(config.nats, {
      name: `gateway/${instance}/state`,
      timeout: o.connectTimeoutMs ?? 2_000,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: retryMs,
    }));

  const openBucket = async (c: NatsConnection) => {
    try {
      bucket = await openLeaseBucket(c, stream, config.nats.replicas);
    } catch (err) {
      logger.warn("probe lease bucket unavailable; replicas probe on their own", {
        error: why(err),
      });
    }
  };

  const follow = (c: NatsConnection, actors: Registry<ProviderActor>, from: number | "new") => {
    follower = followReplicas(c, {
      stream,
      instance,
      providers: new Set(actors.ids()),
      siblings: o.siblings,
      from,
      onEvent: (e: GatewayEvent) => {
        if (o.once?.(e) === false) return;
        actors.get((e as { provider: string }).provider)?.hydrate([e]);
      },
      logger,
    });
  };

  /** After a start without NATS: keep trying; once in, follow from now on (no replay). */
  const connectLater = (actors: Registry<ProviderActor>) => {
    retryTimer = setTimeout(async () => {
      retryTimer = undefined;
      if (closed) return;
      let c: NatsConnection;
      try {
        c = await connect();
      } catch {
        return connectLater(actors);
      }
      if (closed) return void c.close();
      nc = c;
      await openBucket(c);
      if (closed) return;
      follow(c, actors, "new");
      logger.info("NATS reachable: sharing provider state with other replicas from now on", {
        url,
      });
    }, retryMs);
    Deno.unrefTimer(retryTimer);
  };

  // Counts survive a follower being replaced (reconnect after a start without NATS).
  return {
    leases,
    stats: () => ({ folded: follower?.folded ?? 0, rejected: follower?.rejected ?? 0 }),
    async start(actors) {
      try {
        nc = await connect();
      } catch (err) {
        connectLater(actors);
        return `NATS ${url} unreachable at start (${
          why(err)
        }): starting with fresh provider state, nothing replayed`;
      }
      await openBucket(nc);
      const windows = replayWindows(config);
      const now = o.clock.now();
      const timeoutMs = o.replayTimeoutMs ?? 10_000;
      let replayed;
      try {
        replayed = await deadlineAfter(
          readReplay(nc, {
            ...windows,
            stream,
            providers: new Set(actors.ids()),
            now,
            maxEvents: o.maxEvents,
            deadline: Date.now() + timeoutMs,
          }),
          timeoutMs,
          "replay",
        );
      } catch (err) {
        if (!closed) follow(nc, actors, "new");
        return `replay from ${stream} failed (${why(err)}): starting with fresh provider state`;
      }
      const byProvider = new Map<string, GatewayEvent[]>();
      for (const e of replayed.events) {
        if (o.once?.(e) === false) continue;
        const p = (e as { provider: string }).provider;
        const list = byProvider.get(p) ?? [];
        list.push(e);
        byProvider.set(p, list);
      }
      for (const [p, events] of byProvider) actors.get(p)?.hydrate(events);
      // A breaker already due a probe: take its lease now, so the first request can probe.
      // Bounded: a slow store must not hold readiness (the lease is asked again on demand).
      await deadlineAfter(Promise.all(actors.all().map((a) => a.claimProbe())), 3_000, "leases")
        .catch(() => {});
      if (!closed) follow(nc, actors, replayed.streamFound ? replayed.lastSeq + 1 : 1);
      return replayLine(
        replayed,
        { stream, windowMs: windows.windowMs, now: o.clock.now() },
        actors.all().map((a) => a.snapshot(o.clock.now())),
      );
    },
    async close() {
      closed = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      await follower?.stop();
      await nc?.close().catch(() => {});
    },
  };
}
