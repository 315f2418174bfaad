// Load balancing on a real listening gateway against the mock upstream: weighted groups, the
// latency-aware choice and sticky sessions, as a client sees them (who answered, how many
// attempts) and as the upstreams see them (hits).
import assert from "node:assert/strict";
import { type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import { buildConfig, type ConfigFile } from "../../src/config.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { type RunningGateway, startGateway } from "../../src/server.ts";
import { mockProvider } from "../_support/gateway.ts";
import { seededRandom } from "../_support/seeded_random.ts";

async function withGateway(
  config: (mockUrl: string) => ConfigFile,
  fn: (gw: RunningGateway, mock: MockUpstream) => Promise<void>,
  seed = 1,
  env: Record<string, string> = {},
) {
  const mock = await startMockUpstream();
  const gw = startGateway(buildConfig({ port: 0, ...config(mock.url) }, (n) => env[n], "test"), {
    logger: silentLogger,
    hostname: "127.0.0.1",
    random: seededRandom(seed),
  });
  try {
    await fn(gw, mock);
  } finally {
    await gw.shutdown(1_000);
    await mock.close();
  }
}

async function ask(gw: RunningGateway, model: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.body?.cancel();
  return {
    status: res.status,
    provider: res.headers.get("x-gateway-provider"),
    attempts: Number(res.headers.get("x-gateway-attempts")),
  };
}

const providers = (url: string, ids: string[], extra: Record<string, unknown> = {}) =>
  Object.fromEntries(ids.map((id) => [id, mockProvider(url, id, "openai", extra)]));

Deno.test("a weighted group splits primaries by weight; the next rank follows only on failure", async () => {
  await withGateway((url) => ({
    retries: { max: 0 },
    providers: providers(url, ["groq", "cerebras", "openai"]),
    routes: {
      fast: [[{ target: "groq/llama", weight: 3 }, "cerebras/llama"], "openai/gpt-4o-mini"],
    },
  }), async (gw, mock) => {
    const served: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const r = await ask(gw, "fast");
      assert.equal(r.status, 200);
      assert.equal(r.attempts, 1);
      served[r.provider!] = (served[r.provider!] ?? 0) + 1;
    }
    assert.ok(Math.abs(served.groq / 200 - 0.75) < 0.08, JSON.stringify(served));
    assert.equal(served.groq + served.cerebras, 200);
    assert.equal(mock.hits("openai"), 0, "the next rank is not load-balanced into");
    // Both members of the group down: the next rank serves.
    mock.setFaults("groq", [{ kind: "status", status: 503 }]);
    mock.setFaults("cerebras", [{ kind: "status", status: 503 }]);
    const r = await ask(gw, "fast");
    assert.deepEqual([r.status, r.provider, r.attempts], [200, "openai", 3]);
  });
});

Deno.test("latency strategy: traffic goes to the faster member once both are measured", async () => {
  await withGateway((url) => ({
    retries: { max: 0 },
    providers: providers(url, ["slow", "quick"]),
    routes: {
      fast: { chain: [{ group: ["slow/m", "quick/m"], strategy: "latency" }] },
    },
  }), async (gw, mock) => {
    mock.setFaults("slow", [{ kind: "latency", ms: 120 }]);
    const order: string[] = [];
    for (let i = 0; i < 10; i++) order.push((await ask(gw, "fast")).provider!);
    // Each member is measured once (no sample counts as fastest), then the faster one wins.
    assert.equal(mock.hits("slow"), 1, order.join(","));
    assert.deepEqual(order.slice(2), Array(8).fill("quick"));
    const ewma = gw.gateway.balancer.latency("slow/m")!.ewmaMs;
    assert.ok(ewma >= 100, `slow measured ${ewma} ms`);
  });
});

Deno.test("latency strategy: an open breaker is not chosen and not even tried", async () => {
  await withGateway((url) => ({
    retries: { max: 0 },
    providers: providers(url, ["slow", "quick"], {
      breaker: { minimumRequests: 2, failureRateThreshold: 0.5, openMs: 60_000 },
    }),
    routes: { fast: { chain: [{ group: ["slow/m", "quick/m"], strategy: "latency" }] } },
  }), async (gw, mock) => {
    mock.setFaults("slow", [{ kind: "latency", ms: 60 }]);
    for (let i = 0; i < 3; i++) await ask(gw, "fast"); // both measured: quick is faster
    mock.setFaults("quick", [{ kind: "status", status: 503 }]);
    // Two 503s open the breaker of quick's model m; each of those requests falls over to slow.
    for (let i = 0; i < 2; i++) assert.equal((await ask(gw, "fast")).provider, "slow");
    const quick = gw.gateway.actors.get("quick")!.state();
    assert.equal(quick.models["m"]?.breaker.status, "open");
    assert.equal(quick.breaker.status, "closed", "a 503 is the model's, not the provider's");
    const quickHits = mock.hits("quick");
    for (let i = 0; i < 5; i++) {
      const r = await ask(gw, "fast");
      assert.deepEqual(
        [r.provider, r.attempts],
        ["slow", 1],
        "quick is put last, never skipped first",
      );
    }
    assert.equal(mock.hits("quick"), quickHits);
  });
});

Deno.test("sticky sessions: a session keeps its target; a failover moves it for good", async () => {
  await withGateway((url) => ({
    retries: { max: 0 },
    providers: providers(url, ["a", "b"], {
      breaker: { minimumRequests: 1, failureRateThreshold: 0.5, openMs: 60_000 },
    }),
    routes: { chat: { chain: [["a/m", "b/m"]], sticky: { header: "x-session-id" } } },
  }), async (gw, mock) => {
    const first = await ask(gw, "chat", { "x-session-id": "alice" });
    for (let i = 0; i < 15; i++) {
      assert.equal((await ask(gw, "chat", { "x-session-id": "alice" })).provider, first.provider);
    }
    // Sessions are spread: across other sessions both targets serve.
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      seen.add((await ask(gw, "chat", { "x-session-id": `s${i}` })).provider!);
    }
    assert.deepEqual([...seen].sort(), ["a", "b"]);
    // Alice's target fails: she is served by the other and stays there, even once it is healthy.
    const pinned = first.provider!;
    const other = pinned === "a" ? "b" : "a";
    mock.setFaults(pinned, [{ kind: "status", status: 503, times: 1 }]);
    const moved = await ask(gw, "chat", { "x-session-id": "alice" });
    assert.deepEqual([moved.provider, moved.attempts], [other, 2]);
    for (let i = 0; i < 5; i++) {
      const r = await ask(gw, "chat", { "x-session-id": "alice" });
      assert.deepEqual([r.provider, r.attempts], [other, 1]);
    }
  });
});

Deno.test("a virtual key gets the route's split: it only filters what the plan allows", async () => {
  const KEY = "vk-team-0123456789abcdef";
  const keyed = { authorization: `Bearer ${KEY}` };
  const config = (keys: boolean) => (url: string): ConfigFile => ({
    retries: { max: 0 },
    providers: providers(url, ["a", "b", "c"]),
    routes: {
      split: [[{ target: "a/m", weight: 1 }, { target: "b/m", weight: 99 }]],
      sticky: { chain: [["a/m", "b/m"]], sticky: { header: "x-session-id" } },
      three: [["a/m", "b/m", "c/m"]],
    },
    ...(keys && {
      virtualKeys: [
        { name: "team", key: "env:TEAM_KEY", providers: [{ provider: "a" }, { provider: "b" }] },
      ],
    }),
  });
  const split = async (gw: RunningGateway, headers: Record<string, string>) => {
    const served: Record<string, number> = {};
    for (let i = 0; i < 50; i++) {
      const r = await ask(gw, "split", headers);
      assert.deepEqual([r.status, r.attempts], [200, 1]);
      served[r.provider!] = (served[r.provider!] ?? 0) + 1;
    }
    return served;
  };
  let open: Record<string, number> = {};
  await withGateway(config(false), async (gw) => {
    open = await split(gw, {});
  });
  await withGateway(
    config(true),
    async (gw) => {
      // Weighted 1:99, the heavy member serves (nearly) all: the same draws, the same split.
      const withKey = await split(gw, keyed);
      assert.ok((open.b ?? 0) >= 47, JSON.stringify(open));
      assert.deepEqual(withKey, open);
      // A sticky route keeps a keyed session on its target too.
      const first = await ask(gw, "sticky", { ...keyed, "x-session-id": "alice" });
      for (let i = 0; i < 10; i++) {
        const r = await ask(gw, "sticky", { ...keyed, "x-session-id": "alice" });
        assert.equal(r.provider, first.provider);
      }
      // What the key does not allow is filtered out of the plan: c never serves.
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) seen.add((await ask(gw, "three", keyed)).provider!);
      assert.deepEqual([...seen].sort(), ["a", "b"]);
    },
    1,
    { TEAM_KEY: KEY },
  );
});
