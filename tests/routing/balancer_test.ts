import assert from "node:assert/strict";
import { spawnProviderActor } from "../../actors/provider/mod.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { actorConfig } from "../../src/gateway.ts";
import { buildConfig } from "../../src/config.ts";
import { actorHealth, createBalancer } from "../../src/routing/balancer.ts";
import { type RouteInput, RouteSchema, toRoutePlan } from "../../src/routing/route_config.ts";
import { scriptedRandom } from "../_support/seeded_random.ts";

const plan = (r: RouteInput) => toRoutePlan(RouteSchema.parse(r));

function setup(route: RouteInput, draws: number[], down: string[] = []) {
  let now = 1_000_000;
  const b = createBalancer({
    plans: { fast: plan(route) },
    clock: { now: () => now },
    random: scriptedRandom(draws),
    healthy: (t) => !down.includes(t),
  });
  return {
    b,
    down,
    advance: (ms: number) => (now += ms),
  };
}

const session = (id: string) => new Headers({ "x-session-id": id });
const sticky: RouteInput = {
  chain: [["a/1", "b/1"], "c/1"],
  sticky: { header: "x-session-id", ttlMs: 60_000, maxSessions: 2 },
};

Deno.test("choose: an alias that is no route is undefined", () => {
  assert.equal(setup(["a/1"], []).b.choose("slow"), undefined);
  assert.equal(setup(["a/1"], []).b.choose("constructor"), undefined);
});

Deno.test("sticky: the session keeps the target that served it although the draw says otherwise", () => {
  const { b } = setup(sticky, [0.9, 0.1, 0.1]);
  const first = b.choose("fast", session("s1"))!;
  assert.deepEqual(first.targets, ["b/1", "a/1", "c/1"]);
  first.served({ provider: "b", model: "1" });
  // The draw (0.1) would put a/1 first; the session stays on b/1.
  assert.deepEqual(b.choose("fast", session("s1"))!.targets, ["b/1", "a/1", "c/1"]);
  // Another session is not affected.
  assert.deepEqual(b.choose("fast", session("s2"))!.targets, ["a/1", "b/1", "c/1"]);
});

Deno.test("sticky: when the pinned target is unhealthy the session moves, and stays moved", () => {
  const { b, down } = setup(sticky, [0.9, 0.1, 0.9]);
  b.choose("fast", session("s1"))!.served({ provider: "b", model: "1" });
  down.push("b/1");
  const moved = b.choose("fast", session("s1"))!;
  assert.deepEqual(
    moved.targets,
    ["a/1", "b/1", "c/1"],
    "the pin to a target that is down is ignored",
  );
  moved.served({ provider: "a", model: "1" });
  down.pop();
  // b/1 is healthy again and the draw favours it, but the session now lives on a/1.
  assert.equal(b.choose("fast", session("s1"))!.targets[0], "a/1");
});

Deno.test("sticky: a fallback outside the route does not move the pin; no header, no pin", () => {
  const { b } = setup(sticky, [0.9, 0.1, 0.1, 0.1]);
  b.choose("fast", session("s1"))!.served({ provider: "b", model: "1" });
  b.choose("fast", session("s1"))!.served({ provider: "other", model: "x" });
  assert.equal(b.choose("fast", session("s1"))!.targets[0], "b/1");
  const anon = b.choose("fast")!;
  anon.served({ provider: "b", model: "1" });
  assert.equal(anon.targets[0], "a/1");
});

Deno.test("sticky: pins expire after ttlMs and the map holds at most maxSessions", () => {
  const { b, advance } = setup(sticky, [0.9, 0.9, 0.9, 0.1, 0.1, 0.1]);
  for (const s of ["s1", "s2", "s3"]) {
    b.choose("fast", session(s))!.served({ provider: "b", model: "1" });
  }
  // maxSessions 2: s1 (least recently used) was evicted, s3 kept.
  assert.equal(b.choose("fast", session("s1"))!.targets[0], "a/1");
  assert.equal(b.choose("fast", session("s3"))!.targets[0], "b/1");
  advance(60_000);
  assert.equal(b.choose("fast", session("s3"))!.targets[0], "a/1", "expired");
});

const ok = (target: string, latencyMs: number): GatewayEvent => {
  const [provider, model] = target.split("/");
  return {
    type: "attempt.succeeded",
    at: 0,
    requestId: "r",
    attempt: 1,
    provider,
    model,
    key: "k",
    probe: false,
    status: 200,
    latencyMs,
    reservedTokens: 0,
  };
};

Deno.test("latency routes learn from attempt.succeeded events and follow the faster", () => {
  const route: RouteInput = { chain: [{ group: ["a/1", "b/1"], strategy: "latency" }] };
  const { b } = setup(route, [0, 0.5, 0, 0.5]);
  b.observe(ok("a/1", 400));
  b.observe(ok("b/1", 100));
  b.observe(ok("b/1", 200)); // ewma 100 + 0.3·100 = 130
  assert.deepEqual(b.latency("b/1"), { ewmaMs: 130, samples: 2 });
  assert.deepEqual(b.choose("fast")!.targets, ["b/1", "a/1"]);
  // A timeout counts as a (long) latency sample; other failures do not.
  b.observe({
    ...ok("b/1", 5_000),
    type: "attempt.failed",
    errorType: "timeout",
    message: "slow",
    counted: true,
  } as GatewayEvent);
  b.observe({
    ...ok("a/1", 9_000),
    type: "attempt.failed",
    errorType: "transient",
    message: "503",
    counted: true,
  } as GatewayEvent);
  assert.equal(b.latency("a/1")!.ewmaMs, 400);
  assert.deepEqual(b.choose("fast")!.targets, ["a/1", "b/1"]);
});

Deno.test("latency is only kept for members of latency groups (bounded memory)", () => {
  const { b } = setup(["a/1", "b/1"], []);
  b.observe(ok("a/1", 100));
  b.observe(ok("zzz/any", 100));
  assert.equal(b.latency("a/1"), undefined);
  assert.equal(b.latency("zzz/any"), undefined);
});

Deno.test("actorHealth reads an actor's breaker without publishing anything", () => {
  const config = buildConfig(
    { providers: { groq: { type: "groq", breaker: { minimumRequests: 1 } } } },
    () => undefined,
    "test",
  );
  const published: GatewayEvent[] = [];
  const actor = spawnProviderActor(actorConfig(config.providers.groq), {
    clock: { now: () => 0 },
    publish: (e) => published.push(e),
  });
  try {
    const health = actorHealth((id) => (id === "groq" ? actor : undefined));
    assert.equal(health("groq/llama", 1_000), true);
    assert.equal(health("nope/llama", 1_000), false);
    actor.hydrate([{
      type: "breaker.opened",
      at: 1_000,
      provider: "groq",
      reason: "failure_rate",
      openMs: 30_000,
      until: 31_000,
      failureRate: 1,
      samples: 1,
      reopenCount: 0,
    }]);
    assert.equal(health("groq/llama", 2_000), false);
    assert.equal(health("groq/llama", 31_000), true, "a probe may go once the open time is over");
    assert.equal(published.length, 0);
    assert.equal(actor.state().breaker.status, "open", "reading did not half-open it");
  } finally {
    actor.stop();
  }
});
