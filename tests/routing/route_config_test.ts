import assert from "node:assert/strict";
import { buildConfig } from "../../src/config.ts";
import {
  describeRoute,
  planTargets,
  type RouteInput,
  RouteSchema,
  routeTargetPaths,
  toRoutePlan,
} from "../../src/routing/route_config.ts";

const parse = (r: RouteInput) => RouteSchema.parse(r);

Deno.test("a plain string array is one target per rank, tried in order", () => {
  const plan = toRoutePlan(parse(["groq/llama", "openai/gpt-4o-mini"]));
  assert.deepEqual(plan, {
    ranks: [
      { members: [{ target: "groq/llama", weight: 1 }], strategy: "weighted" },
      { members: [{ target: "openai/gpt-4o-mini", weight: 1 }], strategy: "weighted" },
    ],
  });
  assert.equal(describeRoute(plan), "groq/llama → openai/gpt-4o-mini");
});

Deno.test("a nested array is an equal-rank group; objects carry weights", () => {
  const plan = toRoutePlan(
    parse([["groq/llama", { target: "cerebras/llama", weight: 2 }], "openai/gpt-4o-mini"]),
  );
  assert.deepEqual(plan.ranks[0], {
    members: [{ target: "groq/llama", weight: 1 }, { target: "cerebras/llama", weight: 2 }],
    strategy: "weighted",
  });
  assert.deepEqual(planTargets(plan), ["groq/llama", "cerebras/llama", "openai/gpt-4o-mini"]);
  assert.equal(describeRoute(plan), "{groq/llama | cerebras/llama ×2} → openai/gpt-4o-mini");
});

Deno.test("the object form adds a latency strategy per group and sticky sessions per route", () => {
  const plan = toRoutePlan(parse({
    chain: [{ group: ["groq/llama", "cerebras/llama"], strategy: "latency" }, "openai/gpt-4o"],
    sticky: { header: "X-Session-Id" },
  }));
  assert.equal(plan.ranks[0].strategy, "latency");
  assert.deepEqual(plan.sticky, { header: "x-session-id", ttlMs: 600_000, maxSessions: 10_000 });
  assert.equal(
    describeRoute(plan),
    "fastest of {groq/llama | cerebras/llama} → openai/gpt-4o  (sticky by x-session-id)",
  );
});

Deno.test("targets are listed with the path they were written at, for config errors", () => {
  assert.deepEqual(routeTargetPaths(parse(["a/x", ["b/y", { target: "c/z", weight: 3 }]])), [
    { path: "[0]", target: "a/x" },
    { path: "[1][0]", target: "b/y" },
    { path: "[1][1].target", target: "c/z" },
  ]);
  assert.deepEqual(routeTargetPaths(parse({ chain: [{ group: ["a/x"] }, { target: "b/y" }] })), [
    { path: ".chain[0].group[0]", target: "a/x" },
    { path: ".chain[1].target", target: "b/y" },
  ]);
});

Deno.test("bad routes are refused at the entry that is wrong", () => {
  const cases: [unknown, (string | number)[]][] = [
    [["gpt-4o"], [0]],
    [[["a/x", "nope"]], [0, 1]],
    [[{ target: "a/x", weight: -1 }], [0, "weight"]],
    [{ chain: [{ group: ["a/x"], strategy: "fastest" }] }, ["chain", 0, "strategy"]],
    [{ chain: ["a/x"], sticky: { header: "bad header" } }, ["sticky", "header"]],
    [[[]], [0]],
    [[], []],
    [{ chain: [{ group: ["a/x"], strategy: "fastest" }] }, ["chain", 0, "strategy"]],
    [[{ target: 5 }], [0, "target"]],
    [[7], [0]],
    ["a/x", []],
    [[{ weight: 2 }], [0]],
    [[{ group: ["a/x"], weight: 2 }], [0, "weight"]],
    [[{ target: "a/x", strategy: "latency" }], [0, "strategy"]],
  ];
  for (const [input, path] of cases) {
    const r = RouteSchema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    if (!r.success) assert.deepEqual(r.error.issues[0].path, path, JSON.stringify(input));
  }
});

Deno.test("gateway.json: a group member naming an unknown provider is refused at its path", () => {
  const load = (routes: unknown) => () =>
    buildConfig({ providers: { groq: { type: "groq" } }, routes }, () => undefined, "gateway.json");
  assert.throws(
    load({ fast: [["groq/a", { target: "nope/b", weight: 2 }]] }),
    /routes\.fast\[0\]\[1\]\.target: unknown provider "nope"/,
  );
  assert.throws(
    load({ fast: { chain: [{ group: ["groq/a", "gone/b"], strategy: "latency" }] } }),
    /routes\.fast\.chain\[0\]\.group\[1\]: unknown provider "gone"/,
  );
  assert.throws(
    load({ fast: [{ group: ["groq/a"], strategy: "fastest" }] }),
    /routes\.fast\[0\]\.strategy: /,
  );
  const c = buildConfig(
    { providers: { groq: { type: "groq" } }, routes: { fast: [["groq/a", "groq/b"], "groq/c"] } },
    () => undefined,
    "gateway.json",
  );
  assert.deepEqual(c.routes.fast, ["groq/a", "groq/b", "groq/c"], "listings see every target");
  assert.equal(c.routePlans.fast.ranks.length, 2);
});
