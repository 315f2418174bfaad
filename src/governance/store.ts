// The KeyStore port: where virtual keys and their usage live. A small versioned map with
// compare-and-set writes, so that every replica sharing one store enforces the same numbers:
// in memory when NATS is not configured, a JetStream KV bucket when it is. Entries are JSON
// values under "key.<id>" (the key record) and "usage.<id>" (its counters and spend).

export interface Versioned {
  value: unknown;
  /** Increases with every write; 0 never names an entry. */
  revision: number;
}

export interface KeyStore {
  readonly kind: "memory" | "nats";
  /** For start-up lines, e.g. "NATS KV bucket GATEWAY_KEYS". */
  readonly describe: string;
  get(key: string): Promise<Versioned | undefined>;
  /**
   * Writes `value` if the entry is still at `revision` (0: only if it does not exist yet).
   * Resolves to the new revision, or undefined when another writer got there first.
   */
  put(key: string, value: unknown, revision: number): Promise<number | undefined>;
  /** Every entry whose key starts with `prefix` (which ends with "."). */
  list(prefix: string): Promise<Map<string, Versioned>>;
  /**
   * Calls `onChange` for every write under `prefix` from now on (undefined: deleted). Resolves,
   * once the watch is live, to the function that stops it.
   */
  watch(prefix: string, onChange: (key: string, entry: Versioned | undefined) => void): Promise<
    () => void
  >;
  close(): Promise<void>;
}

/** The store cannot answer now (NATS down, timed out); callers decide whether to fail open. */
export class StoreUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreUnavailable";
  }
}

/** Lost the compare-and-set race too many times in a row. */
export class StoreContention extends Error {
  constructor(key: string, tries: number) {
    super(`gave up updating ${key} after ${tries} conflicting writes`);
    this.name = "StoreContention";
  }
}

/**
 * Read, decide, write-if-unchanged; on a conflict read again and decide again. `step` sees the
 * current value (undefined when absent) and returns the value to write (or undefined to write
 * nothing) and a result for the caller.
 */
export async function casUpdate<R>(
  store: KeyStore,
  key: string,
  step: (current: unknown) => { write?: unknown; result: R },
  maxTries = 16,
): Promise<R> {
  for (let i = 0; i < maxTries; i++) {
    const cur = await store.get(key);
    const { write, result } = step(cur?.value);
    if (write === undefined) return result;
    if (await store.put(key, write, cur?.revision ?? 0) !== undefined) return result;
    // A conflict: another replica (or request) wrote in between. Spread the retries a little.
    if (i > 2) await new Promise((r) => setTimeout(r, Math.min(20, 2 ** (i - 2))));
  }
  throw new StoreContention(key, maxTries);
}
