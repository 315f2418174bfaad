// Probe leases in a real NATS KV bucket: of several replicas asking at once exactly one wins;
// a lease that ran out is taken over by exactly one; without NATS every replica may probe.
import assert from "node:assert/strict";
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  createKvProbeLeases,
  leaseBucketName,
  leaseOwner,
  openLeaseBucket,
} from "../../src/events/probe_leases.ts";
import { createLogger, silentLogger } from "../../src/lib/logger.ts";
import { startNatsServer } from "../_support/nats_server.ts";

Deno.test("leaseOwner: ours while it runs, theirs while it runs, free once it ended", () => {
  const now = 1_000;
  const cases = [
    { current: undefined, want: "free" },
    { current: { holder: "a", until: 2_000 }, want: "mine" },
    { current: { holder: "b", until: 2_000 }, want: "theirs" },
    { current: { holder: "b", until: 1_000 }, want: "free" },
    { current: { holder: "a", until: 999 }, want: "free" },
  ] as const;
  for (const c of cases) {
    assert.equal(leaseOwner(c.current, "a", now), c.want, JSON.stringify(c.current));
  }
});

Deno.test("KV leases: one winner among replicas asking at once, takeover after it ran out", async () => {
  const nats = await startNatsServer();
  const conns: NatsConnection[] = [];
  try {
    let now = Date.now();
    const clock = { now: () => now };
    const replicas = await Promise.all(["r1", "r2", "r3", "r4"].map(async (instance) => {
      const nc = await wsconnect({ servers: nats.wsUrl });
      conns.push(nc);
      const kv = await openLeaseBucket(nc, "GATEWAY_EVENTS");
      return createKvProbeLeases({ bucket: () => kv, instance, clock, logger: silentLogger });
    }));
    const grants = await Promise.all(replicas.map((r) => r.acquire("openai.123", 5_000)));
    assert.equal(grants.filter((g) => g.won).length, 1, JSON.stringify(grants));
    const until = now + 5_000;
    for (const g of grants) assert.equal(g.until, until, "everyone learns when it ends");
    const winner = grants.findIndex((g) => g.won);
    assert.deepEqual(await replicas[winner].acquire("openai.123", 5_000), { won: true, until });

    // Another opening is another lease.
    const other = await Promise.all(replicas.map((r) => r.acquire("openai.456", 5_000)));
    assert.equal(other.filter((g) => g.won).length, 1);

    // The holder never finished: after the lease, exactly one other replica takes over.
    now += 5_001;
    const later = await Promise.all(replicas.map((r) => r.acquire("openai.123", 5_000)));
    assert.equal(later.filter((g) => g.won).length, 1, JSON.stringify(later));
    assert.ok(later.every((g) => g.until === now + 5_000));
    for (const r of replicas) assert.equal(r.local, 0, "every answer came from NATS");

    const jsm = await jetstreamManager(conns[0]);
    const info = await jsm.streams.info(`KV_${leaseBucketName("GATEWAY_EVENTS")}`);
    assert.equal(info.state.messages >= 2, true, "leases are stored in the bucket");
  } finally {
    for (const c of conns) await c.close();
    await nats.stop();
  }
});

Deno.test("KV leases without NATS: granted locally (probing must not wait on NATS), and said so once", async () => {
  const lines: string[] = [];
  const leases = createKvProbeLeases({
    bucket: () => undefined,
    instance: "r1",
    clock: { now: () => 1_000 },
    logger: createLogger("info", (l) => lines.push(l)),
  });
  assert.deepEqual(await leases.acquire("openai.1", 500), { won: true, until: 1_500 });
  assert.deepEqual(await leases.acquire("openai.2", 500), { won: true, until: 1_500 });
  assert.equal(leases.local, 2);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /probe lease store unavailable; probing without coordinating replicas/);
});
