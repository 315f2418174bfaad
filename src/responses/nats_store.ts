// Stored responses in a NATS JetStream KV bucket, so any replica continues a conversation
// another one answered. The bucket's TTL drops old entries on the server. Every operation has a
// deadline and a failed connection is retried at most once per `retryMs`: an unreachable store
// fails fast with ResponseStoreUnavailable instead of holding the request.
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { type KV, Kvm } from "@nats-io/kv";
import type { Logger } from "../lib/logger.ts";
import { type ResponseStore, ResponseStoreUnavailable, type StoredResponse } from "./store.ts";

export interface NatsResponseStoreOptions {
  /** Websocket URL of a nats-server with JetStream. */
  url: string;
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
  const retryMs = opts.retryMs ?? 2_000;
  let nc: NatsConnection | undefined;
  let opening: Promise<KV> | undefined;
  let failedAt = -Infinity;
  let closed = false;

  const open = (): Promise<KV> => {
    if (opening) return opening;
    if (closed) return Promise.reject(new ResponseStoreUnavailable("response store closed"));
    if (Date.now() - failedAt < retryMs) {
      return Promise.reject(new ResponseStoreUnavailable("NATS response store unreachable"));
    }
    opening = (async () => {
      const c = await wsconnect({
        servers: opts.url,
        name: "gateway/responses",
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: retryMs,
        timeout: timeoutMs,
      });
      if (closed) {
        await c.close();
        throw new ResponseStoreUnavailable("response store closed");
      }
      nc = c;
      return await new Kvm(c).create(opts.bucket, { ttl: opts.ttlMs, history: 1 });
    })();
    opening.catch((e) => {
      opening = undefined;
      failedAt = Date.now();
      if (!closed) opts.logger.warn("response store: NATS KV unavailable", { error: String(e) });
    });
    return opening;
  };

  /** `p`, or ResponseStoreUnavailable after timeoutMs (the timer never outlives it). */
  const within = async <T>(p: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new ResponseStoreUnavailable(`NATS response store: no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([p, deadline]);
    } catch (e) {
      throw e instanceof ResponseStoreUnavailable ? e : new ResponseStoreUnavailable(String(e));
    } finally {
      clearTimeout(timer);
    }
  };

  const read = async (kv: KV, id: string) => {
    const e = await within(kv.get(id));
    return e && e.operation === "PUT" ? e.json<StoredResponse>() : undefined;
  };

  return {
    describe: `NATS KV bucket ${opts.bucket} (TTL ${opts.ttlMs} ms)`,
    async get(id) {
      return await read(await within(open()), id);
    },
    async put(r) {
      const kv = await within(open());
      await within(kv.put(r.id, JSON.stringify(r)));
    },
    async delete(id) {
      const kv = await within(open());
      if (!(await read(kv, id))) return false;
      await within(kv.purge(id));
      return true;
    },
    async close() {
      closed = true;
      await opening?.catch(() => {});
      await nc?.close().catch(() => {});
    },
  };
}
