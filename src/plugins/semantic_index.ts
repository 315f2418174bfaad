// The semantic cache's in-memory index: entries (a unit-length Float32Array vector and a payload)
// partitioned by scope, bounded by `maxEntries` across all scopes (least recently used first out)
// and by a TTL. A lookup is a flat scan of the scope's partition: the dot product of unit vectors
// is their cosine similarity, and the best one at or above the threshold wins. Pure: time is
// passed in. bench/semantic_cache_bench.ts measures the scan (figures in docs/plugins.md).

/** `v` scaled to unit length, as a Float32Array; undefined for a zero or non-finite vector. */
export function normalize(v: ArrayLike<number>): Float32Array | undefined {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const norm = Math.sqrt(sum);
  if (!(norm > 0) || !Number.isFinite(norm)) return undefined;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / norm;
  return out;
}

/** Dot product; for unit vectors of one length, their cosine similarity. 0 when lengths differ. */
export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Cosine similarity of two vectors of any length (0 when either is zero or lengths differ). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = normalize(a), y = normalize(b);
  return x && y ? dot(x, y) : 0;
}

export interface IndexEntry<P> {
  /** Unique across the index (a later add with the same id replaces the entry). */
  id: string;
  scope: string;
  /** Unit length (see normalize). */
  vector: Float32Array;
  storedAt: number;
  payload: P;
}

export interface IndexHit<P> {
  entry: IndexEntry<P>;
  similarity: number;
}

export class SemanticIndex<P> {
  /** id → entry, in least-recently-used-first order. */
  readonly #byId = new Map<string, IndexEntry<P>>();
  readonly #byScope = new Map<string, Map<string, IndexEntry<P>>>();

  constructor(readonly maxEntries: number, readonly ttlMs: number) {
    if (!(maxEntries >= 1)) throw new RangeError("maxEntries must be at least 1");
    if (!(ttlMs > 0)) throw new RangeError("ttlMs must be positive");
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Adds (or replaces) an entry; evicts the least recently used ones past maxEntries. */
  add(entry: IndexEntry<P>): void {
    this.remove(entry.id);
    this.#byId.set(entry.id, entry);
    let part = this.#byScope.get(entry.scope);
    if (!part) this.#byScope.set(entry.scope, part = new Map());
    part.set(entry.id, entry);
    while (this.#byId.size > this.maxEntries) {
      this.remove(this.#byId.keys().next().value as string);
    }
  }

  remove(id: string): void {
    const e = this.#byId.get(id);
    if (!e) return;
    this.#byId.delete(id);
    const part = this.#byScope.get(e.scope)!;
    part.delete(id);
    if (part.size === 0) this.#byScope.delete(e.scope);
  }

  /**
   * The most similar live entry of `scope` with similarity ≥ threshold (`vector` unit length),
   * marked most recently used; expired entries met on the way are dropped.
   */
  search(
    scope: string,
    vector: Float32Array,
    threshold: number,
    now: number,
  ): IndexHit<P> | undefined {
    const part = this.#byScope.get(scope);
    if (!part) return undefined;
    let best: IndexEntry<P> | undefined;
    let bestSim = -Infinity;
    let expired: string[] | undefined;
    for (const e of part.values()) {
      if (now - e.storedAt >= this.ttlMs) {
        (expired ??= []).push(e.id);
        continue;
      }
      const s = dot(vector, e.vector);
      if (s > bestSim) {
        bestSim = s;
        best = e;
      }
    }
    if (expired) { for (const id of expired) this.remove(id); }
    if (!best || bestSim < threshold) return undefined;
    // Most recently used: to the end of the eviction order.
    this.#byId.delete(best.id);
    this.#byId.set(best.id, best);
    return { entry: best, similarity: bestSim };
  }
}
