// The known virtual keys in memory: stored (admin-created) keys are loaded from the store, then
// kept current by a watch (and, on NATS, a periodic full reload), so checking a key costs no round
// trip. Keys declared in gateway.json sit beside them. Until the first load, callers may wait for
// it (bounded).
import type { Logger } from "../lib/logger.ts";
import { within } from "../lib/within.ts";
import type { VirtualKeyConfig } from "./config_keys.ts";
import { type KeyPolicy, type KeyRecord, parseRecord } from "./keys.ts";
import type { KeyStore } from "./store.ts";

/** Where a stored key's record lives in the store. */
export const recordKey = (id: string) => `key.${id}`;

export interface KeyCacheDeps {
  store: KeyStore;
  logger: Logger;
  declared: readonly VirtualKeyConfig[];
  /** How long `loaded()` waits for stored keys to load (default 5000 ms). */
  syncWaitMs?: number;
  /** Full reload of stored keys, a safety net for the watch (default 30 s; NATS only). */
  resyncMs?: number;
}

export interface KeyCache {
  /** Keys declared in gateway.json. */
  readonly declared: readonly VirtualKeyConfig[];
  /** Whether stored keys have been loaded. */
  synced(): boolean;
  /** How many stored keys are known (revoked ones count). */
  size(): number;
  /** Whether callers must present a key: some key is declared or stored (revoked ones count). */
  required(): boolean;
  /** Waits (bounded) until stored keys are loaded; false if they could not be. */
  loaded(): Promise<boolean>;
  /** Takes a store entry under `key.` in, unless the cache already has a newer revision. */
  apply(key: string, entry: { value: unknown; revision: number } | undefined): void;
  /** Takes in a record this replica just wrote, keeping the revision last seen for it. */
  remember(record: KeyRecord): void;
  /** A stored key by id: from memory, else from the store (made on another replica just now). */
  stored(id: string): Promise<KeyRecord | undefined>;
  /** The latest policy for a key (a PATCH on any replica applies to the next request). */
  latest(key: KeyPolicy): KeyPolicy;
  /** Every stored key, read from the store (oldest first), refreshing the cache on the way. */
  allStored(): Promise<KeyRecord[]>;
  /** Stops loading, watching and reloading; `settled` resolves once the loader has stopped. */
  stop(): void;
  readonly settled: Promise<void>;
}

export function createKeyCache(deps: KeyCacheDeps): KeyCache {
  const { store, logger, declared } = deps;
  const syncWaitMs = deps.syncWaitMs ?? 5_000;
  /** Stored (admin-created) keys by id, with the revision we last saw. */
  const cache = new Map<string, { record: KeyRecord; revision: number }>();
  let synced = false;
  let closed = false;
  let stopWatch: (() => void) | undefined;
  let resync: ReturnType<typeof setInterval> | undefined;

  function apply(key: string, entry: { value: unknown; revision: number } | undefined) {
    const id = key.slice("key.".length);
    if (!entry) return void cache.delete(id);
    const record = parseRecord(entry.value);
    const known = cache.get(id);
    if (!record || (known && known.revision >= entry.revision)) return;
    cache.set(id, { record, revision: entry.revision });
  }

  function required(): boolean {
    return declared.length > 0 || cache.size > 0;
  }

  async function syncOnce() {
    // Watch first, then list: a write between the two is seen by one or the other, and
    // revisions decide which is newer.
    stopWatch ??= await store.watch("key.", apply);
    for (const [key, entry] of await store.list("key.")) apply(key, entry);
  }

  let wakeSync: (() => void) | undefined;
  const syncing: Promise<void> = (async () => {
    let warned = false;
    while (!closed) {
      try {
        await syncOnce();
        synced = true;
        if (store.kind === "nats") {
          logger.info("virtual keys loaded", {
            stored: cache.size,
            declared: declared.length,
            mode: required() ? "keys required" : "open",
          });
          resync = setInterval(
            () => syncOnce().catch(() => {}),
            deps.resyncMs ?? 30_000,
          );
        }
        return;
      } catch (err) {
        if (!warned) logger.warn("virtual keys: store not reachable yet", { error: String(err) });
        warned = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 500);
          wakeSync = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();

  return {
    declared,
    synced: () => synced,
    size: () => cache.size,
    required,
    apply,
    async loaded() {
      if (synced) return true;
      await within(syncing, syncWaitMs);
      return synced;
    },
    remember(record) {
      cache.set(record.id, { record, revision: cache.get(record.id)?.revision ?? 0 });
    },
    async stored(id) {
      const known = cache.get(id);
      if (known) return known.record;
      // Created on another replica a moment ago: the watch has not brought it yet.
      const entry = await store.get(recordKey(id));
      if (!entry) return undefined;
      apply(recordKey(id), entry);
      return parseRecord(entry.value);
    },
    latest: (key) => cache.get(key.id)?.record ?? key,
    async allStored() {
      const out: KeyRecord[] = [];
      for (const [key, entry] of await store.list("key.")) {
        apply(key, entry);
        const r = parseRecord(entry.value);
        if (r) out.push(r);
      }
      return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },
    stop() {
      closed = true;
      wakeSync?.();
      clearInterval(resync);
      stopWatch?.();
    },
    settled: syncing,
  };
}
