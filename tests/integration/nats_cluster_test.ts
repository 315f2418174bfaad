// A gateway on a three-node JetStream cluster (R3 events stream and KV buckets) loses the server
// it publishes through in the middle of a bounded load: nats.js fails over to another node from
// the configured list, and afterwards every request's events are in the stream exactly once and
// every spend update of its virtual key landed in KV.
import assert from "node:assert/strict";
import { wsconnect } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import OpenAI from "openai";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import type { CloudEvent } from "../../src/events/envelope.ts";
import { eventually, mockProvider, startTestGateway } from "../_support/gateway.ts";
import { startNatsCluster } from "../_support/nats_cluster.ts";
import { readStream } from "../_support/nats_server.ts";

const TOTAL = 200;
const CONCURRENCY = 8;
const KILL_AFTER = 60;
const SECRET = "cluster-team-key-0123456789";

Deno.test("cluster: killing the gateway's server under load loses no event, duplicates none, drops no spend", async () => {
  const cluster = await startNatsCluster(3);
  const mock = await startMockUpstream();
  let gw: ReturnType<typeof startTestGateway> | undefined;
  try {
    await cluster.ready();
    gw = startTestGateway({
      instance: "cluster-gw",
      retries: { max: 0 },
      providers: { primary: mockProvider(mock.url, "primary") },
      pricing: { "primary/gpt-4o-mini": { inputPerMTok: 1, outputPerMTok: 2 } },
      virtualKeys: [{ name: "team", key: "env:TEAM_KEY", providers: [{ provider: "primary" }] }],
      nats: { url: cluster.wsUrls, replicas: 3 },
    }, { TEAM_KEY: SECRET });
    await gw.replayed;
    await gw.gateway.governor.loaded();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: SECRET, maxRetries: 0 });

    const ids: string[] = [];
    let done = 0;
    let killed: string | undefined;
    let afterKill = 0;
    const killing: Promise<void>[] = [];
    const worker = async () => {
      while (ids.length < TOTAL) {
        const slot = ids.length;
        ids.push("");
        const res = await client.chat.completions.create({
          model: "primary/gpt-4o-mini",
          messages: [{ role: "user", content: `hello ${slot}` }],
        }).withResponse();
        ids[slot] = res.response.headers.get("x-request-id")!;
        if (killed) afterKill++;
        if (++done === KILL_AFTER) {
          killing.push((async () => {
            const node = await cluster.nodeOf("gateway/cluster-gw");
            assert.ok(node, "the gateway's event connection is on one of the nodes");
            killed = node.name;
            await node.kill();
          })());
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await Promise.all(killing);
    assert.ok(killed, "a server was killed mid-load");
    assert.ok(afterKill >= 50, `requests answered after the kill: ${afterKill}`);
    assert.equal(ids.filter(Boolean).length, TOTAL, "every request was answered");

    // Everything flushed through a surviving node.
    await eventually(
      () => gw!.bus.stats().buffered === 0 && gw!.bus.stats().connected,
      30_000,
      "the bus flushed on another node",
    );
    assert.equal(gw.bus.stats().dropped, 0);

    // Charges are written after the answer: wait (bounded) until every one is in the stream.
    const live = cluster.nodes.find((n) => n.alive)!.wsUrl;
    let stored: CloudEvent[] = [];
    const spends = () => stored.filter((e) => e.type === "gateway.key.spend").length;
    for (const end = Date.now() + 20_000; Date.now() < end;) {
      stored = await readStreamFully(live);
      if (spends() >= TOTAL && gw.bus.stats().buffered === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const ceIds = stored.map((e) => e.id);
    assert.equal(new Set(ceIds).size, ceIds.length, "no event stored twice");
    const byType = (type: string) =>
      new Map(
        ids.map((id) => [
          id,
          stored.filter((e) =>
            e.type === type && (e.data as { requestId?: string }).requestId === id
          )
            .length,
        ]),
      );
    for (
      const type of ["gateway.request.started", "gateway.request.completed", "gateway.key.spend"]
    ) {
      const counts = byType(type);
      const wrong = [...counts].filter(([, n]) => n !== 1);
      assert.deepEqual(wrong, [], `every request has exactly one ${type}`);
    }

    // Every spend update landed: the key's spend in KV is the sum of its key.spend events.
    const nc = await wsconnect({
      servers: cluster.nodes.filter((n) => n.alive).map((n) => n.wsUrl),
    });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info("GATEWAY_EVENTS");
      assert.equal(info.config.num_replicas, 3);
      assert.equal(info.config.deny_purge, true);
      const keys = await jsm.streams.info("KV_GATEWAY_KEYS");
      assert.equal(keys.config.num_replicas, 3);
      const kv = await new Kvm(nc).open("GATEWAY_KEYS");
      const usage = (await kv.get("usage.cfg-team"))?.json<{ spentNanoUsd: number }>();
      const spendEvents = stored.filter((e) => e.type === "gateway.key.spend");
      const sum = spendEvents.reduce(
        (s, e) => s + Math.round((e.data as { costUsd: number }).costUsd * 1e9),
        0,
      );
      assert.ok(sum > 0, "requests cost something");
      assert.equal(usage?.spentNanoUsd, sum, "KV spend = every request's charge");
      const last = spendEvents.map((e) => (e.data as { periodSpentUsd: number }).periodSpentUsd);
      assert.equal(Math.max(...last), sum / 1e9, "the last charge saw every earlier one");
    } finally {
      await nc.close();
    }
  } finally {
    await gw?.shutdown(1_000);
    await mock.close();
    await cluster.stop();
  }
});

/** The whole stream, retried while a new stream leader settles after the kill. */
async function readStreamFully(wsUrl: string): Promise<CloudEvent[]> {
  for (let i = 0;; i++) {
    try {
      return await readStream(wsUrl);
    } catch (err) {
      if (i === 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
