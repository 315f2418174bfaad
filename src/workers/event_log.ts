// The one ordered events log of a process running workers, kept in the main thread only: a ring
// of the newest entries (what /v1/gateway/events replays and resumes from), read on demand by the
// worker answering a client (./hub.ts), never copied into each worker.
import type { FeedItem } from "./protocol.ts";

export interface EventLog {
  append(item: FeedItem): void;
  /** The newest `n` entries (at most what is kept), oldest first. */
  last(n: number): FeedItem[];
  /** Entries kept now. */
  readonly size: number;
}

/** A ring of `capacity` entries: appending costs one slot write, never a shift. */
export function createEventLog(capacity: number): EventLog {
  const cap = Math.max(0, Math.floor(capacity));
  const slots: (FeedItem | undefined)[] = new Array(cap);
  let next = 0; // where the next entry goes
  let size = 0;
  return {
    append(item) {
      if (cap === 0) return;
      slots[next] = item;
      next = (next + 1) % cap;
      if (size < cap) size++;
    },
    last(n) {
      const k = Math.max(0, Math.min(Math.floor(n), size));
      const out: FeedItem[] = new Array(k);
      for (let i = 0; i < k; i++) out[i] = slots[(next - k + i + cap) % cap]!;
      return out;
    },
    get size() {
      return size;
    },
  };
}
