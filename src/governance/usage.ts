// The usage decider: one state per virtual key, shared by every replica through the KeyStore
// (each change is a compare-and-set on the key's usage entry). It admits a request or refuses it
// for the key's rpm/tpm (one-minute windows) or its budget (a calendar period), and folds what a
// served request used and cost. Time arrives in the commands; nothing here reads a clock.
import type { Decider } from "../../actors/runtime/mod.ts";
import { toNanoUsd } from "./pricing.ts";
import { type Period, periodEnd, periodStart, WINDOW_MS, windowStart } from "./periods.ts";

export interface Limits {
  /** Requests per minute; absent = unlimited. */
  rpm?: number;
  /** Tokens (prompt + completion) per minute; absent = unlimited. */
  tpm?: number;
}

export interface Budget {
  usd: number;
  period: Period;
}

export interface UsageState {
  /** Start of the one-minute window the counters below belong to. */
  windowStart: number;
  requests: number;
  tokens: number;
  /** The budget period the spend belongs to. */
  period: Period;
  periodStart: number;
  spentNanoUsd: number;
  /** Ids of the latest charges folded in, so a charge retried after a lost acknowledgement (its
   * write landed, the answer did not) is not counted twice. */
  recentCharges?: readonly string[];
}

/** How many charge ids a usage record remembers: more than the charges other replicas can fold
 * into one key while a write's outcome is unknown. */
export const RECENT_CHARGES = 64;

export type UsageCommand =
  | { kind: "admit"; now: number; limits?: Limits; budget?: Budget }
  | {
    kind: "record";
    now: number;
    tokens: number;
    costNanoUsd: number;
    /** The key's budget period (the calendar month when it has no budget). */
    period: Period;
    /** Unique per charge (the request id); a charge already folded in is not recorded again. */
    chargeId?: string;
  };

export type UsageEvent =
  | { type: "admitted"; windowStart: number }
  | {
    type: "rate_limited";
    limit: "rpm" | "tpm";
    used: number;
    max: number;
    retryAfterMs: number;
  }
  | {
    type: "over_budget";
    spentNanoUsd: number;
    budgetNanoUsd: number;
    resetsAt: number;
    retryAfterMs: number;
  }
  | {
    type: "recorded";
    windowStart: number;
    period: Period;
    periodStart: number;
    tokens: number;
    costNanoUsd: number;
    chargeId?: string;
  };

export const initialUsage: UsageState = {
  windowStart: 0,
  requests: 0,
  tokens: 0,
  period: "1M",
  periodStart: 0,
  spentNanoUsd: 0,
};

/** The window counters as of `now` (zero once the window has passed). */
export function currentWindow(s: UsageState, now: number): { requests: number; tokens: number } {
  return s.windowStart === windowStart(now)
    ? { requests: s.requests, tokens: s.tokens }
    : { requests: 0, tokens: 0 };
}

/** Spend in the `period` that contains `now` (zero once that period has passed). */
export function currentSpend(s: UsageState, now: number, period: Period): number {
  return s.period === period && s.periodStart === periodStart(now, period) ? s.spentNanoUsd : 0;
}

function decide(s: UsageState, c: UsageCommand): UsageEvent[] {
  if (c.kind === "record") {
    if (c.chargeId !== undefined && s.recentCharges?.includes(c.chargeId)) return [];
    return [{
      type: "recorded",
      windowStart: windowStart(c.now),
      period: c.period,
      periodStart: periodStart(c.now, c.period),
      tokens: Math.max(0, c.tokens),
      costNanoUsd: Math.max(0, c.costNanoUsd),
      ...(c.chargeId !== undefined ? { chargeId: c.chargeId } : {}),
    }];
  }
  const { now, limits = {}, budget } = c;
  if (budget) {
    const start = periodStart(now, budget.period);
    const spent = currentSpend(s, now, budget.period);
    const max = toNanoUsd(budget.usd);
    if (spent >= max) {
      const resetsAt = periodEnd(start, budget.period);
      return [{
        type: "over_budget",
        spentNanoUsd: spent,
        budgetNanoUsd: max,
        resetsAt,
        retryAfterMs: resetsAt - now,
      }];
    }
  }
  const w = windowStart(now);
  const used = currentWindow(s, now);
  const retryAfterMs = w + WINDOW_MS - now;
  if (limits.rpm !== undefined && used.requests >= limits.rpm) {
    return [{
      type: "rate_limited",
      limit: "rpm",
      used: used.requests,
      max: limits.rpm,
      retryAfterMs,
    }];
  }
  if (limits.tpm !== undefined && used.tokens >= limits.tpm) {
    return [{
      type: "rate_limited",
      limit: "tpm",
      used: used.tokens,
      max: limits.tpm,
      retryAfterMs,
    }];
  }
  return [{ type: "admitted", windowStart: w }];
}

function evolve(s: UsageState, e: UsageEvent): UsageState {
  switch (e.type) {
    // A replica whose clock lags may report an older window or period: it counts in the newer one.
    case "admitted":
      return e.windowStart <= s.windowStart
        ? { ...s, requests: s.requests + 1 }
        : { ...s, windowStart: e.windowStart, requests: 1, tokens: 0 };
    case "recorded": {
      const sameWindow = e.windowStart <= s.windowStart;
      const samePeriod = e.period === s.period && e.periodStart <= s.periodStart;
      return {
        windowStart: Math.max(e.windowStart, s.windowStart),
        requests: sameWindow ? s.requests : 0,
        tokens: (sameWindow ? s.tokens : 0) + e.tokens,
        period: e.period,
        periodStart: samePeriod ? s.periodStart : e.periodStart,
        spentNanoUsd: (samePeriod ? s.spentNanoUsd : 0) + e.costNanoUsd,
        ...(e.chargeId !== undefined
          ? { recentCharges: [...(s.recentCharges ?? []), e.chargeId].slice(-RECENT_CHARGES) }
          : s.recentCharges
          ? { recentCharges: s.recentCharges }
          : {}),
      };
    }
    case "rate_limited":
    case "over_budget":
      return s;
  }
}

export const usageDecider: Decider<UsageState, UsageCommand, UsageEvent> = {
  initialState: initialUsage,
  decide,
  evolve,
};

/** Where a virtual key's usage state lives in the KeyStore. */
export const usageKey = (id: string) => `usage.${id}`;

/** A stored usage value, defensively: anything unreadable counts as no usage yet. */
export function parseUsage(value: unknown): UsageState {
  const v = value as Partial<UsageState> | undefined;
  const num = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : 0);
  if (!v || typeof v !== "object") return initialUsage;
  return {
    windowStart: num(v.windowStart),
    requests: num(v.requests),
    tokens: num(v.tokens),
    period: v.period === "1d" || v.period === "1w" || v.period === "1M" ? v.period : "1M",
    periodStart: num(v.periodStart),
    spentNanoUsd: num(v.spentNanoUsd),
    ...(Array.isArray(v.recentCharges)
      ? {
        recentCharges: v.recentCharges.filter((id): id is string => typeof id === "string")
          .slice(-RECENT_CHARGES),
      }
      : {}),
  };
}
