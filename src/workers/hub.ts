// The main thread's side of the workers (src/workers/worker.ts): one process, one set of numbers.
// It puts each worker's events in one order and keeps that single log (./event_log.ts), which a
// worker reads on demand for the /v1/gateway/events client it answers: the recent entries by
// call, live entries only while it follows the log. It hands each worker the *other* workers'
// provider state events, the only ones a replica folds — with NATS too, where the stream is
// slower and may be down (the workers then do not follow each other through it). It holds
// the stores the workers share without NATS — virtual keys, usage and spend, the response cache,
// stored responses, probe leases — answering their calls. It gathers every worker's metrics for
// a scrape, summed by prom-client's AggregatorRegistry.
import { AggregatorRegistry } from "prom-client";
import type { Config } from "../config.ts";
import { createMemoryKeyStore, type KeyStore } from "../governance/mod.ts";
import type { CacheEntry, CacheStore } from "../plugins/cache.ts";
import { memoryCacheStore } from "../plugins/mod.ts";
import { stateEventProvider } from "../events/replay.ts";
import type { Clock, IdGen, ProcessEventStats } from "../ports.ts";
import { createMemoryResponseStore, type StoredResponse } from "../responses/mod.ts";
import { createEventLog } from "./event_log.ts";
import { createLeaseTable } from "./lease_table.ts";
import {
  answer,
  type Caller,
  createCaller,
  type FeedItem,
  type ToMain,
  type ToWorker,
} from "./protocol.ts";

export interface HubOptions {
  count: number;
  config: Pick<Config, "responses">;
  post(index: number, message: ToWorker): void;
  ids: IdGen;
  clock: Clock;
  /** Log entries kept for replay and resumes (default 500, the relay's backlog). */
  backlog?: number;
}

export interface Hub {
  handle(index: number, message: ToMain): void;
  /** Events put in order so far. */
  readonly events: number;
  /** Workers following the log now (a /v1/gateway/events client connected to each). */
  readonly followers: number;
  /** A worker went away: its calls fail instead of waiting. */
  gone(index: number): void;
  close(): Promise<void>;
}

/** One process's event counts from its workers': summed, connected only when every bus is. */
export function sumEventStats(all: readonly ProcessEventStats[]): ProcessEventStats {
  const bus = { published: 0, dropped: 0, buffered: 0, connected: all.length > 0 };
  let replicas: ProcessEventStats["replicas"];
  for (const s of all) {
    bus.published += s.bus.published;
    bus.dropped += s.bus.dropped;
    bus.buffered += s.bus.buffered;
    bus.connected &&= s.bus.connected;
    if (s.replicas) {
      replicas ??= { folded: 0, rejected: 0 };
      replicas.folded += s.replicas.folded;
      replicas.rejected += s.replicas.rejected;
    }
  }
  return replicas ? { bus, replicas } : { bus };
}

export function createHub(o: HubOptions): Hub {
  const keys: KeyStore = createMemoryKeyStore();
  const caches = new Map<string, CacheStore>();
  const responses = createMemoryResponseStore({ ttlMs: o.config.responses.ttlMs, clock: o.clock });
  const leases = createLeaseTable(o.clock);
  const watches = new Map<string, () => void>();
  const callers: Caller[] = Array.from(
    { length: o.count },
    (_, i) => createCaller((m) => o.post(i, m)),
  );
  let events = 0;
  const log = createEventLog(o.backlog ?? 500);
  const followers = new Set<number>();

  const cacheFor = (name: string, maxEntries: number, ttlMs: number) => {
    let c = caches.get(name);
    if (!c) caches.set(name, c = memoryCacheStore(maxEntries, ttlMs));
    return c;
  };

  /** What a worker may ask; `i` is the asking worker. */
  const ops: Record<string, (i: number, ...args: never[]) => unknown> = {
    "keys.get": (_i, key: string) => keys.get(key),
    "keys.put": (_i, key: string, value: unknown, revision: number) =>
      keys.put(key, value, revision),
    "keys.list": (_i, prefix: string) => keys.list(prefix),
    "keys.watch": async (i, prefix: string, wid: number) => {
      const stop = await keys.watch(
        prefix,
        (key, entry) => o.post(i, { t: "watch", wid, key, entry }),
      );
      watches.set(`${i}:${wid}`, stop);
    },
    "keys.unwatch": (i, wid: number) => {
      watches.get(`${i}:${wid}`)?.();
      watches.delete(`${i}:${wid}`);
    },
    "cache.get": (_i, name: string, max: number, ttl: number, key: string, now: number) =>
      cacheFor(name, max, ttl).get(key, now),
    "cache.set": (
      _i,
      name: string,
      max: number,
      ttl: number,
      key: string,
      entry: CacheEntry,
      now: number,
    ) => cacheFor(name, max, ttl).set(key, entry, now),
    "responses.get": (_i, id: string) => responses.get(id),
    "responses.put": (_i, r: StoredResponse) => responses.put(r),
    "responses.delete": (_i, id: string) => responses.delete(id),
    "lease": (_i, holder: string, key: string, ttlMs: number) => leases.acquire(holder, key, ttlMs),
    // The log, on demand: the newest n entries; following (live entries) starts with the call
    // and lasts until "events.unfollow". Entries appended between a follow and a later
    // "events.recent" come both ways; the reader keeps the ids past its snapshot.
    "events.recent": (_i, n: number) => log.last(n),
    "events.follow": (i) => void followers.add(i),
    "events.unfollow": (i) => void followers.delete(i),
    "events.stats": async () =>
      sumEventStats(
        (await Promise.all(callers.map((c) => c.call("events.own")))) as ProcessEventStats[],
      ),
    "metrics": async () => {
      const all = await Promise.all(callers.map((c) => c.call("metrics.json")));
      // deno-lint-ignore no-explicit-any
      return await AggregatorRegistry.aggregate(all as any).metrics();
    },
  };

  return {
    get events() {
      return events;
    },
    get followers() {
      return followers.size;
    },
    handle(index, m) {
      switch (m.t) {
        case "events": {
          const n = m.batch.length;
          const batch: FeedItem[] = new Array(n);
          let state: typeof m.batch | undefined;
          for (let k = 0; k < n; k++) {
            const event = m.batch[k];
            const item = { event, id: o.ids.next(), instance: m.instance };
            batch[k] = item;
            log.append(item);
            if (stateEventProvider(event) !== undefined) (state ??= []).push(event);
          }
          events += n;
          for (const i of followers) o.post(i, { t: "feed", batch });
          if (state) {
            for (let i = 0; i < o.count; i++) {
              if (i !== index) o.post(i, { t: "state", batch: state });
            }
          }
          break;
        }
        case "call": {
          const op = ops[m.op];
          void answer((a) => o.post(index, a), m.id, () => {
            if (!op) throw new Error(`unknown call ${m.op}`);
            return op(index, ...(m.args as never[]));
          });
          break;
        }
        case "answer":
          callers[index]?.settle(m);
          break;
      }
    },
    gone(index) {
      followers.delete(index);
      callers[index]?.failAll(`worker ${index} stopped`);
    },
    async close() {
      for (const stop of watches.values()) stop();
      watches.clear();
      await keys.close();
      await responses.close();
    },
  };
}
