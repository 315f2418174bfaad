// Two real gateway processes on one nats-server share provider health: when one opens a model's
// breaker the other stops calling that model within a second (and keeps calling the provider's
// other models), and recovery is probed with `halfOpenProbes` calls in total, not per replica;
// then both serve from the primary again.
import assert from "node:assert/strict";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import type { ProviderSnapshot } from "../../actors/provider/mod.ts";
import type { CloudEvent } from "../../src/events/envelope.ts";
import { collectEvents, startNatsServer } from "../_support/nats_server.ts";

const root = new URL("../../", import.meta.url);
const main = new URL("../../src/main.ts", import.meta.url);
const HALF_OPEN_PROBES = 2;
const OPEN_MS = 2_500;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

interface Replica {
  url: string;
  instance: string;
  output(): string;
  stop(): Promise<void>;
}

/** `deno run -A src/main.ts` as an operator starts it: config file, NATS_URL, PORT, instance. */
async function startReplica(configPath: string, natsUrl: string, instance: string) {
  const port = freePort();
  const env: Record<string, string> = {
    GATEWAY_CONFIG: configPath,
    NATS_URL: natsUrl,
    PORT: String(port),
    GATEWAY_INSTANCE: instance,
    NO_COLOR: "1",
    // One process per replica, whatever the cores: calls and probes are counted per replica here
    // (workers of one process are replicas of each other: tests/workers/run_test.ts).
    WORKERS: "1",
  };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main.href],
    cwd: root,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) out += chunk;
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const url = `http://127.0.0.1:${port}`;
  const replica: Replica = {
    url,
    instance,
    output: () => out,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await pumping;
    },
  };
  const deadline = Date.now() + 60_000;
  while (true) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.status === 200) return replica;
    if (Date.now() > deadline) {
      await replica.stop();
      throw new Error(`replica ${instance} not ready within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ask = async (url: string, model = "primary/gpt-4o-mini") => {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      fallbacks: ["backup/b"],
      messages: [{ role: "user", content: "hello" }],
    }),
  });
  await res.body?.cancel();
  return {
    status: res.status,
    provider: res.headers.get("x-gateway-provider"),
    errors: res.headers.get("x-gateway-fallback-errors") ?? "",
  };
};

/** Primary's breakers on one replica: gpt-4o-mini's own ("untracked" until seen) and provider-wide. */
async function breakers(url: string) {
  const res = await fetch(`${url}/v1/gateway/providers`);
  const { data } = await res.json() as { data: ProviderSnapshot[] };
  const p = data.find((p) => p.provider === "primary")!;
  const model = p.models.find((m) => m.model === "gpt-4o-mini")?.breaker.state ?? "untracked";
  return { model, provider: p.breaker.state };
}
const breaker = async (url: string) => ({ state: (await breakers(url)).model });

const typeOf = (e: CloudEvent) => e.type.replace(/^gateway\./, "");

Deno.test("two replicas: one opens the breaker, the other stops calling within a second; probes are shared", async () => {
  const nats = await startNatsServer();
  const mock = await startMockUpstream();
  const sub = await collectEvents(nats.wsUrl, "gateway.>");
  const dir = await Deno.makeTempDir({ prefix: "gateway-replicas-" });
  const configPath = `${dir}/gateway.json`;
  const timeouts = { firstTokenMs: 5_000, totalMs: 10_000 };
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      retries: { max: 0 },
      providers: {
        primary: {
          type: "openai",
          baseUrl: `${mock.url}/primary/v1`,
          timeouts,
          breaker: {
            minimumRequests: 3,
            failureRateThreshold: 0.5,
            windowMs: 10_000,
            openMs: OPEN_MS,
            maxOpenMs: 60_000,
            halfOpenProbes: HALF_OPEN_PROBES,
          },
        },
        backup: { type: "openai", baseUrl: `${mock.url}/backup/v1`, timeouts },
      },
    }),
  );
  const replicas: Replica[] = [];
  try {
    const [one, two] = await Promise.all([
      startReplica(configPath, nats.wsUrl, "replica-1"),
      startReplica(configPath, nats.wsUrl, "replica-2"),
    ]);
    replicas.push(one, two);

    // Replica 1 meets a dead gpt-4o-mini (three 503s) and opens that model's breaker.
    mock.setFaults("primary", [{ kind: "status", status: 503, times: 3 }]);
    for (let i = 0; i < 3; i++) {
      const r = await ask(one.url);
      assert.equal(r.provider, "backup");
    }
    const openedAt = Date.now();
    assert.deepEqual(await breakers(one.url), { model: "open", provider: "closed" });
    assert.equal(mock.hits("primary"), 3);

    // Replica 2 never called it, yet stops sending to it within a second.
    while ((await breaker(two.url)).state !== "open") {
      assert.ok(Date.now() - openedAt < 1_000, "replica 2 saw the open breaker within 1 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await breakers(two.url)).provider, "closed");
    const skipped = await ask(two.url);
    assert.equal(skipped.provider, "backup");
    assert.match(skipped.errors, /circuit_open/);
    assert.equal(mock.hits("primary"), 3, "replica 2 made no call to the dead model");
    // Only that model: replica 2 still sends the provider's other models to it.
    const otherModel = await ask(two.url, "primary/gpt-4o");
    assert.deepEqual([otherModel.status, otherModel.provider], [200, "primary"]);
    assert.equal(mock.hits("primary"), 4);
    const before = mock.hits("primary");

    // The upstream is healthy again, but slow: probes stay in flight long enough to count.
    mock.setFaults("primary", [{ kind: "latency", ms: 3_000 }]);
    const opened = sub.events.find((e) => e.type === "gateway.breaker.opened")!;
    const until = (opened.data as { until: number }).until;
    await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 50));

    // Both replicas take concurrent traffic while the breaker is being probed.
    const answers: Promise<Awaited<ReturnType<typeof ask>>>[] = [];
    const waveEnd = Date.now() + 1_000;
    while (Date.now() < waveEnd) {
      for (let i = 0; i < 2; i++) answers.push(ask(one.url), ask(two.url));
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(
      sub.events.some((e) => e.type === "gateway.breaker.closed"),
      false,
      "probes still in flight",
    );
    assert.equal(mock.hits("primary") - before, HALF_OPEN_PROBES, "probes in flight, all replicas");

    await sub.waitFor((es) => es.some((e) => e.type === "gateway.breaker.closed"), 10_000);
    assert.equal(
      mock.hits("primary") - before,
      HALF_OPEN_PROBES,
      "exactly halfOpenProbes probe calls before breaker.closed",
    );
    const results = await Promise.all(answers);
    assert.ok(results.every((r) => r.status === 200), JSON.stringify(results));
    assert.equal(results.filter((r) => r.provider === "primary").length, HALF_OPEN_PROBES);
    const recovery = sub.events.filter((e) => Date.parse(e.time) >= until - 5);
    assert.equal(recovery.filter((e) => typeOf(e) === "breaker.half_opened").length, 1);
    assert.equal(
      recovery.filter((e) =>
        typeOf(e) === "attempt.started" && (e.data as { probe: boolean }).probe
      )
        .length,
      HALF_OPEN_PROBES,
    );
    const prober = recovery.find((e) => typeOf(e) === "breaker.half_opened")!.source;
    assert.ok(
      recovery.filter((e) => typeOf(e).startsWith("breaker.")).every((e) => e.source === prober),
      "the lease holder alone half-opened and closed it",
    );
    assert.ok(
      sub.events.filter((e) => typeOf(e).startsWith("breaker.")).every((e) =>
        (e.data as { model?: string }).model === "gpt-4o-mini"
      ),
      "every transition was gpt-4o-mini's, none provider-wide",
    );

    // Both serve from the primary again.
    mock.clearFaults("primary");
    for (const r of [one, two]) {
      const deadline = Date.now() + 1_000;
      while ((await breaker(r.url)).state !== "closed") {
        assert.ok(Date.now() < deadline, `${r.instance} saw breaker.closed`);
        await new Promise((res) => setTimeout(res, 20));
      }
      const answer = await ask(r.url);
      assert.equal(answer.provider, "primary", `${r.instance} serves from the primary`);
    }
  } catch (err) {
    for (const r of replicas) console.error(`--- ${r.instance} ---\n${r.output()}`);
    throw err;
  } finally {
    for (const r of replicas) await r.stop();
    await sub.close();
    await mock.close();
    await nats.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
