// Stored responses in this process, each dropped `ttlMs` after it was put.
import type { Clock } from "../ports.ts";
import type { ResponseStore, StoredResponse } from "./store.ts";

export function createMemoryResponseStore(opts: { ttlMs: number; clock: Clock }): ResponseStore {
  const entries = new Map<string, { r: StoredResponse; expiresAt: number }>();
  // Insertion order is expiry order (one TTL for all), so expired entries sit at the front.
  const sweep = (now: number) => {
    for (const [id, e] of entries) {
      if (e.expiresAt > now) return;
      entries.delete(id);
    }
  };
  return {
    describe: `in memory (TTL ${opts.ttlMs} ms)`,
    get(id) {
      const e = entries.get(id);
      if (!e || e.expiresAt <= opts.clock.now()) return Promise.resolve(undefined);
      return Promise.resolve(structuredClone(e.r));
    },
    put(r) {
      const now = opts.clock.now();
      sweep(now);
      entries.delete(r.id);
      entries.set(r.id, { r: structuredClone(r), expiresAt: now + opts.ttlMs });
      return Promise.resolve();
    },
    delete: (id) => Promise.resolve(entries.delete(id)),
    close: () => Promise.resolve(),
  };
}
