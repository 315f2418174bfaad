import assert from "node:assert/strict";
import { weightedOrder } from "../../src/routing/weighted.ts";
import { scriptedRandom, seededRandom } from "../_support/seeded_random.ts";

const m = (target: string, weight: number) => ({ target, weight });

/** How often each target comes first / second over `n` seeded orders. */
function tally(items: { target: string; weight: number }[], n: number, seed: number) {
  const random = seededRandom(seed);
  const first: Record<string, number> = {};
  const second: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const order = weightedOrder(items, random).map((x) => x.target);
    assert.deepEqual([...order].sort(), items.map((x) => x.target).sort(), "a permutation");
    first[order[0]] = (first[order[0]] ?? 0) + 1;
    second[order[1]] = (second[order[1]] ?? 0) + 1;
  }
  return { first, second };
}

const table: {
  name: string;
  items: { target: string; weight: number }[];
  first: Record<string, number>;
  second?: Record<string, number>;
}[] = [
  { name: "equal weights split evenly", items: [m("a", 1), m("b", 1)], first: { a: 0.5, b: 0.5 } },
  { name: "3:1", items: [m("a", 3), m("b", 1)], first: { a: 0.75, b: 0.25 } },
  {
    name: "2:1:1, and the second place is drawn among those left",
    items: [m("a", 2), m("b", 1), m("c", 1)],
    first: { a: 0.5, b: 0.25, c: 0.25 },
    // P(b second) = P(a first)·1/2 + P(c first)·1/3 = 0.25 + 0.0833
    second: { a: 0.5 * 2 / 3, b: 1 / 3, c: 1 / 3 },
  },
  {
    name: "weight 0 is never first while another has weight",
    items: [m("a", 0), m("b", 1), m("c", 1)],
    first: { a: 0, b: 0.5, c: 0.5 },
  },
];

for (const c of table) {
  Deno.test(`weighted group order: ${c.name} (20 000 seeded draws, ±2 %)`, () => {
    const n = 20_000;
    const got = tally(c.items, n, 42);
    for (const [target, p] of Object.entries(c.first)) {
      const share = (got.first[target] ?? 0) / n;
      assert.ok(Math.abs(share - p) < 0.02, `${target} first ${share}, want ≈ ${p}`);
    }
    for (const [target, p] of Object.entries(c.second ?? {})) {
      const share = (got.second[target] ?? 0) / n;
      assert.ok(Math.abs(share - p) < 0.02, `${target} second ${share}, want ≈ ${p}`);
    }
  });
}

Deno.test("one draw per position decides the order: [a:1, b:1, c:2] with draws 0.9, 0.1", () => {
  // total 4: 0.9·4 = 3.6 falls in c's span [2, 4); then a, b remain: 0.1·2 = 0.2 → a.
  const order = weightedOrder([m("a", 1), m("b", 1), m("c", 2)], scriptedRandom([0.9, 0.1]));
  assert.deepEqual(order.map((x) => x.target), ["c", "a", "b"]);
});

Deno.test("all-zero weights fall back to an even draw", () => {
  const order = weightedOrder([m("a", 0), m("b", 0)], scriptedRandom([0.7]));
  assert.deepEqual(order.map((x) => x.target), ["b", "a"]);
});
