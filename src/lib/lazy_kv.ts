// A NATS KV bucket opened on first use, for stores that must never slow or fail a request: the
// connection and bucket are made once (with the gateway's credential and CA), a failed attempt is
// retried at most once per `retryMs`, and every operation gets a deadline. The response cache,
// the semantic cache and stored responses each wrap one.
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { type KV, Kvm } from "@nats-io/kv";
import type { Logger } from "./logger.ts";
import { connectOptions, type NatsAccess } from "./nats_connect.ts";

export interface LazyKvOptions {
  access: NatsAccess;
  /** Bucket replicas when creating it (default 1). */
  replicas?: number;
  bucket: string;
  ttlMs: number;
  /** Connection name on the server (`gateway/cache`). */
  name: string;
  /** What the store is called in messages and logs (`response cache`). */
  label: string;
  logger: Logger;
  /** Deadline of `within`. */
  timeoutMs: number;
  /** Deadline of the first connection. */
  connectTimeoutMs: number;
  /** Least time between connection attempts after one failed (default 2000 ms). */
  retryMs?: number;
  /** The store's own error for "unavailable" (default a plain Error). */
  unavailable?: (message: string) => Error;
  /** More to do before the bucket counts as open (load an index from it, say). */
  ready?: (kv: KV) => Promise<void>;
}

export interface LazyKv {
  /** The bucket, opening it if needed; rejects at once while a failed attempt is recent. */
  open(): Promise<KV>;
  /** `p`, or the store's unavailable error after timeoutMs (the timer never outlives it). */
  within<T>(p: Promise<T>): Promise<T>;
  /** Closes the connection once an opening under way settled (or, bounded, gave up waiting). */
  close(bounded?: boolean): Promise<void>;
}

export function lazyKv(opts: LazyKvOptions): LazyKv {
  const retryMs = opts.retryMs ?? 2_000;
  const unavailable = opts.unavailable ?? ((m: string) => new Error(m));
  let nc: NatsConnection | undefined;
  let opening: Promise<KV> | undefined;
  let failedAt = -Infinity;
  let closed = false;

  const open = (): Promise<KV> => {
    if (opening) return opening;
    if (closed) return Promise.reject(unavailable(`${opts.label} store closed`));
    if (Date.now() - failedAt < retryMs) {
      return Promise.reject(unavailable(`NATS ${opts.label} unavailable (retrying later)`));
    }
    opening = (async () => {
      const c = await wsconnect(connectOptions(opts.access, {
        name: opts.name,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: retryMs,
        timeout: opts.connectTimeoutMs,
      }));
      if (closed) {
        await c.close();
        throw unavailable(`${opts.label} store closed`);
      }
      nc = c;
      const kv = await new Kvm(c).create(opts.bucket, {
        ttl: opts.ttlMs,
        history: 1,
        replicas: opts.replicas ?? 1,
      });
      await opts.ready?.(kv);
      return kv;
    })();
    opening.catch((e) => {
      opening = undefined;
      failedAt = Date.now();
      if (!closed) opts.logger.warn(`${opts.label}: NATS KV unavailable`, { error: String(e) });
    });
    return opening;
  };

  const within = <T>(p: Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(unavailable(`NATS ${opts.label}: no answer in ${opts.timeoutMs} ms`)),
        opts.timeoutMs,
      );
    });
    return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
  };

  return {
    open,
    within,
    async close(bounded = false) {
      closed = true;
      if (opening) await (bounded ? within(opening) : opening).catch(() => {});
      await nc?.close().catch(() => {});
    },
  };
}
