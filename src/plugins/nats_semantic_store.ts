// The semantic cache on a NATS JetStream KV bucket, shared by every replica on one NATS. Each
// replica keeps the whole index in memory (./semantic_index.ts: bounded by maxEntries, LRU, TTL),
// loaded from the bucket when it first opens it and kept current by a watch, so a lookup is a local
// scan and an answer stored on one replica is a hit on every other one moments later. Entries are
// `<scope>.<id>` → JSON {scope, vector (base64 of its float32 bytes), entry}; the bucket's TTL
// drops old ones on the server, the index ages them by the server's creation time.
//
// The cache must never slow or fail a request: opening (connection + catch-up) and every put have
// a short deadline, a failed connection is retried at most once per `retryMs`, and any error is a
// miss (or a skipped store).
import type { KvEntry } from "@nats-io/kv";
import { lazyKv } from "../lib/lazy_kv.ts";
import type { Logger } from "../lib/logger.ts";
import type { NatsAccess } from "../lib/nats_connect.ts";
import type { SemanticEntry, SemanticStore } from "./semantic_cache.ts";
import { SemanticIndex } from "./semantic_index.ts";

export interface NatsSemanticStoreOptions {
  access: NatsAccess;
  /** Bucket replicas when creating it (default 1). */
  replicas?: number;
  bucket: string;
  ttlMs: number;
  /** Bound of this replica's in-memory index. */
  maxEntries: number;
  logger: Logger;
  /** Deadline per put, and for a request waiting on the first open + catch-up (default 500 ms). */
  timeoutMs?: number;
  /** Least time between connection attempts after one failed (default 2000 ms). */
  retryMs?: number;
}

export interface NatsSemanticStore extends SemanticStore {
  close(): Promise<void>;
}

interface Stored {
  scope: string;
  vector: string;
  entry: SemanticEntry;
}

export function encodeVector(v: Float32Array): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function decodeVector(s: string): Float32Array {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

export function natsSemanticStore(opts: NatsSemanticStoreOptions): NatsSemanticStore {
  const index = new SemanticIndex<SemanticEntry>(opts.maxEntries, opts.ttlMs);
  let stopWatch: (() => void) | undefined;
  let closing = false;

  const apply = (e: KvEntry) => {
    if (e.operation !== "PUT") return index.remove(e.key);
    try {
      const s = e.json<Stored>();
      index.add({
        id: e.key,
        scope: s.scope,
        vector: decodeVector(s.vector),
        storedAt: e.created.getTime(),
        payload: s.entry,
      });
    } catch (err) {
      opts.logger.warn("semantic cache: unreadable entry skipped", {
        key: e.key,
        error: String(err),
      });
    }
  };

  const { open, within, close } = lazyKv({
    ...opts,
    name: "gateway/semantic-cache",
    label: "semantic cache",
    timeoutMs: opts.timeoutMs ?? 500,
    connectTimeoutMs: 5_000,
    // Load every entry, then follow: the open settles once the bucket's content is in the index.
    async ready(kv) {
      const pending = (await kv.status()).values;
      const watch = await kv.watch();
      stopWatch = () => watch.stop();
      let caughtUp!: () => void;
      const loaded = new Promise<void>((r) => caughtUp = r);
      if (pending === 0) caughtUp();
      (async () => {
        let seen = 0;
        for await (const e of watch) {
          apply(e);
          if (++seen >= pending || e.isUpdate || e.delta === 0) caughtUp();
        }
      })().catch((err) => {
        if (!closing) opts.logger.warn("semantic cache: watch ended", { error: String(err) });
      });
      await loaded;
    },
  });

  return {
    describe:
      `NATS KV bucket ${opts.bucket} (TTL ${opts.ttlMs} ms), indexed in memory (${opts.maxEntries} entries)`,
    async search(scope, vector, threshold, now) {
      await within(open());
      const hit = index.search(scope, vector, threshold, now);
      return hit && {
        entry: structuredClone(hit.entry.payload),
        similarity: hit.similarity,
        ageMs: Math.max(0, now - hit.entry.storedAt),
      };
    },
    async add(scope, id, vector, entry, now) {
      const key = `${scope}.${id}`;
      index.add({ id: key, scope, vector, storedAt: now, payload: structuredClone(entry) });
      const kv = await within(open());
      const stored: Stored = { scope, vector: encodeVector(vector), entry };
      await within(kv.put(key, JSON.stringify(stored)));
    },
    async close() {
      closing = true;
      // Bounded: a catch-up that never ends must not hold the gateway's shutdown.
      await close(true);
      stopWatch?.();
    },
  };
}
