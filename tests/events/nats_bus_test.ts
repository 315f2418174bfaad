// Integration tests against a real nats-server: what a subscriber and the stream actually get.
import assert from "node:assert/strict";
import { nanos, wsconnect } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { fromCloudEvent } from "../../src/events/envelope.ts";
import { createNatsBus, type NatsBusOptions } from "../../src/events/nats_bus.ts";
import { createIdGen } from "../../src/lib/ids.ts";
import { createLogger, silentLogger } from "../../src/lib/logger.ts";
import type { EventBus } from "../../src/ports.ts";
import { collectEvents, readStream, startNatsServer } from "../_support/nats_server.ts";
import { SAMPLES } from "./_samples.ts";

const busFor = (url: string, extra: Partial<NatsBusOptions> = {}) =>
  createNatsBus({
    access: { servers: [url] },
    instance: "test-1",
    ids: createIdGen(),
    logger: silentLogger,
    retryMs: 100,
    ...extra,
  });

/** The n-th attempt of one request: distinct, recognisable events. */
const nth = (n: number): GatewayEvent => ({ ...SAMPLES["attempt.started"], attempt: n });

async function waitUntil(what: string, cond: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Fails instead of hanging the suite if `p` never settles. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("events reach subscribers on their subjects as CloudEvents and land in the stream", async () => {
  const srv = await startNatsServer();
  let bus: EventBus | undefined;
  const live = await collectEvents(srv.wsUrl);
  try {
    bus = busFor(srv.wsUrl);
    assert.equal(bus.kind, "nats");
    assert.equal(
      bus.describe,
      `NATS ${srv.wsUrl} → JetStream stream GATEWAY_EVENTS (subjects gateway.>)`,
    );
    const local: string[] = [];
    bus.subscribe((e) => local.push(e.type));
    const sent = [SAMPLES["attempt.failed"], SAMPLES["fallback.taken"], SAMPLES["request.started"]];
    for (const e of sent) bus.publish(e);
    assert.deepEqual(local, sent.map((e) => e.type), "local fan-out is synchronous");

    await live.waitFor((evs) => evs.length === 3);
    assert.deepEqual(live.messages.map((m) => m.subject), [
      "gateway.attempt.failed.openai",
      "gateway.fallback.taken.anthropic",
      "gateway.request.started._",
    ]);
    for (const m of live.messages) {
      assert.equal(m.msgId, m.event.id, "Nats-Msg-Id is the CloudEvent id");
      assert.equal(m.event.specversion, "1.0");
      assert.equal(m.event.source, "/gateway/test-1");
      assert.equal(m.event.subject, m.subject);
    }
    assert.deepEqual(live.events.map(fromCloudEvent), sent);

    await bus.close();
    assert.deepEqual(bus.stats(), { published: 3, dropped: 0, buffered: 0, connected: false });
    const stored = await readStream(srv.wsUrl);
    assert.deepEqual(stored.map((e) => e.id), live.events.map((e) => e.id));

    const nc = await wsconnect({ servers: srv.wsUrl });
    const { config } = await (await jetstreamManager(nc)).streams.info("GATEWAY_EVENTS");
    await nc.close();
    assert.deepEqual(config.subjects, ["gateway.>"]);
    assert.equal(config.max_age, nanos(24 * 3_600_000), "retention is bounded");
    assert.equal(config.duplicate_window, nanos(120_000));
  } finally {
    await bus?.close();
    await live.close();
    await srv.stop();
  }
});

Deno.test("events published before NATS is up are delivered once it is", async () => {
  const srv = await startNatsServer();
  await srv.kill(); // the gateway starts first; nats-server comes up later
  const bus = busFor(srv.wsUrl);
  try {
    bus.publish(nth(1));
    bus.publish(nth(2));
    assert.deepEqual(bus.stats(), { published: 0, dropped: 0, buffered: 2, connected: false });

    await srv.restart();
    await waitUntil("flush after connect", () => bus.stats().published === 2);
    const stored = await readStream(srv.wsUrl);
    assert.deepEqual(stored.map((e) => (e.data as { attempt: number }).attempt), [1, 2]);
  } finally {
    await bus.close();
    await srv.stop();
  }
});

Deno.test("an outage keeps publish instant, bounds the buffer, and flushes after restart", async () => {
  const srv = await startNatsServer();
  const logs: string[] = [];
  const bus = busFor(srv.wsUrl, {
    maxBuffer: 5,
    logger: createLogger("info", (l) => logs.push(l)),
  });
  try {
    bus.publish(nth(1));
    bus.publish(nth(2));
    await waitUntil("first flush", () => bus.stats().published === 2);

    await srv.kill();
    await waitUntil("disconnect noticed", () => !bus.stats().connected);
    for (let n = 3; n <= 10; n++) assert.equal(bus.publish(nth(n)), undefined);
    assert.deepEqual(bus.stats(), { published: 2, dropped: 3, buffered: 5, connected: false });

    await srv.restart();
    await waitUntil("flush after reconnect", () => bus.stats().buffered === 0);
    assert.deepEqual(bus.stats(), { published: 7, dropped: 3, buffered: 0, connected: true });

    // The three oldest outage events were dropped; the rest arrive once each, in order.
    const stored = await readStream(srv.wsUrl);
    assert.deepEqual(stored.map((e) => (e.data as { attempt: number }).attempt), [
      1,
      2,
      6,
      7,
      8,
      9,
      10,
    ]);

    const count = (re: RegExp) => logs.filter((l) => re.test(l)).length;
    assert.equal(count(/NATS connected/), 1);
    assert.equal(count(/NATS disconnected/), 1, "logged once, not per event");
    assert.equal(count(/NATS reconnected/), 1);
  } finally {
    await bus.close();
    await srv.stop();
  }
});

Deno.test("JetStream stores a re-published message id only once", async () => {
  const srv = await startNatsServer();
  const ids = ["dup-1", "dup-1", "other-2"];
  const bus = busFor(srv.wsUrl, { ids: { next: () => ids.shift() ?? "unexpected" } });
  try {
    bus.publish(nth(1));
    bus.publish(nth(2)); // same id as the first: a replay after a lost ack looks like this
    bus.publish(nth(3));
    await waitUntil("acks", () => bus.stats().published === 3);
    const stored = await readStream(srv.wsUrl);
    assert.deepEqual(stored.map((e) => e.id), ["dup-1", "other-2"]);
    assert.equal((stored[0].data as { attempt: number }).attempt, 1);
  } finally {
    await bus.close();
    await srv.stop();
  }
});

Deno.test("close returns within its bound when NATS is unreachable", async () => {
  const srv = await startNatsServer();
  await srv.kill();
  const logs: string[] = [];
  const bus = busFor(srv.wsUrl, {
    closeTimeoutMs: 300,
    logger: createLogger("info", (l) => logs.push(l)),
  });
  try {
    bus.publish(nth(1));
    await within(3_000, bus.close());
    assert.equal(bus.stats().buffered, 1, "unflushed events are reported, not hidden");
    assert.equal(logs.filter((l) => /NATS unreachable/.test(l)).length, 1);
    assert.ok(logs.some((l) => /closing with unflushed events buffered=1/.test(l)));
    bus.publish(nth(2)); // after close: still must not throw
    assert.equal(bus.stats().dropped, 1);
  } finally {
    await srv.stop();
  }
});
