// A bounded buffer of the newest items: pushing past the capacity overwrites the oldest, in place.
// For logs written on the hot path (an event per transition) and read rarely: no allocation per
// push, and no Array#shift, which moves every kept element once the log is full.

export class Ring<T> {
  #items: (T | undefined)[];
  #head = 0; // index of the oldest item
  #size = 0;

  constructor(readonly capacity: number) {
    this.#items = new Array(Math.max(0, capacity));
  }

  get size(): number {
    return this.#size;
  }

  /** Adds `item` as the newest; when full, the oldest is dropped. A zero-capacity ring keeps none. */
  push(item: T): void {
    const cap = this.capacity;
    if (cap <= 0) return;
    if (this.#size < cap) {
      this.#items[(this.#head + this.#size) % cap] = item;
      this.#size++;
    } else {
      this.#items[this.#head] = item;
      this.#head = (this.#head + 1) % cap;
    }
  }

  /** The `i`-th item, oldest first (0 ≤ i < size). */
  at(i: number): T {
    return this.#items[(this.#head + i) % this.capacity] as T;
  }

  /** Replaces the `i`-th item, oldest first, in place. */
  set(i: number, item: T): void {
    this.#items[(this.#head + i) % this.capacity] = item;
  }

  /** Every item, oldest first. */
  toArray(): T[] {
    return Array.from({ length: this.#size }, (_, i) => this.at(i));
  }

  clear(): void {
    this.#items.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }
}
