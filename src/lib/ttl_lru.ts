// A bounded map that forgets: least recently used entries go first once it is full, and every
// entry expires `ttlMs` after it was last written. Time is passed in, so it is pure to test.
// Used by the response cache and by sticky routing.

export class TtlLru<K, V> {
  readonly #entries = new Map<K, { value: V; storedAt: number; expiresAt: number }>();

  constructor(readonly maxEntries: number, readonly ttlMs: number) {
    if (!(maxEntries >= 1)) throw new RangeError("maxEntries must be at least 1");
    if (!(ttlMs > 0)) throw new RangeError("ttlMs must be positive");
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live value (and how old it is), marking it most recently used; expired entries are dropped. */
  lookup(key: K, now: number): { value: V; ageMs: number } | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    if (e.expiresAt <= now) return undefined;
    this.#entries.set(key, e);
    return { value: e.value, ageMs: Math.max(0, now - e.storedAt) };
  }

  get(key: K, now: number): V | undefined {
    return this.lookup(key, now)?.value;
  }

  /** Stores (or refreshes) `key`; evicts the least recently used entry when over capacity. */
  set(key: K, value: V, now: number, ttlMs = this.ttlMs): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, storedAt: now, expiresAt: now + ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as K;
      this.#entries.delete(oldest);
    }
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
