// Budget periods are calendar periods in UTC, so every replica (and every clock that agrees on
// the date) puts a request in the same period: "1d" starts at midnight, "1w" on Monday at
// midnight, "1M" on the first of the month at midnight.

export const PERIODS = ["1d", "1w", "1M"] as const;
export type Period = typeof PERIODS[number];

const DAY = 86_400_000;

/** Start (epoch ms, inclusive) of the period that contains `now`. */
export function periodStart(now: number, period: Period): number {
  const d = new Date(now);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  switch (period) {
    case "1d":
      return midnight;
    case "1w":
      // getUTCDay: 0 = Sunday … 6 = Saturday; weeks start on Monday.
      return midnight - ((d.getUTCDay() + 6) % 7) * DAY;
    case "1M":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

/** End (epoch ms, exclusive) of the period that starts at `start`: when the budget resets. */
export function periodEnd(start: number, period: Period): number {
  switch (period) {
    case "1d":
      return start + DAY;
    case "1w":
      return start + 7 * DAY;
    case "1M": {
      const d = new Date(start);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/** One-minute windows for rpm/tpm, aligned to the epoch like the periods are to the calendar. */
export const WINDOW_MS = 60_000;

export function windowStart(now: number): number {
  return Math.floor(now / WINDOW_MS) * WINDOW_MS;
}
