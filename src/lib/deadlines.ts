// Deadlines for many in-flight calls on few timers. Nearly every upstream timeout is cancelled
// (the answer comes first), so a timer per attempt is mostly creation and cancellation work on
// the hot path; here calls whose deadlines fall in the same slot share one timer, armed while the
// slot holds a deadline and cleared as soon as it holds none. A deadline fires at most one slot
// (`slotMs`) late, never early.
//
// The gateway's own stalls. While any deadline is armed, a ticker notes how late the event loop
// runs it: time the loop could not turn (the gateway busy with other calls, a long collection,
// the process not scheduled) is the gateway's stall, not the upstream's silence. A `patient`
// deadline, and a `watch`, count only the time the gateway was responsive, so an upstream is never
// timed out for time the gateway itself could not turn its loop in (a burst of 2,000 stream
// opens kept the loop busy for seconds: the gateway's own connects, writes and reads waited, and
// first-token deadlines fired on attempts whose requests had barely reached the upstream).
// `after` stays plain wall-clock time, for hard limits.

export interface Deadlines {
  /** Calls `fire` once, no earlier than `ms` from now; the returned function cancels it. */
  after(ms: number, fire: () => void): () => void;
  /**
   * Calls `fire` once `ms` of time pass in which the gateway was responsive (its own stalls do
   * not count), but never later than `capMs` from now in wall-clock time (a hard limit, e.g. the
   * request's budget). `fire` learns how much responsive time had passed, and how much in all, so
   * a caller can tell a wait that ran its course (`activeMs >= ms`) from one the cap cut short.
   */
  patient(
    ms: number,
    fire: (activeMs: number, elapsedMs: number) => void,
    capMs?: number,
  ): () => void;
  /**
   * Calls `fire` once `ms` pass without a `touch()` (stall detection), not counting the gateway's
   * own stalls. A touch only notes the time: no timer is created or cancelled per touch. One
   * deadline is armed at a time; when it comes due after a touch it is re-armed for the rest of
   * the quiet period.
   */
  watch(ms: number, fire: () => void): Watchdog;
  /** Time the event loop stalled while deadlines were armed, in all (ms, only ever grows). */
  stalledMs(): number;
}

export interface Watchdog {
  /** Something happened: the quiet period starts again. */
  touch(): void;
  /** Stops watching (idempotent); `fire` is not called after it. */
  cancel(): void;
}

/** The timer functions the deadlines run on (injected in tests). */
export interface Timers {
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  setInterval(fire: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
}

type TimerId = ReturnType<typeof setTimeout>;
const realTimers: Timers = {
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (id) => clearTimeout(id as TimerId),
  setInterval: (f, ms) => setInterval(f, ms),
  clearInterval: (id) => clearInterval(id as TimerId),
};

interface Slot {
  timer: unknown;
  waiting: Set<() => void>;
}

/**
 * Stall accounting from a ticker's lateness: a tick that comes more than one interval late
 * (jitter below that is ignored) adds its lateness to the stall. Pure: the times are passed in.
 */
export class StallMeter {
  #last: number;
  #stalled = 0;

  constructor(readonly tickMs: number, now: number) {
    this.#last = now;
  }

  /** Lateness of a gap between two ticks that counts as stall (0 for ordinary jitter). */
  #late(gap: number): number {
    const late = gap - this.tickMs;
    return late > this.tickMs ? late : 0;
  }

  /** The ticker ran at `now`. */
  tick(now: number): void {
    this.#stalled += this.#late(now - this.#last);
    this.#last = now;
  }

  /** The ticker (re)starts at `now`: the time it was not running is not stall. */
  restart(now: number): void {
    this.#last = now;
  }

  /** The stall so far, including one still going on (no tick for longer than it should be). */
  stalledMs(now: number): number {
    return this.#stalled + this.#late(now - this.#last);
  }
}

/**
 * How much longer a patient deadline armed for `ms` waits when it comes due, `elapsedMs` after it
 * was armed, `stalledMs` of which the gateway was stalled; 0 = fire now. Never past `capMs`.
 */
export function stillOwed(ms: number, elapsedMs: number, stalledMs: number, capMs: number): number {
  const active = elapsedMs - Math.min(stalledMs, elapsedMs);
  return Math.max(0, Math.min(ms - active, capMs - elapsedMs));
}

export function createDeadlines(
  slotMs = 20,
  now: () => number = () => performance.now(),
  timers: Timers = realTimers,
): Deadlines {
  const slots = new Map<number, Slot>();
  const meter = new StallMeter(slotMs, now());
  let ticker: unknown;
  // The ticker runs only while some deadline is armed: nobody needs the stall otherwise.
  const startTicker = () => {
    if (ticker !== undefined) return;
    meter.restart(now());
    ticker = timers.setInterval(() => meter.tick(now()), slotMs);
  };
  const stopTickerIfIdle = () => {
    if (ticker === undefined || slots.size > 0) return;
    meter.tick(now());
    timers.clearInterval(ticker);
    ticker = undefined;
  };
  const stalledMs = () => meter.stalledMs(now());
  const after = (ms: number, fire: () => void): () => void => {
    const key = Math.ceil((now() + ms) / slotMs);
    let slot: Slot | undefined = slots.get(key);
    if (!slot) {
      startTicker();
      const waiting = new Set<() => void>();
      const timer = timers.setTimeout(() => {
        if (slots.get(key) === slot) slots.delete(key);
        const due = [...waiting];
        waiting.clear(); // so a late cancel finds nothing to do
        for (const f of due) f();
        stopTickerIfIdle();
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
      timers.clearTimeout(s.timer);
      if (slots.get(key) === s) slots.delete(key);
      stopTickerIfIdle();
    };
  };
  const patient = (
    ms: number,
    fire: (activeMs: number, elapsedMs: number) => void,
    capMs = Infinity,
  ): () => void => {
    const armedAt = now();
    const stalled0 = stalledMs();
    let cancel = () => {};
    const check = () => {
      const elapsed = now() - armedAt;
      const stalled = stalledMs() - stalled0;
      const owed = stillOwed(ms, elapsed, stalled, capMs);
      if (owed > 0) cancel = after(owed, check);
      else fire(elapsed - Math.min(stalled, elapsed), elapsed);
    };
    cancel = after(Math.min(ms, capMs), check);
    return () => cancel();
  };
  const watch = (ms: number, fire: () => void): Watchdog => {
    let last = now();
    let stalledAtLast = stalledMs();
    let stopped = false;
    let cancel = () => {};
    const check = () => {
      if (stopped) return;
      const t = now();
      const quiet = t - last - Math.min(stalledMs() - stalledAtLast, t - last);
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
        stalledAtLast = meter.stalledMs(last);
      },
      cancel() {
        stopped = true;
        cancel();
      },
    };
  };
  return { after, patient, watch, stalledMs };
}

/** The process-wide instance the upstream calls use. */
export const deadlines: Deadlines = createDeadlines();
