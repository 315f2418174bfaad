// What a key lets a request use: the helpers the planner narrows and weights a plan with.
import assert from "node:assert/strict";
import {
  allowedList,
  allows,
  byWeight,
  eligible,
  type KeyTarget,
  pickWeighted,
} from "../../src/routing/key_scope.ts";

const mini: KeyTarget[] = [
  { provider: "openai", models: ["gpt-4o-mini"], weight: 3 },
  { provider: "azure", models: ["gpt-4o-mini"], weight: 1 },
  { provider: "anthropic", models: ["claude-3-5-haiku-latest"], weight: 5 },
];

Deno.test("pickWeighted covers the whole draw range and falls back to the first when all are 0", () => {
  const entries: [string, number][] = [["a", 1], ["b", 0], ["c", 3]];
  assert.equal(pickWeighted(entries, 0), "a");
  assert.equal(pickWeighted(entries, 0.2499), "a");
  assert.equal(pickWeighted(entries, 0.25), "c");
  assert.equal(pickWeighted(entries, 0.999999), "c");
  assert.equal(pickWeighted([["x", 0], ["y", 0]], 0.7), "x");
});

Deno.test("allows, eligible and allowedList read the key's targets", () => {
  assert.equal(allows(mini, { provider: "openai", model: "gpt-4o-mini" }), true);
  assert.equal(allows(mini, { provider: "openai", model: "gpt-4o" }), false);
  assert.equal(allows(mini, { provider: "groq", model: "gpt-4o-mini" }), false);
  const twice: KeyTarget[] = [
    { provider: "openai", models: ["a"], weight: 1 },
    { provider: "openai", weight: 2 },
  ];
  assert.deepEqual([...eligible(twice, "a")], [["openai", 3]]);
  assert.deepEqual([...eligible(twice, "b")], [["openai", 2]]);
  assert.equal(allowedList(twice), "openai/a, openai/*");
});

Deno.test("byWeight puts the heaviest first and keeps the key's order on ties", () => {
  assert.deepEqual(byWeight([["a", 1], ["b", 3], ["c", 1], ["d", 0]]), ["b", "a", "c", "d"]);
});
