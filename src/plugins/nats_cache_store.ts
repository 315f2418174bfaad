// The response cache on a NATS JetStream KV bucket, so every replica on one NATS shares answers.
// The bucket's TTL drops old entries on the server; reads also refuse entries past the TTL.
// The cache must never slow or fail a request: every operation has a short deadline, a failed
// connection is retried at most once per `retryMs`, and any error is a miss (or a skipped store).
import { lazyKv } from "../lib/lazy_kv.ts";
import type { Logger } from "../lib/logger.ts";
import type { NatsAccess } from "../lib/nats_connect.ts";
import type { CacheEntry, CacheStore } from "./cache.ts";

export interface NatsCacheStoreOptions {
  /** Websocket URL(s) of nats-server with JetStream, credential and CA. */
  access: NatsAccess;
  /** Bucket replicas when creating it (default 1). */
  replicas?: number;
  bucket: string;
  ttlMs: number;
  logger: Logger;
  /** Deadline per get/put, and for a request waiting on the first connection (default 500 ms). */
  timeoutMs?: number;
  /** Least time between connection attempts after one failed (default 2000 ms). */
  retryMs?: number;
}

export interface NatsCacheStore extends CacheStore {
  close(): Promise<void>;
}

export function natsCacheStore(opts: NatsCacheStoreOptions): NatsCacheStore {
  const { open, within, close } = lazyKv({
    ...opts,
    name: "gateway/cache",
    label: "response cache",
    timeoutMs: opts.timeoutMs ?? 500,
    connectTimeoutMs: 5_000,
  });
  return {
    describe: `NATS KV bucket ${opts.bucket} (TTL ${opts.ttlMs} ms)`,
    async get(key, now) {
      const kv = await within(open());
      const e = await within(kv.get(key));
      if (!e || e.operation !== "PUT") return undefined;
      const ageMs = Math.max(0, now - e.created.getTime());
      if (ageMs >= opts.ttlMs) return undefined;
      return { entry: e.json<CacheEntry>(), ageMs };
    },
    async set(key, entry) {
      const kv = await within(open());
      await within(kv.put(key, JSON.stringify(entry)));
    },
    close: () => close(),
  };
}
