// The run's raw results and the few statistics the report takes from them: medians and spreads
// over repetitions, and latency added by a target over the direct call of the same repetition.
import type { ClosedLoopResult, OpenLoopResult } from "../load.ts";
import type { Memory } from "./procs.ts";

export interface Scenario {
  /** e.g. "json-0ms" */
  name: string;
  what: string;
  latencyMs: number;
  stream: boolean;
  /** Also measure closed-loop max throughput here. */
  max: boolean;
}

export interface Cell {
  scenario: string;
  rate: number;
  rep: number;
  target: string;
  r: OpenLoopResult;
  /** CPU time the target's server process used per answered request, µs (robust to noise). */
  cpuUs: number;
}

export interface MaxCell {
  scenario: string;
  rep: number;
  target: string;
  r: ClosedLoopResult;
  cpuUs: number;
}

export interface MemCell {
  scenario: string;
  target: string;
  mem: Memory;
}

export interface DecisionPath {
  name: string;
  n: number;
  minUs: number;
  avgUs: number;
  p75Us: number;
  p99Us: number;
}

export interface RunData {
  quick: boolean;
  date: string;
  commit: string;
  machine: string;
  versions: Record<string, string>;
  pinning: string;
  loadBefore: string;
  loadAfter: string;
  elapsedSec: number;
  params: {
    rates: number[];
    seconds: number;
    reps: number;
    maxSeconds: number;
    concurrency: number;
  };
  scenarios: Scenario[];
  /** In the order they were run; "direct" first. */
  targets: string[];
  cells: Cell[];
  maxCells: MaxCell[];
  memory: MemCell[];
  decision: DecisionPath[];
  nats?: { published: number; dropped: number; stored: number | undefined };
  notes: string[];
}

export const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const spread = (xs: number[]): [number, number] => {
  const s = xs.filter((x) => Number.isFinite(x));
  return s.length ? [Math.min(...s), Math.max(...s)] : [NaN, NaN];
};

export type Metric = "p50" | "p90" | "p99" | "ttfb50" | "ttfb99";

export function metricOf(r: OpenLoopResult, m: Metric): number {
  switch (m) {
    case "ttfb50":
      return r.ttfb?.p50 ?? NaN;
    case "ttfb99":
      return r.ttfb?.p99 ?? NaN;
    default:
      return r[m];
  }
}

export function cellsOf(d: RunData, scenario: string, rate: number, target: string): Cell[] {
  return d.cells.filter((c) => c.scenario === scenario && c.rate === rate && c.target === target)
    .sort((a, b) => a.rep - b.rep);
}

/** One value per repetition: the target's metric. */
export function values(
  d: RunData,
  scenario: string,
  rate: number,
  target: string,
  m: Metric,
): number[] {
  return cellsOf(d, scenario, rate, target).map((c) => metricOf(c.r, m));
}

/** One value per repetition: target minus direct, each pair from the same repetition. */
export function added(
  d: RunData,
  scenario: string,
  rate: number,
  target: string,
  m: Metric,
): number[] {
  const direct = cellsOf(d, scenario, rate, "direct");
  return cellsOf(d, scenario, rate, target).map((c) => {
    const base = direct.find((x) => x.rep === c.rep);
    return base ? metricOf(c.r, m) - metricOf(base.r, m) : NaN;
  });
}

export function maxRps(d: RunData, scenario: string, target: string): number[] {
  return d.maxCells.filter((c) => c.scenario === scenario && c.target === target)
    .sort((a, b) => a.rep - b.rep).map((c) => c.r.rps);
}

/** Highest VmRSS after any scenario's run (fresh servers per scenario). */
export function rssOf(d: RunData, target: string): { rssMb: number; peakMb: number } {
  const ms = d.memory.filter((m) => m.target === target);
  if (ms.length === 0) return { rssMb: NaN, peakMb: NaN };
  return {
    rssMb: Math.max(...ms.map((m) => m.mem.rssMb)),
    peakMb: Math.max(...ms.map((m) => m.mem.peakMb)),
  };
}

export function errorsOf(d: RunData, target: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of [...d.cells, ...d.maxCells]) {
    if (c.target !== target) continue;
    for (const [k, n] of Object.entries(c.r.errorKinds)) out[k] = (out[k] ?? 0) + n;
  }
  return out;
}
