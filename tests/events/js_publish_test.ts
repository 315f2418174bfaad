// The JetStream publisher against a real nats-server: acks resolve, repeats are dropped by id,
// refusals and silence reject (so the bus keeps the event and retries it).
import assert from "node:assert/strict";
import { headers, type Msg, nanos, wsconnect } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  ackError,
  createJetStreamPublisher,
  type JetStreamPublisher,
} from "../../src/events/js_publish.ts";
import { startNatsServer } from "../_support/nats_server.ts";

/** One message as a batch of its own: resolves when stored, rejects with the batch's answer. */
async function publish(pub: JetStreamPublisher, subject: string, payload: string, id: string) {
  const [err] = await pub.publishBatch([{ subject, payload, id }]);
  if (err) throw err;
}

Deno.test("publish resolves once JetStream stored the message; a repeated id is stored once", async () => {
  const nats = await startNatsServer();
  const nc = await wsconnect({ servers: nats.wsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: "T",
      subjects: ["t.>"],
      duplicate_window: nanos(60_000),
    });
    const pub = createJetStreamPublisher(nc, 2_000);
    await Promise.all([
      publish(pub, "t.a", '{"n":1}', "id-1"),
      publish(pub, "t.b", '{"n":2}', "id-2"),
      publish(pub, "t.a", '{"n":1}', "id-1"), // a retry after a lost ack
    ]);
    const info = await jsm.streams.info("T");
    assert.equal(info.state.messages, 2);
    const first = await jsm.streams.getMessage("T", { seq: 1 });
    assert.equal(first?.header.get("Nats-Msg-Id"), "id-1");
    assert.deepEqual(first?.json(), { n: 1 });

    // No stream on the subject: the server says "no responders" at once.
    await assert.rejects(publish(pub, "nowhere.x", "{}", "id-3"), /no responders/);
    pub.close();
  } finally {
    await nc.close();
    await nats.stop();
  }
});

Deno.test("publish rejects when no ack comes in time, and close() rejects what still waits", async () => {
  const nats = await startNatsServer();
  const nc = await wsconnect({ servers: nats.wsUrl });
  try {
    // Something listens on the subject but never answers: no "no responders", no ack.
    const silent = nc.subscribe("quiet.>");
    const pub = createJetStreamPublisher(nc, 100);
    const t0 = Date.now();
    await assert.rejects(publish(pub, "quiet.a", "{}", "q-1"), /no JetStream ack within 100 ms/);
    assert.ok(Date.now() - t0 >= 100);
    const waiting = publish(pub, "quiet.b", "{}", "q-2");
    pub.close();
    await assert.rejects(waiting, /closed before JetStream acknowledged/);
    silent.unsubscribe();
  } finally {
    await nc.close();
    await nats.stop();
  }
});

Deno.test("publishBatch answers each message of a batch on its own: stored, refused or silent", async () => {
  const nats = await startNatsServer();
  const nc = await wsconnect({ servers: nats.wsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "T", subjects: ["t.>"], duplicate_window: nanos(60_000) });
    const silent = nc.subscribe("quiet.>"); // listens, never answers
    const pub = createJetStreamPublisher(nc, 300, "/gateway/me");
    const t0 = Date.now();
    const errors = await pub.publishBatch([
      { subject: "t.a", payload: '{"n":1}', id: "b-1" },
      { subject: "nowhere.x", payload: "{}", id: "b-2" },
      { subject: "quiet.a", payload: "{}", id: "b-3" },
      { subject: "t.b", payload: '{"n":2}', id: "b-4" },
    ]);
    assert.equal(errors[0], undefined);
    assert.match(String(errors[1]), /no responders/);
    assert.match(String(errors[2]), /no JetStream ack within 300 ms/);
    assert.equal(errors[3], undefined);
    assert.ok(Date.now() - t0 >= 300, "the silent one was waited for");
    const stored = await jsm.streams.getMessage("T", { seq: 2 });
    assert.equal(stored?.header.get("Nats-Msg-Id"), "b-4");
    assert.equal(stored?.header.get("Gateway-Source"), "/gateway/me");
    assert.deepEqual(await pub.publishBatch([]), []);
    silent.unsubscribe();
    pub.close();
  } finally {
    await nc.close();
    await nats.stop();
  }
});

Deno.test("ackError reads PubAcks, JetStream errors and status replies", () => {
  const enc = new TextEncoder();
  const msg = (body: string, status?: [number, string]): Pick<Msg, "data" | "headers" | "json"> => {
    const h = status ? headers(status[0], status[1]) : undefined;
    return { data: enc.encode(body), headers: h, json: <T>() => JSON.parse(body) as T };
  };
  assert.equal(ackError(msg('{"stream":"T","seq":3}')), undefined);
  assert.equal(ackError(msg('{"stream":"T","seq":3,"duplicate":true}')), undefined);
  assert.match(
    String(ackError(msg('{"error":{"code":400,"err_code":10060,"description":"bad"}}'))),
    /refused the message: bad/,
  );
  assert.match(String(ackError(msg("", [503, "No Responders"]))), /no responders/);
  assert.match(String(ackError(msg("", [408, "Request Timeout"]))), /answered 408/);
  assert.match(String(ackError(msg("nope"))), /not a PubAck/);
  assert.match(String(ackError(msg("{}"))), /without a stream/);
});
