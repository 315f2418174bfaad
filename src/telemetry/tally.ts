// Counters whose increments are plain additions. prom-client hashes and validates the labels on
// every `inc` (even through `counter.labels(...)`, whose child only binds them), which on the hot
// path costs more than the count itself. A tally keeps one number per label set, found by a key
// the caller already has (or a cell it holds on to), and hands them to prom-client only when it
// is read: its `collect` rebuilds the counter's series from the cells, in the order they were
// first counted — the order prom-client itself would list them in.
import { Counter, type LabelValues, type Registry } from "prom-client";

/** One series of a tallied counter: its labels (built once) and its running total. */
export interface TallyCell {
  readonly labels: LabelValues<string>;
  value: number;
}

export interface Tally<L extends string> {
  /** The cell for `id`, made with `labels()` the first time it is asked for. */
  cell(id: string, labels: () => LabelValues<L>): TallyCell;
  /** Adds `n` (1 by default) to the cell for `id`. */
  add(id: string, labels: () => LabelValues<L>, n?: number): void;
}

/** Adds `n` (1 by default) to a cell, refusing what prom-client's `inc` refuses. */
export function count(cell: TallyCell, n = 1): void {
  if (n && !Number.isFinite(n)) throw new TypeError(`Value is not a valid number: ${n}`);
  if (n < 0) throw new Error("It is not possible to decrease a counter");
  cell.value += n;
}

/** A prom-client Counter in `registers` whose series come from the returned tally. */
export function tallyCounter<L extends string>(config: {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}): Tally<L> {
  const cells = new Map<string, TallyCell>();
  new Counter<L>({
    ...config,
    collect() {
      this.reset();
      for (const c of cells.values()) this.inc(c.labels as LabelValues<L>, c.value);
    },
  });
  const cell = (id: string, labels: () => LabelValues<L>): TallyCell => {
    let c = cells.get(id);
    if (!c) cells.set(id, c = { labels: labels(), value: 0 });
    return c;
  };
  return { cell, add: (id, labels, n) => count(cell(id, labels), n) };
}
