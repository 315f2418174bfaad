// The response cache on a NATS JetStream KV bucket, so every replica on one NATS shares answers.
// The bucket's TTL drops old entries on the server; reads also refuse entries past the TTL.
// The cache must never slow or fail a request: every operation has a short deadline, a failed
// connection is retried at most once per `retryMs`, and any error is a miss (or a skipped store).
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { type KV, Kvm } from "@nats-io/kv";
import type { Logger } from "../lib/logger.ts";
import { connectOptions, type NatsAccess } from "../lib/nats_connect.ts";
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
  const timeoutMs = opts.timeoutMs ?? 500;
  const retryMs = opts.retryMs ?? 2_000;
  let nc: NatsConnection | undefined;
  let opening: Promise<KV> | undefined;
  let failedAt = -Infinity;
  let closed = false;

  const open = (): Promise<KV> => {
    if (opening) return opening;
    if (closed) return Promise.reject(new Error("cache store closed"));
    if (Date.now() - failedAt < retryMs) {
      return Promise.reject(new Error("NATS cache unavailable (retrying later)"));
    }
    opening = (async () => {
      const c = await wsconnect(connectOptions(opts.access, {
        name: "gateway/cache",
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: retryMs,
        timeout: 5_000,
      }));
      if (closed) {
        await c.close();
        throw new Error("cache store closed");
      }
      nc = c;
      return await new Kvm(c).create(opts.bucket, {
        ttl: opts.ttlMs,
        history: 1,
        replicas: opts.replicas ?? 1,
      });
    })();
    opening.catch((e) => {
      opening = undefined;
      failedAt = Date.now();
      if (!closed) opts.logger.warn("response cache: NATS KV unavailable", { error: String(e) });
    });
    return opening;
  };

  /** `p` or a rejection after timeoutMs, whichever comes first (the timer never outlives it). */
  const within = <T>(p: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`NATS cache: no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
  };

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
    async close() {
      closed = true;
      await opening?.catch(() => {});
      await nc?.close().catch(() => {});
    },
  };
}
