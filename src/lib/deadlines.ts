// Deadlines for many in-flight calls on few timers. Nearly every upstream timeout is cancelled
// (the answer comes first), so a timer per attempt is mostly creation and cancellation work on
// the hot path; here calls whose deadlines fall in the same slot share one timer, armed while the
// slot holds a deadline and cleared as soon as it holds none. A deadline fires at most one slot
// (`slotMs`) late, never early.

export interface Deadlines {
  /** Calls `fire` once, no earlier than `ms` from now; the returned function cancels it. */
  after(ms: number, fire: () => void): () => void;
  /**
   * Calls `fire` once `ms` pass without a `touch()` (stall detection). A touch only notes the
   * time: no timer is created or cancelled per touch. One deadline is armed at a time; when it
   * comes due after a touch it is re-armed for the rest of the quiet period.
   */
  watch(ms: number, fire: () => void): Watchdog;
}

export interface Watchdog {
  /** Something happened: the quiet period starts again. */
  touch(): void;
  /** Stops watching (idempotent); `fire` is not called after it. */
  cancel(): void;
}

interface Slot {
  timer: ReturnType<typeof setTimeout>;
  waiting: Set<() => void>;
}

export function createDeadlines(
  slotMs = 20,
  now: () => number = () => performance.now(),
): Deadlines {
  const slots = new Map<number, Slot>();
  const after = (ms: number, fire: () => void): () => void => {
    const key = Math.ceil((now() + ms) / slotMs);
    let slot: Slot | undefined = slots.get(key);
    if (!slot) {
      const waiting = new Set<() => void>();
      const timer = setTimeout(() => {
        if (slots.get(key) === slot) slots.delete(key);
        const due = [...waiting];
        waiting.clear(); // so a late cancel finds nothing to do
        for (const f of due) f();
      }, Math.max(0, key * slotMs - now()));
      slot = { timer, waiting };
      slots.set(key, slot);
    }
    const s = slot;
    // A fresh wrapper, so the same function armed twice is two deadlines.
    const entry = () => fire();
    s.waiting.add(entry);
    return () => {
      if (!s.waiting.delete(entry) || s.waiting.size > 0) return;
      clearTimeout(s.timer);
      if (slots.get(key) === s) slots.delete(key);
    };
  };
  const watch = (ms: number, fire: () => void): Watchdog => {
    let last = now();
    let stopped = false;
    let cancel = () => {};
    const check = () => {
      if (stopped) return;
      const quiet = now() - last;
      if (quiet >= ms) {
        stopped = true;
        fire();
      } else {
        cancel = after(ms - quiet, check);
      }
    };
    cancel = after(ms, check);
    return {
      touch() {
        last = now();
      },
      cancel() {
        stopped = true;
        cancel();
      },
    };
  };
  return { after, watch };
}

/** The process-wide instance the upstream calls use. */
export const deadlines: Deadlines = createDeadlines();
