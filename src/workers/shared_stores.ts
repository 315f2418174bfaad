// The stores a worker shares with the others without NATS: each implements the interface the
// gateway already uses (KeyStore, CacheStore, ResponseStore, ProbeLeases) by calling the one
// store in the main thread (./hub.ts), so the governor, the cache plugin, the Responses API
// and the provider actors cannot tell them from their single-process stores.
import type { ProbeLeases } from "../../actors/provider/mod.ts";
import type { KeyStore, Versioned } from "../governance/mod.ts";
import type { CacheEntry, CacheStore } from "../plugins/cache.ts";
import type { ResponseStore, StoredResponse } from "../responses/mod.ts";
import type { WorkerLink } from "./link.ts";

type Link = Pick<WorkerLink, "call" | "watch">;

export function sharedKeyStore(link: Link): KeyStore {
  const stops = new Set<() => void>();
  return {
    kind: "memory",
    describe: "in-process store in the main thread, shared by every worker (NATS_URL not set)",
    get: (key) => link.call("keys.get", key) as Promise<Versioned | undefined>,
    put: (key, value, revision) =>
      link.call("keys.put", key, value, revision) as Promise<number | undefined>,
    list: (prefix) => link.call("keys.list", prefix) as Promise<Map<string, Versioned>>,
    async watch(prefix, onChange) {
      const w = link.watch((key, entry) => onChange(key, entry as Versioned | undefined));
      await link.call("keys.watch", prefix, w.wid);
      const stop = () => {
        if (!stops.delete(stop)) return;
        w.stop();
        link.call("keys.unwatch", w.wid).catch(() => {});
      };
      stops.add(stop);
      return stop;
    },
    close() {
      for (const stop of [...stops]) stop();
      return Promise.resolve();
    },
  };
}

/** The cache plugin's store, one per configured cache name, kept in the main thread. */
export function sharedCacheStore(
  link: Pick<WorkerLink, "call">,
  name: string,
  maxEntries: number,
  ttlMs: number,
): CacheStore {
  return {
    describe:
      `in-memory LRU in the main thread, shared by every worker (${maxEntries} entries, TTL ${ttlMs} ms)`,
    get: (key, now) =>
      link.call("cache.get", name, maxEntries, ttlMs, key, now) as Promise<
        { entry: CacheEntry; ageMs: number } | undefined
      >,
    set: (key, entry, now) =>
      link.call("cache.set", name, maxEntries, ttlMs, key, entry, now) as Promise<void>,
  };
}

export function sharedResponseStore(link: Pick<WorkerLink, "call">): ResponseStore {
  return {
    describe: "in memory in the main thread, shared by every worker",
    get: (id) => link.call("responses.get", id) as Promise<StoredResponse | undefined>,
    put: (r) => link.call("responses.put", r) as Promise<void>,
    delete: (id) => link.call("responses.delete", id) as Promise<boolean>,
    close: () => Promise.resolve(),
  };
}

/** Probe leases from the main thread's table; `holder` is this worker's instance id. */
export function sharedLeases(link: Pick<WorkerLink, "call">, holder: string): ProbeLeases {
  return {
    acquire: (key, ttlMs) =>
      link.call("lease", holder, key, ttlMs) as ReturnType<ProbeLeases["acquire"]>,
  };
}
