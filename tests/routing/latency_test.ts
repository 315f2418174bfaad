import assert from "node:assert/strict";
import { ewmaStep, type LatencyView, p2cOrder } from "../../src/routing/latency.ts";
import { seededRandom } from "../_support/seeded_random.ts";

const view = (
  latency: Record<string, number | undefined>,
  down: string[] = [],
): LatencyView => ({
  latencyMs: (t) => latency[t],
  healthy: (t) => !down.includes(t),
});

Deno.test("ewma: the first sample is taken as is, later ones move it by alpha", () => {
  const a = ewmaStep(undefined, 100, 0.5);
  assert.deepEqual(a, { ewmaMs: 100, samples: 1 });
  const b = ewmaStep(a, 300, 0.5);
  assert.deepEqual(b, { ewmaMs: 200, samples: 2 });
  assert.equal(ewmaStep(b, 200, 0.3).ewmaMs, 200);
  // One slow outlier moves a long-settled average only by alpha of the gap.
  assert.equal(ewmaStep({ ewmaMs: 100, samples: 50 }, 1_100, 0.3).ewmaMs, 400);
});

const table: {
  name: string;
  targets: string[];
  latency: Record<string, number | undefined>;
  down?: string[];
  draws: [number, number];
  want: string[];
}[] = [
  {
    name: "of the two drawn, the faster goes first; the rest follow fastest first",
    targets: ["a", "b", "c"],
    latency: { a: 300, b: 100, c: 200 },
    draws: [0, 0.99], // a and c drawn → c (200) beats a (300)
    want: ["c", "b", "a"],
  },
  {
    name: "the two draws are always distinct",
    targets: ["a", "b"],
    latency: { a: 50, b: 10 },
    draws: [0, 0], // i = a, j would be a too → moved to b
    want: ["b", "a"],
  },
  {
    name: "the slowest never wins even when drawn first",
    targets: ["slow", "fast"],
    latency: { slow: 900, fast: 100 },
    draws: [0, 0.5],
    want: ["fast", "slow"],
  },
  {
    name: "an open breaker is skipped: not drawn, kept at the end",
    targets: ["a", "b", "c"],
    latency: { a: 10, b: 200, c: 300 },
    down: ["a"],
    draws: [0, 0],
    want: ["b", "c", "a"],
  },
  {
    name: "one healthy member is first whatever its latency",
    targets: ["a", "b"],
    latency: { a: 10, b: 5_000 },
    down: ["a"],
    draws: [0.2, 0.7],
    want: ["b", "a"],
  },
  {
    name: "all down: the declared order (the supervisor skips each with its Retry-After)",
    targets: ["a", "b"],
    latency: { a: 10, b: 20 },
    down: ["a", "b"],
    draws: [0.9, 0.9],
    want: ["a", "b"],
  },
  {
    name: "no sample yet counts as fastest, so a new target gets measured",
    targets: ["known", "new"],
    latency: { known: 50 },
    draws: [0, 0],
    want: ["new", "known"],
  },
  {
    name: "a tie goes to the first draw",
    targets: ["a", "b", "c"],
    latency: { a: 10, b: 10, c: 10 },
    draws: [0.5, 0], // i = b, j = a
    want: ["b", "a", "c"],
  },
];

for (const c of table) {
  Deno.test(`p2c: ${c.name}`, () => {
    assert.deepEqual(p2cOrder(c.targets, view(c.latency, c.down), c.draws), c.want);
  });
}

Deno.test("p2c over many requests: the fastest of three leads ≈ 2/3, the slowest never", () => {
  const random = seededRandom(7);
  const v = view({ fast: 100, mid: 200, slow: 400 });
  const first: Record<string, number> = { fast: 0, mid: 0, slow: 0 };
  const n = 30_000;
  for (let i = 0; i < n; i++) {
    first[p2cOrder(["slow", "mid", "fast"], v, [random(), random()])[0]]++;
  }
  assert.ok(Math.abs(first.fast / n - 2 / 3) < 0.02, `fast ${first.fast / n}`);
  assert.ok(Math.abs(first.mid / n - 1 / 3) < 0.02, `mid ${first.mid / n}`);
  assert.equal(first.slow, 0);
});
