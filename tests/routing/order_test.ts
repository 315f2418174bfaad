import assert from "node:assert/strict";
import { type OrderEnv, orderRoute } from "../../src/routing/order.ts";
import { type RouteInput, RouteSchema, toRoutePlan } from "../../src/routing/route_config.ts";
import { scriptedRandom, seededRandom } from "../_support/seeded_random.ts";

const plan = (r: RouteInput) => toRoutePlan(RouteSchema.parse(r));
const env = (
  draws: number[] | (() => number),
  latency: Record<string, number> = {},
  down: string[] = [],
): OrderEnv => ({
  random: typeof draws === "function" ? draws : scriptedRandom(draws),
  latencyMs: (t) => latency[t],
  healthy: (t) => !down.includes(t),
});

Deno.test("ranks keep their order; only the members of a group are shuffled", () => {
  const p = plan(["a/1", ["b/1", "c/1"], "d/1"]);
  assert.deepEqual(orderRoute(p, env([0.1])), ["a/1", "b/1", "c/1", "d/1"]);
  assert.deepEqual(orderRoute(p, env([0.9])), ["a/1", "c/1", "b/1", "d/1"]);
});

Deno.test("a plain string route takes no random draws at all", () => {
  assert.deepEqual(orderRoute(plan(["a/1", "b/1"]), env([])), ["a/1", "b/1"]);
});

Deno.test("a weighted group's primary follows the weights over many requests", () => {
  const p = plan([[{ target: "groq/l", weight: 3 }, "cerebras/l"], "openai/m"]);
  const random = seededRandom(1);
  let groqFirst = 0;
  const n = 10_000;
  for (let i = 0; i < n; i++) {
    const order = orderRoute(p, env(random));
    assert.equal(order[2], "openai/m", "the next rank always follows the group");
    if (order[0] === "groq/l") groqFirst++;
  }
  assert.ok(Math.abs(groqFirst / n - 0.75) < 0.02, `groq first ${groqFirst / n}`);
});

Deno.test("a latency group puts the faster of two draws first and a down member last", () => {
  const p = plan({ chain: [{ group: ["a/1", "b/1", "c/1"], strategy: "latency" }, "z/9"] });
  assert.deepEqual(
    orderRoute(p, env([0, 0.99], { "a/1": 500, "b/1": 20, "c/1": 100 })),
    ["c/1", "b/1", "a/1", "z/9"],
  );
  assert.deepEqual(
    orderRoute(p, env([0, 0], { "a/1": 500, "b/1": 20, "c/1": 100 }, ["b/1"])),
    ["c/1", "a/1", "b/1", "z/9"],
  );
});

Deno.test("sticky: the pinned target goes first while healthy, wherever its rank", () => {
  const p = plan({ chain: [["a/1", "b/1"], "c/1"], sticky: { header: "x-session-id" } });
  assert.deepEqual(orderRoute(p, env([0.1]), "b/1"), ["b/1", "a/1", "c/1"]);
  assert.deepEqual(orderRoute(p, env([0.1]), "c/1"), ["c/1", "a/1", "b/1"]);
});

Deno.test("sticky: an unhealthy pin, or one no longer in the route, is ignored", () => {
  const p = plan({ chain: [["a/1", "b/1"], "c/1"], sticky: { header: "x-session-id" } });
  assert.deepEqual(orderRoute(p, env([0.1], {}, ["b/1"]), "b/1"), ["a/1", "b/1", "c/1"]);
  assert.deepEqual(orderRoute(p, env([0.1]), "gone/1"), ["a/1", "b/1", "c/1"]);
});
