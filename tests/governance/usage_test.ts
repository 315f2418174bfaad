// The usage decider, given events / when command / then events, with the clock in the commands.
import assert from "node:assert/strict";
import { replay } from "../../actors/runtime/mod.ts";
import {
  type Budget,
  currentSpend,
  currentWindow,
  initialUsage,
  type Limits,
  parseUsage,
  RECENT_CHARGES,
  usageDecider,
  type UsageEvent,
  usageKey,
} from "../../src/governance/usage.ts";

const t = (s: string) => Date.parse(s);
const NOW = t("2025-03-05T13:14:15.000Z");
const MINUTE = t("2025-03-05T13:14:00.000Z");
const admitted = (at = NOW): UsageEvent => ({ type: "admitted", windowStart: at - (at % 60_000) });
const recorded = (
  at: number,
  tokens: number,
  costNanoUsd: number,
  period: Budget["period"] = "1d",
) => usageDecider.decide(initialUsage, { kind: "record", now: at, tokens, costNanoUsd, period })[0];

function then(given: UsageEvent[], now: number, limits?: Limits, budget?: Budget) {
  const state = replay(usageDecider, given);
  return usageDecider.decide(state, { kind: "admit", now, limits, budget });
}

Deno.test("limits: rpm and tpm within one minute", () => {
  const cases: {
    name: string;
    given: UsageEvent[];
    now: number;
    limits: Limits;
    want: UsageEvent;
  }[] = [
    {
      name: "no limits: admitted",
      given: [admitted(), admitted(), admitted()],
      now: NOW,
      limits: {},
      want: { type: "admitted", windowStart: MINUTE },
    },
    {
      name: "under rpm: admitted",
      given: [admitted()],
      now: NOW,
      limits: { rpm: 2 },
      want: { type: "admitted", windowStart: MINUTE },
    },
    {
      name: "at rpm: refused until the minute ends",
      given: [admitted(), admitted()],
      now: NOW,
      limits: { rpm: 2 },
      want: { type: "rate_limited", limit: "rpm", used: 2, max: 2, retryAfterMs: 45_000 },
    },
    {
      name: "a new minute: the count starts again",
      given: [admitted(), admitted()],
      now: MINUTE + 60_000,
      limits: { rpm: 2 },
      want: { type: "admitted", windowStart: MINUTE + 60_000 },
    },
    {
      name: "tokens recorded this minute reach tpm: refused",
      given: [admitted(), recorded(NOW, 1_000, 0)],
      now: NOW + 1_000,
      limits: { tpm: 1_000 },
      want: { type: "rate_limited", limit: "tpm", used: 1_000, max: 1_000, retryAfterMs: 44_000 },
    },
    {
      name: "tokens from the previous minute do not count",
      given: [admitted(), recorded(NOW, 5_000, 0)],
      now: MINUTE + 60_000,
      limits: { tpm: 1_000 },
      want: { type: "admitted", windowStart: MINUTE + 60_000 },
    },
  ];
  for (const c of cases) assert.deepEqual(then(c.given, c.now, c.limits), [c.want], c.name);
});

Deno.test("budgets: refused once spent, until the period resets", () => {
  const day: Budget = { usd: 1, period: "1d" };
  const cases: {
    name: string;
    given: UsageEvent[];
    now: number;
    budget: Budget;
    want: UsageEvent["type"];
    retryAfterMs?: number;
  }[] = [
    { name: "nothing spent", given: [], now: NOW, budget: day, want: "admitted" },
    {
      name: "under budget",
      given: [recorded(NOW, 10, 999_999_999)],
      now: NOW,
      budget: day,
      want: "admitted",
    },
    {
      name: "exactly the budget: refused until midnight UTC",
      given: [recorded(NOW, 10, 600_000_000), recorded(NOW, 10, 400_000_000)],
      now: NOW,
      budget: day,
      want: "over_budget",
      retryAfterMs: t("2025-03-06T00:00:00.000Z") - NOW,
    },
    {
      name: "spent yesterday: a new day, a new budget",
      given: [recorded(t("2025-03-04T23:59:59.999Z"), 10, 5e9)],
      now: t("2025-03-05T00:00:00.000Z"),
      budget: day,
      want: "admitted",
    },
    {
      name: "spent earlier this week counts for a weekly budget",
      given: [recorded(t("2025-03-03T09:00:00.000Z"), 10, 2e9, "1w")],
      now: t("2025-03-09T23:00:00.000Z"),
      budget: { usd: 2, period: "1w" },
      want: "over_budget",
      retryAfterMs: t("2025-03-10T00:00:00.000Z") - t("2025-03-09T23:00:00.000Z"),
    },
    {
      name: "a monthly budget resets on the first",
      given: [recorded(t("2025-02-27T09:00:00.000Z"), 10, 9e9, "1M")],
      now: t("2025-03-01T00:00:00.000Z"),
      budget: { usd: 2, period: "1M" },
      want: "admitted",
    },
    {
      name: "spend recorded under another period (the budget changed): a fresh period",
      given: [recorded(NOW, 10, 9e9, "1M")],
      now: NOW,
      budget: day,
      want: "admitted",
    },
    {
      name: "a zero budget refuses at once",
      given: [],
      now: NOW,
      budget: { usd: 0, period: "1d" },
      want: "over_budget",
    },
  ];
  for (const c of cases) {
    const [e] = then(c.given, c.now, {}, c.budget);
    assert.equal(e.type, c.want, c.name);
    if (c.retryAfterMs !== undefined && e.type === "over_budget") {
      assert.equal(e.retryAfterMs, c.retryAfterMs, c.name);
      assert.equal(e.resetsAt, c.now + c.retryAfterMs, c.name);
    }
  }
});

Deno.test("over budget is reported before an rpm limit", () => {
  const [e] = then([admitted(), recorded(NOW, 1, 2e9)], NOW, { rpm: 1 }, { usd: 1, period: "1d" });
  assert.equal(e.type, "over_budget");
});

Deno.test("evolve: admissions count requests; records add tokens and spend", () => {
  const s = replay(usageDecider, [
    admitted(),
    admitted(),
    recorded(NOW, 100, 5_000),
    recorded(NOW + 1, 50, 2_500),
  ]);
  assert.deepEqual(currentWindow(s, NOW), { requests: 2, tokens: 150 });
  assert.equal(currentSpend(s, NOW, "1d"), 7_500);
  assert.deepEqual(currentWindow(s, NOW + 60_000), { requests: 0, tokens: 0 });
  assert.equal(currentSpend(s, t("2025-03-06T00:00:00.000Z"), "1d"), 0);
});

Deno.test("a replica whose clock lags counts in the newer window and period", () => {
  const s = replay(usageDecider, [admitted(NOW + 60_000), admitted(NOW), recorded(NOW, 10, 100)]);
  assert.deepEqual(currentWindow(s, NOW + 60_000), { requests: 2, tokens: 10 });
  const spend = replay(usageDecider, [
    recorded(t("2025-03-06T00:00:01.000Z"), 0, 300),
    recorded(t("2025-03-05T23:59:59.000Z"), 0, 200),
  ]);
  assert.equal(currentSpend(spend, t("2025-03-06T01:00:00.000Z"), "1d"), 500);
});

Deno.test("refusals change nothing; negative usage is recorded as zero", () => {
  const s = replay(usageDecider, [admitted()]);
  const refused = usageDecider.evolve(s, {
    type: "rate_limited",
    limit: "rpm",
    used: 1,
    max: 1,
    retryAfterMs: 1,
  });
  assert.deepEqual(refused, s);
  const [e] = usageDecider.decide(s, {
    kind: "record",
    now: NOW,
    tokens: -5,
    costNanoUsd: -1,
    period: "1d",
  });
  assert.ok(e.type === "recorded" && e.tokens === 0 && e.costNanoUsd === 0);
});

Deno.test("a charge already folded in is not recorded again; the record remembers the latest ids", () => {
  const charge = (chargeId: string) =>
    ({ kind: "record", now: NOW, tokens: 10, costNanoUsd: 5, period: "1M", chargeId }) as const;
  const once = usageDecider.decide(initialUsage, charge("req-1")).reduce(
    usageDecider.evolve,
    initialUsage,
  );
  assert.equal(once.spentNanoUsd, 5);
  // The retry of a write that landed although its acknowledgement was lost: nothing to record.
  assert.deepEqual(usageDecider.decide(once, charge("req-1")), []);
  assert.equal(usageDecider.decide(once, charge("req-2")).length, 1);
  // Only the latest ids are kept, and they survive a round trip through the store.
  let s = once;
  for (let i = 0; i < RECENT_CHARGES + 5; i++) {
    s = usageDecider.decide(s, charge(`r${i}`)).reduce(usageDecider.evolve, s);
  }
  assert.equal(s.recentCharges?.length, RECENT_CHARGES);
  assert.equal(usageDecider.decide(s, charge("req-1")).length, 1, "the oldest id was forgotten");
  const stored = parseUsage(JSON.parse(JSON.stringify(s)));
  assert.deepEqual(usageDecider.decide(stored, charge(`r${RECENT_CHARGES + 4}`)), []);
  // Admissions keep the remembered ids.
  const admittedState = usageDecider.evolve(s, admitted());
  assert.deepEqual(admittedState.recentCharges, s.recentCharges);
});

Deno.test("parseUsage reads what was stored and treats anything else as no usage", () => {
  const s = replay(usageDecider, [admitted(), recorded(NOW, 10, 20)]);
  assert.deepEqual(parseUsage(JSON.parse(JSON.stringify(s))), s);
  assert.deepEqual(parseUsage(undefined), initialUsage);
  assert.deepEqual(parseUsage("garbage"), initialUsage);
  assert.equal(parseUsage({ requests: "3", period: "1y" }).requests, 0);
  assert.equal(parseUsage({ requests: "3", period: "1y" }).period, "1M");
});

Deno.test("a key's usage lives under usage.<id>, apart from its record under key.<id>", () => {
  assert.equal(usageKey("vk1"), "usage.vk1");
});
