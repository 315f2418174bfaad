// The KeyStore on a JetStream KV bucket, so every replica on one NATS sees the same keys, usage
// and spend. Writes are compare-and-set on the entry's revision (kv.create for revision 0,
// kv.update otherwise); a lost race resolves to undefined and the caller decides again.
// While NATS is unreachable every call fails fast with StoreUnavailable instead of waiting for
// a reconnect, so a request never hangs on the store.
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { jetstream, JetStreamApiCodes, JetStreamApiError, StorageType } from "@nats-io/jetstream";
import { type KV, Kvm, KvWatchInclude } from "@nats-io/kv";
import type { Logger } from "../lib/logger.ts";
import { within } from "../lib/within.ts";
import {
  connectOptions,
  describeServers,
  isAuthError,
  type NatsAccess,
} from "../lib/nats_connect.ts";
import { type KeyStore, StoreUnavailable, type Versioned } from "./store.ts";

export interface NatsKeyStoreOptions {
  /** Websocket URL(s) of nats-server with JetStream, credential and CA. */
  access: NatsAccess;
  /** KV bucket replicas when creating it (default 1; 3 on a 3-node cluster). */
  replicas?: number;
  /** Names this replica's connection. */
  instance: string;
  logger: Logger;
  /** KV bucket (created if missing), default GATEWAY_KEYS. */
  bucket?: string;
  /** Per-operation timeout, and how long a first call waits for the first connection (default 2000 ms). */
  timeoutMs?: number;
  /** Pause between connection attempts (default 1000 ms). */
  retryMs?: number;
}

const why = (err: unknown) => (err instanceof Error ? err.message : String(err));

function isWrongRevision(err: unknown): boolean {
  return err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

export function createNatsKeyStore(opts: NatsKeyStoreOptions): KeyStore {
  const bucket = opts.bucket ?? "GATEWAY_KEYS";
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const retryMs = opts.retryMs ?? 1_000;
  const log = opts.logger;
  const url = describeServers(opts.access.servers);
  let nc: NatsConnection | undefined;
  let kv: KV | undefined;
  let connected = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  const stops = new Set<() => void>();

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => wake?.(), ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });

  async function watchStatus(c: NatsConnection) {
    for await (const s of c.status()) {
      if (s.type === "disconnect" && connected) {
        connected = false;
        log.warn("virtual-key store disconnected from NATS", { bucket });
      } else if (s.type === "reconnect" && !connected) {
        connected = true;
        log.info("virtual-key store reconnected to NATS", { bucket });
      }
    }
  }

  const ready: Promise<void> = (async () => {
    let warned = false;
    while (!stopped) {
      try {
        const c = await wsconnect(connectOptions(opts.access, {
          name: `gateway/${opts.instance}/keys`,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: retryMs,
          timeout: 5_000,
        }));
        if (stopped) {
          await c.close();
          return;
        }
        nc = c;
        kv = await new Kvm(jetstream(c, { timeout: timeoutMs })).create(bucket, {
          history: 1,
          storage: StorageType.File,
          replicas: opts.replicas ?? 1,
          timeout: timeoutMs,
        });
        connected = true;
        watchStatus(c).catch(() => {});
        log.info("virtual-key store on NATS KV", { url, bucket });
        return;
      } catch (err) {
        if (!warned) {
          const what = isAuthError(err) ? "NATS refused the credential" : "NATS unreachable";
          log.warn(`virtual-key store: ${what}`, { url, error: why(err) });
        }
        warned = true;
        await nc?.close().catch(() => {});
        nc = undefined;
        await pause(retryMs);
      }
    }
  })();

  /** The bucket, waiting (bounded) for the first connection; fails fast while disconnected. */
  async function bucketNow(): Promise<KV> {
    if (!kv) await within(ready, timeoutMs);
    if (stopped) throw new StoreUnavailable("the virtual-key store is closed");
    if (!kv || !connected) {
      throw new StoreUnavailable(`NATS at ${url} is unreachable (KV bucket ${bucket})`);
    }
    return kv;
  }

  const unavailable = (err: unknown): never => {
    if (err instanceof StoreUnavailable) throw err;
    throw new StoreUnavailable(`KV bucket ${bucket}: ${why(err)}`);
  };

  async function getEntry(k: KV, key: string): Promise<Versioned | undefined> {
    const e = await k.get(key);
    if (!e || e.operation !== "PUT") return undefined;
    return { value: e.json(), revision: e.revision };
  }

  return {
    kind: "nats",
    describe: `NATS KV bucket ${bucket}`,
    async get(key) {
      try {
        return await getEntry(await bucketNow(), key);
      } catch (err) {
        return unavailable(err);
      }
    },
    async put(key, value, revision) {
      try {
        const k = await bucketNow();
        const data = JSON.stringify(value);
        return await (revision === 0 ? k.create(key, data) : k.update(key, data, revision));
      } catch (err) {
        if (isWrongRevision(err)) return undefined;
        return unavailable(err);
      }
    },
    async list(prefix) {
      try {
        const k = await bucketNow();
        const names: string[] = [];
        for await (const name of await k.keys(`${prefix}>`)) names.push(name);
        const out = new Map<string, Versioned>();
        await Promise.all(names.map(async (name) => {
          const e = await getEntry(k, name);
          if (e) out.set(name, e);
        }));
        return out;
      } catch (err) {
        return unavailable(err);
      }
    },
    async watch(prefix, onChange) {
      let it;
      try {
        it = await (await bucketNow()).watch({
          key: `${prefix}>`,
          include: KvWatchInclude.UpdatesOnly,
        });
      } catch (err) {
        return unavailable(err);
      }
      const watcher = it;
      (async () => {
        for await (const e of watcher) {
          try {
            onChange(
              e.key,
              e.operation === "PUT" ? { value: e.json(), revision: e.revision } : undefined,
            );
          } catch (err) {
            log.error("virtual-key store watcher failed", { key: e.key, error: why(err) });
          }
        }
      })().catch(() => {});
      const stop = () => {
        stops.delete(stop);
        watcher.stop();
      };
      stops.add(stop);
      return stop;
    },
    async close() {
      stopped = true;
      wake?.();
      for (const stop of [...stops]) stop();
      await ready;
      connected = false;
      await nc?.close().catch(() => {});
    },
  };
}
