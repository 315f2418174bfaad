// What the admin API shows of a level's usage (a key, team or customer): its requests and tokens
// this minute and its spend this budget period (the calendar month without a budget).
import type { Clock } from "../ports.ts";
import { periodEnd, periodStart, WINDOW_MS } from "./periods.ts";
import { toUsd } from "./pricing.ts";
import type { KeyStore } from "./store.ts";
import { type Budget, currentSpend, currentWindow, parseUsage } from "./usage.ts";

export interface KeyUsageView {
  minute: { requests: number; tokens: number; resets_at: string };
  spend: {
    period: string;
    period_start: string;
    resets_at: string;
    spent_usd: number;
    budget_usd: number | null;
    remaining_usd: number | null;
  };
}

const isoOf = (ms: number) => new Date(ms).toISOString();

/** The usage stored under `entry`, or null when the store cannot answer. */
export async function usageView(
  store: KeyStore,
  clock: Clock,
  entry: string,
  budget: Budget | undefined,
): Promise<KeyUsageView | null> {
  let state;
  try {
    state = parseUsage((await store.get(entry))?.value);
  } catch {
    return null;
  }
  const now = clock.now();
  const period = budget?.period ?? "1M";
  const start = periodStart(now, period);
  const w = currentWindow(state, now);
  const spent = toUsd(currentSpend(state, now, period));
  return {
    minute: {
      requests: w.requests,
      tokens: w.tokens,
      resets_at: isoOf(Math.floor(now / WINDOW_MS) * WINDOW_MS + WINDOW_MS),
    },
    spend: {
      period,
      period_start: isoOf(start),
      resets_at: isoOf(periodEnd(start, period)),
      spent_usd: spent,
      budget_usd: budget?.usd ?? null,
      remaining_usd: budget ? Math.max(0, budget.usd - spent) : null,
    },
  };
}
