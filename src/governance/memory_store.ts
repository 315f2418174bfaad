// The in-process KeyStore, used when NATS is not configured: the same compare-and-set contract
// as the NATS KV store (revisions, create-only when 0), so the governor cannot tell them apart.
import type { KeyStore, Versioned } from "./store.ts";

export function createMemoryKeyStore(): KeyStore {
  const entries = new Map<string, Versioned>();
  const watchers = new Set<{ prefix: string; onChange: (k: string, e: Versioned) => void }>();
  let revision = 0;
  // Stored as JSON text, like the KV bucket, so no caller can mutate what is stored.
  const copy = (e: Versioned): Versioned => ({
    value: JSON.parse(e.value as string),
    revision: e.revision,
  });
  return {
    kind: "memory",
    describe: "in-process store (NATS_URL not set)",
    get(key) {
      const e = entries.get(key);
      return Promise.resolve(e && copy(e));
    },
    put(key, value, expected) {
      const current = entries.get(key)?.revision ?? 0;
      if (current !== expected) return Promise.resolve(undefined);
      const e = { value: JSON.stringify(value), revision: ++revision };
      entries.set(key, e);
      for (const w of [...watchers]) if (key.startsWith(w.prefix)) w.onChange(key, copy(e));
      return Promise.resolve(e.revision);
    },
    list(prefix) {
      const out = new Map<string, Versioned>();
      for (const [k, e] of entries) if (k.startsWith(prefix)) out.set(k, copy(e));
      return Promise.resolve(out);
    },
    watch(prefix, onChange) {
      const w = { prefix, onChange };
      watchers.add(w);
      return Promise.resolve(() => void watchers.delete(w));
    },
    close() {
      watchers.clear();
      return Promise.resolve();
    },
  };
}
