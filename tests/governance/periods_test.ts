import assert from "node:assert/strict";
import { type Period, periodEnd, periodStart, windowStart } from "../../src/governance/periods.ts";

const t = (s: string) => Date.parse(s);

Deno.test("period boundaries are UTC calendar days, Monday weeks and months", () => {
  const cases: [string, Period, string, string][] = [
    ["2025-03-05T13:14:15.000Z", "1d", "2025-03-05T00:00:00.000Z", "2025-03-06T00:00:00.000Z"],
    ["2025-03-05T00:00:00.000Z", "1d", "2025-03-05T00:00:00.000Z", "2025-03-06T00:00:00.000Z"],
    ["2025-03-05T23:59:59.999Z", "1d", "2025-03-05T00:00:00.000Z", "2025-03-06T00:00:00.000Z"],
    // Wednesday → the Monday before; Sunday still belongs to the week that began on Monday.
    ["2025-03-05T10:00:00.000Z", "1w", "2025-03-03T00:00:00.000Z", "2025-03-10T00:00:00.000Z"],
    ["2025-03-09T23:59:59.999Z", "1w", "2025-03-03T00:00:00.000Z", "2025-03-10T00:00:00.000Z"],
    ["2025-03-10T00:00:00.000Z", "1w", "2025-03-10T00:00:00.000Z", "2025-03-17T00:00:00.000Z"],
    // A week across a month and a year boundary.
    ["2025-01-01T08:00:00.000Z", "1w", "2024-12-30T00:00:00.000Z", "2025-01-06T00:00:00.000Z"],
    ["2025-02-28T23:00:00.000Z", "1M", "2025-02-01T00:00:00.000Z", "2025-03-01T00:00:00.000Z"],
    ["2024-02-29T12:00:00.000Z", "1M", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"],
    ["2025-12-31T23:59:59.999Z", "1M", "2025-12-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"],
  ];
  for (const [now, period, start, end] of cases) {
    const s = periodStart(t(now), period);
    assert.equal(new Date(s).toISOString(), start, `${period} start of ${now}`);
    assert.equal(new Date(periodEnd(s, period)).toISOString(), end, `${period} end of ${now}`);
  }
});

Deno.test("the last millisecond of a period and the first of the next fall apart", () => {
  for (const period of ["1d", "1w", "1M"] as const) {
    const start = periodStart(t("2025-06-18T12:00:00.000Z"), period);
    const end = periodEnd(start, period);
    assert.equal(periodStart(end - 1, period), start);
    assert.equal(periodStart(end, period), end);
  }
});

Deno.test("rate windows are whole minutes", () => {
  assert.equal(windowStart(t("2025-03-05T13:14:15.678Z")), t("2025-03-05T13:14:00.000Z"));
  assert.equal(windowStart(t("2025-03-05T13:14:00.000Z")), t("2025-03-05T13:14:00.000Z"));
  assert.equal(windowStart(t("2025-03-05T13:14:59.999Z")), t("2025-03-05T13:14:00.000Z"));
});
