// Stored responses in a NATS JetStream KV bucket, so any replica continues a conversation
// another one answered. The bucket's TTL drops old entries on the server. Every operation has a
// deadline and a failed connection is retried at most once per `retryMs`: an unreachable store
// fails fast with ResponseStoreUnavailable instead of holding the request.
import type { KV } from "@nats-io/kv";
import { lazyKv } from "../lib/lazy_kv.ts";
import type { Logger } from "../lib/logger.ts";
import type { NatsAccess } from "../lib/nats_connect.ts";
import { type ResponseStore, ResponseStoreUnavailable, type StoredResponse } from "./store.ts";

export interface NatsResponseStoreOptions {
  /** Websocket URL(s) of nats-server with JetStream, credential and CA. */
  access: NatsAccess;
  /** Bucket replicas when creating it (default 1). */
  replicas?: number;
  bucket: string;
  ttlMs: number;
  logger: Logger;
  /** Deadline per operation, and for the first connection (default 2000 ms). */
  timeoutMs?: number;
  /** Least time between connection attempts after one failed (default 2000 ms). */
  retryMs?: number;
}

export function createNatsResponseStore(opts: NatsResponseStoreOptions): ResponseStore {
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const kv = lazyKv({
    ...opts,
    name: "gateway/responses",
    label: "response store",
    timeoutMs,
    connectTimeoutMs: timeoutMs,
    unavailable: (message) => new ResponseStoreUnavailable(message),
  });
  const open = () => kv.open();

  /** `p`, or ResponseStoreUnavailable (after timeoutMs, or for whatever else went wrong). */
  const within = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await kv.within(p);
    } catch (e) {
      throw e instanceof ResponseStoreUnavailable ? e : new ResponseStoreUnavailable(String(e));
    }
  };

  const read = async (bucket: KV, id: string) => {
    const e = await within(bucket.get(id));
    return e && e.operation === "PUT" ? e.json<StoredResponse>() : undefined;
  };

  return {
    describe: `NATS KV bucket ${opts.bucket} (TTL ${opts.ttlMs} ms)`,
    async get(id) {
      return await read(await within(open()), id);
    },
    async put(r) {
      const bucket = await within(open());
      await within(bucket.put(r.id, JSON.stringify(r)));
    },
    async delete(id) {
      const bucket = await within(open());
      if (!(await read(bucket, id))) return false;
      await within(bucket.purge(id));
      return true;
    },
    close: () => kv.close(),
  };
}
