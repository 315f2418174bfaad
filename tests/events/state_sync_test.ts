// State sync as an operator sees it at start-up: not ready while the state is being rebuilt,
// a NATS that is down means a fresh start that says so, and once NATS is back the gateway
// follows the other replicas again.
import assert from "node:assert/strict";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import type { ProviderSnapshot } from "../../actors/provider/mod.ts";
import type { ConfigFile } from "../../src/config.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";
import { startNatsServer } from "../_support/nats_server.ts";

const hello = [{ role: "user" as const, content: "hello" }];

function config(mockUrl: string, natsUrl: string, instance: string) {
  return {
    instance,
    retries: { max: 0 },
    providers: {
      primary: mockProvider(mockUrl, "primary", "openai", {
        breaker: { minimumRequests: 1, failureRateThreshold: 0.5, openMs: 60_000 },
      }),
    },
    nats: { url: natsUrl },
  } satisfies ConfigFile;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** The provider-wide breaker's state, or with `model` that model's own ("untracked" if unseen). */
async function breakerOf(url: string, model?: string): Promise<string> {
  const res = await fetch(`${url}/v1/gateway/providers`);
  const { data } = await res.json() as { data: ProviderSnapshot[] };
  if (model === undefined) return data[0].breaker.state;
  return data[0].models.find((m) => m.model === model)?.breaker.state ?? "untracked";
}

Deno.test("NATS down at start: the gateway starts with fresh provider state and says so", async () => {
  const mock = await startMockUpstream();
  const url = `ws://127.0.0.1:${freePort()}`;
  const gw = startTestGateway(config(mock.url, url, "alone"));
  try {
    const line = await gw.replayed;
    assert.equal(
      line?.replace(/\(.*\)/, "(…)"),
      `NATS ${url} unreachable at start (…): starting with fresh provider state, nothing replayed`,
    );
    const ready = await fetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 200);
    await ready.body?.cancel();
    assert.equal(await breakerOf(gw.url), "closed");
  } finally {
    await gw.shutdown(500);
    await mock.close();
  }
});

Deno.test("/readyz is 503 while provider state is being rebuilt; requests wait for it", async () => {
  // A server that accepts connections and never answers: the NATS handshake hangs until its
  // connect timeout, which keeps the gateway in its rebuilding phase long enough to look at.
  const mock = await startMockUpstream();
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of silent) held.push(c);
  })();
  const url = `ws://127.0.0.1:${(silent.addr as Deno.NetAddr).port}`;
  const gw = startTestGateway(config(mock.url, url, "waiting"));
  try {
    const ready = await fetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 503);
    const body = await ready.json();
    assert.equal(body.reason, "replaying provider state from NATS JetStream");
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200, "alive all along");

    // Every request but the health checks waits: here the provider state, still fresh.
    let answeredAt = 0;
    const pending = fetch(`${gw.url}/v1/gateway/providers`).then(async (r) => {
      answeredAt = Date.now();
      return await r.json();
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(answeredAt, 0, "held until the state is rebuilt");

    const line = await gw.replayed;
    const rebuiltAt = Date.now();
    assert.match(line!, /unreachable at start .*: starting with fresh provider state/);
    const state = await pending;
    assert.ok(answeredAt >= rebuiltAt - 5, "answered only once the state was rebuilt");
    assert.equal(state.data[0].provider, "primary");
    const after = await fetch(`${gw.url}/readyz`);
    assert.equal(after.status, 200);
    await after.body?.cancel();
  } finally {
    await gw.shutdown(500);
    silent.close();
    for (const c of held) c.close();
    await accepting.catch(() => {});
    await mock.close();
  }
});

Deno.test("NATS back after a fresh start: the gateway follows the other replicas from then on", async () => {
  const nats = await startNatsServer();
  const mock = await startMockUpstream();
  await nats.kill();
  const late = startTestGateway(config(mock.url, nats.wsUrl, "late"));
  let other: ReturnType<typeof startTestGateway> | undefined;
  try {
    assert.match((await late.replayed)!, /unreachable at start/);
    await nats.restart();
    other = startTestGateway(config(mock.url, nats.wsUrl, "other"));
    await other.replayed;
    // Give the late gateway's background reconnect time to start following.
    await new Promise((r) => setTimeout(r, 1_500));
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const res = await fetch(`${other.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "primary/m", messages: hello }),
    });
    await res.body?.cancel();
    // A 503 opens the model's breaker; the late gateway learns of it from the other's events.
    assert.equal(await breakerOf(other.url, "m"), "open");
    let state = "";
    for (let i = 0; i < 50 && state !== "open"; i++) {
      state = await breakerOf(late.url, "m");
      if (state !== "open") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(state, "open");
    assert.equal(await breakerOf(late.url), "closed", "the provider-wide breaker is untouched");
  } finally {
    await other?.shutdown(500);
    await late.shutdown(500);
    await mock.close();
    await nats.stop();
  }
});
