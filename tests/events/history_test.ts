// Reading the JetStream stream from a point in time, against a real nats-server.
import assert from "node:assert/strict";
import { wsconnect } from "@nats-io/nats-core";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import {
  readHistory,
  StreamMissingError,
  tailHistory,
  type TailItem,
} from "../../src/events/history.ts";
import { createNatsBus } from "../../src/events/nats_bus.ts";
import { createIdGen } from "../../src/lib/ids.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { startNatsServer } from "../_support/nats_server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Publishes through the real bus and returns once JetStream has acknowledged every event. */
async function publish(url: string, events: GatewayEvent[]) {
  const bus = createNatsBus({
    access: { servers: [url] },
    instance: "hist",
    ids: createIdGen(),
    logger: silentLogger,
  });
  for (const e of events) bus.publish(e);
  await bus.close();
  assert.equal(bus.stats().published, events.length);
}

const closed = (id: number): GatewayEvent => ({
  type: "breaker.closed",
  at: Date.now(),
  provider: `p${id}`,
});
const providerOf = (x: { event?: { data: unknown } }) =>
  (x.event?.data as { provider: string }).provider;

Deno.test("readHistory returns what was stored from the start time on, in order, and ends", async () => {
  const srv = await startNatsServer();
  const nc = await wsconnect({ servers: srv.wsUrl });
  try {
    await publish(srv.wsUrl, [closed(1), closed(2)]);
    await sleep(30);
    const start = Date.now();
    await sleep(10);
    await publish(srv.wsUrl, [closed(3), closed(4), closed(5)]);

    const got = [];
    for await (const m of readHistory(nc, { stream: "GATEWAY_EVENTS", startMs: start })) {
      got.push(m);
    }
    assert.deepEqual(got.map(providerOf), ["p3", "p4", "p5"]);
    assert.deepEqual(got.map((m) => m.subject), [
      "gateway.breaker.closed.p3",
      "gateway.breaker.closed.p4",
      "gateway.breaker.closed.p5",
    ]);

    // A start time after everything stored reads nothing, at once.
    const empty = [];
    for await (const m of readHistory(nc, { stream: "GATEWAY_EVENTS", startMs: Date.now() })) {
      empty.push(m);
    }
    assert.equal(empty.length, 0);

    // The subject filter is applied by the server.
    const one = [];
    const filtered = readHistory(nc, {
      stream: "GATEWAY_EVENTS",
      subject: "gateway.*.*.p4",
      startMs: 0,
    });
    for await (const m of filtered) one.push(providerOf(m));
    assert.deepEqual(one, ["p4"]);
  } finally {
    await nc.close();
    await srv.stop();
  }
});

Deno.test("readHistory on a server without the stream says so", async () => {
  const srv = await startNatsServer();
  const nc = await wsconnect({ servers: srv.wsUrl });
  try {
    await assert.rejects(
      async () => {
        for await (const _ of readHistory(nc, { stream: "GATEWAY_EVENTS", startMs: 0 })) {
          // nothing to read
        }
      },
      (e: Error) =>
        e instanceof StreamMissingError && /GATEWAY_EVENTS does not exist/.test(e.message),
    );
  } finally {
    await nc.close();
    await srv.stop();
  }
});

Deno.test("tailHistory replays from the start time, marks the switch to live, then delivers new events", async () => {
  const srv = await startNatsServer();
  const nc = await wsconnect({ servers: srv.wsUrl });
  try {
    await publish(srv.wsUrl, [closed(1)]);
    await sleep(30);
    const start = Date.now();
    await sleep(10);
    await publish(srv.wsUrl, [closed(2), closed(3)]);

    const items: string[] = [];
    const tail = tailHistory(nc, { stream: "GATEWAY_EVENTS", startMs: start });
    const label = (i: TailItem) => i.kind === "live" ? `live:${i.replayed}` : providerOf(i);
    items.push(label((await tail.next()).value!));
    items.push(label((await tail.next()).value!));
    items.push(label((await tail.next()).value!));
    assert.deepEqual(items, ["p2", "p3", "live:2"]);

    // Published after the replay finished: arrives through the same consumer.
    const next = tail.next();
    await publish(srv.wsUrl, [closed(4)]);
    assert.equal(label((await next).value!), "p4");
    await tail.return(undefined);
  } finally {
    await nc.close();
    await srv.stop();
  }
});
