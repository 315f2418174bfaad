// Following other replicas: which events are folded (theirs, about our providers, that change
// state), in stream order, from where replay stopped, and never our own.
import assert from "node:assert/strict";
import { headers, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { sourceOf, toCloudEvent } from "../../src/events/envelope.ts";
import {
  type FollowOptions,
  followReplicas,
  invalidEvent,
  mayHoldState,
  remoteStateEvent,
} from "../../src/events/follow_replicas.ts";
import { SOURCE_HEADER } from "../../src/events/js_publish.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { eventually } from "../_support/gateway.ts";
import { startNatsServer } from "../_support/nats_server.ts";
import { SAMPLES } from "./_samples.ts";

const providers = new Set(["openai", "anthropic"]);

/** A follower of GATEWAY_EVENTS as replica "me" serving `providers`, from the start. */
const following = (o: Partial<FollowOptions> & Pick<FollowOptions, "onEvent">): FollowOptions => ({
  stream: "GATEWAY_EVENTS",
  instance: "me",
  providers,
  from: 1,
  logger: silentLogger,
  ...o,
});

Deno.test("remoteStateEvent: another replica's state events about our providers, nothing else", () => {
  const ce = (e: GatewayEvent, instance = "other") => toCloudEvent(e, "id-1", instance);
  const folded = [
    "attempt.started",
    "attempt.succeeded",
    "attempt.failed",
    "attempt.aborted",
    "breaker.opened",
    "breaker.half_opened",
    "breaker.closed",
    "ratelimit.blocked",
    "ratelimit.refilled",
    "model.unavailable",
  ] as const;
  for (const type of folded) {
    const e = { ...SAMPLES[type], provider: "openai" } as GatewayEvent;
    assert.deepEqual(remoteStateEvent(ce(e), "me", providers), e, type);
    assert.equal(remoteStateEvent(ce(e, "me"), "me", providers), undefined, `own ${type}`);
  }
  const ignored: GatewayEvent[] = [
    SAMPLES["request.started"],
    SAMPLES["request.completed"],
    SAMPLES["attempt.skipped"],
    SAMPLES["attempt.retrying"],
    SAMPLES["fallback.taken"],
    { ...SAMPLES["breaker.opened"], provider: "groq" }, // not configured here
  ];
  for (const e of ignored) {
    assert.equal(remoteStateEvent(ce(e), "me", providers), undefined, e.type);
  }
  const foreign = { ...ce(SAMPLES["breaker.closed"]), type: "com.example.other" };
  assert.equal(remoteStateEvent(foreign as never, "me", providers), undefined);
  assert.equal(sourceOf("gw-1"), "/gateway/gw-1");
});

Deno.test("remoteStateEvent: a sibling worker's events are skipped (they come through the main thread)", () => {
  const e = { ...SAMPLES["breaker.opened"], provider: "openai" } as GatewayEvent;
  const siblings = (source: string) => source === "/gateway/gw-w1";
  assert.equal(
    remoteStateEvent(toCloudEvent(e, "i", "gw-w1"), "gw-w0", providers, siblings),
    undefined,
  );
  assert.deepEqual(
    remoteStateEvent(toCloudEvent(e, "i", "other"), "gw-w0", providers, siblings),
    e,
  );
});

async function publish(nc: NatsConnection, events: [GatewayEvent, string][]) {
  const js = jetstream(nc);
  let n = 0;
  for (const [e, instance] of events) {
    const ce = toCloudEvent(e, `${instance}-${n++}-${Math.random()}`, instance);
    await js.publish(ce.subject, JSON.stringify(ce));
  }
}

const opened = (until: number): GatewayEvent => ({ ...SAMPLES["breaker.opened"], until });

Deno.test("followReplicas: others' events in stream order from the given sequence; own ones skipped", async () => {
  const nats = await startNatsServer();
  const nc = await wsconnect({ servers: nats.wsUrl });
  const got: GatewayEvent[] = [];
  let follower: ReturnType<typeof followReplicas> | undefined;
  try {
    // Before the stream exists: the follower waits for it, then reads it from the start.
    follower = followReplicas(nc, following({ onEvent: (e) => got.push(e), retryMs: 50 }));
    await new Promise((r) => setTimeout(r, 150));
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "GATEWAY_EVENTS", subjects: ["gateway.>"] });
    await publish(nc, [
      [opened(1), "a"],
      [opened(2), "me"],
      [SAMPLES["request.started"], "a"],
      [opened(3), "b"],
      [SAMPLES["breaker.closed"], "a"],
    ]);
    await eventually(() => got.length === 3, 5_000, "three remote state events");
    assert.deepEqual(got.map((e) => e.type === "breaker.opened" ? e.until : e.type), [
      1,
      3,
      "breaker.closed",
    ]);
    assert.equal(follower.folded, 3);
    await follower.stop();

    // Resuming after a replay that read up to sequence 4: only what came after.
    const resumed: GatewayEvent[] = [];
    follower = followReplicas(nc, following({ onEvent: (e) => resumed.push(e), from: 5 }));
    await publish(nc, [[opened(6), "b"]]);
    await eventually(() => resumed.length === 2, 5_000, "two events after sequence 4");
    assert.deepEqual(resumed.map((e) => e.type === "breaker.opened" ? e.until : e.type), [
      "breaker.closed",
      6,
    ]);
  } finally {
    await follower?.stop();
    await nc.close();
    await nats.stop();
  }
});

Deno.test("invalidEvent: only a well-formed CloudEvent of a catalogued type, stored on its own subject", () => {
  const good = toCloudEvent(SAMPLES["breaker.opened"], "id-1", "other");
  assert.equal(invalidEvent(good, good.subject), undefined);
  const cases: [string, unknown, string?][] = [
    ["not an object", "breaker"],
    ["array", [good]],
    ["specversion", { ...good, specversion: "0.3" }],
    ["no id", { ...good, id: "" }],
    ["source", { ...good, source: "/attacker" }],
    ["unknown type", { ...good, type: "gateway.breaker.exploded" }],
    ["bad time", { ...good, time: "yesterday" }],
    ["datacontenttype", { ...good, datacontenttype: "text/plain" }],
    ["no data", { ...good, data: null }],
    ["bad provider", { ...good, data: { ...good.data, provider: "Open AI" } }],
    ["subject mismatch", { ...good, subject: "gateway.breaker.opened.anthropic" }],
    ["stored elsewhere", good, "gateway.breaker.opened.anthropic"],
  ];
  for (const [what, raw, storedOn] of cases) {
    assert.notEqual(invalidEvent(raw, storedOn), undefined, what);
    if (!storedOn) assert.equal(remoteStateEvent(raw as never, "me", providers), undefined, what);
  }
});

Deno.test("followReplicas: malformed and unknown-type messages are dropped and counted, never folded", async () => {
  await withEventsStream(async ({ js, got, follow }) => {
    const real = toCloudEvent(opened(7), "real-1", "other");
    await js.publish("gateway.breaker.opened.openai", "not json {");
    await js.publish("gateway.breaker.opened.openai", JSON.stringify({ hello: "world" }));
    await js.publish(
      "gateway.breaker.opened.openai",
      JSON.stringify({ ...real, id: "x-2", type: "gateway.breaker.exploded" }),
    );
    // A valid event stored on another subject than it names.
    await js.publish("gateway.breaker.closed.openai", JSON.stringify({ ...real, id: "x-3" }));
    await js.publish(real.subject, JSON.stringify(real));
    const follower = follow({});
    await eventually(() => follower.folded + follower.rejected === 5, 5_000, "five messages");
    assert.equal(follower.rejected, 4);
    assert.equal(follower.folded, 1);
    assert.deepEqual(got, [opened(7)]);
  });
});

Deno.test("mayHoldState: only state subjects about a provider we serve are read", () => {
  for (
    const [subject, want] of [
      ["gateway.breaker.opened.openai", true],
      ["gateway.attempt.succeeded.anthropic", true],
      ["gateway.ratelimit.blocked.openai", true],
      ["gateway.model.unavailable.openai", true],
      ["gateway.breaker.opened.groq", false], // a provider this replica does not serve
      ["gateway.request.completed.openai", false], // never folded
      ["gateway.mcp.tool_called.docs", false],
      ["gateway.openai", false],
      ["other.breaker.opened.openai", false],
      ["gateway.breaker.opened.", false],
    ] as const
  ) assert.equal(mayHoldState(subject, providers), want, subject);
});

Deno.test("followReplicas: a message its Gateway-Source header marks as this replica's (or a sibling's) is passed over unread", async () => {
  await withEventsStream(async ({ js, got, follow }) => {
    const send = async (payload: string, source?: string) => {
      const h = headers();
      if (source) h.set(SOURCE_HEADER, source);
      await js.publish("gateway.breaker.opened.openai", payload, { headers: h });
    };
    // Marked as its own or a sibling worker's: not even read (junk would otherwise be counted).
    await send("not json {", sourceOf("me"));
    await send("not json {", sourceOf("me-w2"));
    // Another replica's, marked or not: read, checked and folded as ever.
    await send(JSON.stringify(toCloudEvent(opened(1), "a-1", "a")), sourceOf("a"));
    await send(JSON.stringify(toCloudEvent(opened(2), "b-1", "b")));
    const follower = follow({ siblings: (source) => source.startsWith(`${sourceOf("me")}-w`) });
    await eventually(() => got.length === 2, 5_000, "the two other replicas' events");
    assert.deepEqual(got.map((e) => e.type === "breaker.opened" ? e.until : e.type), [1, 2]);
    assert.equal(follower.rejected, 0);
  });
});

/**
 * A nats-server with the events stream: `run` publishes to it and starts a follower through
 * `follow` (options beyond the stream, "me" and the providers), which is stopped at the end.
 */
async function withEventsStream(
  run: (s: {
    js: ReturnType<typeof jetstream>;
    got: GatewayEvent[];
    follow(o: Partial<FollowOptions>): ReturnType<typeof followReplicas>;
  }) => Promise<void>,
) {
  const nats = await startNatsServer();
  const nc = await wsconnect({ servers: nats.wsUrl });
  const got: GatewayEvent[] = [];
  let follower: ReturnType<typeof followReplicas> | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "GATEWAY_EVENTS", subjects: ["gateway.>"] });
    await run({
      js: jetstream(nc),
      got,
      follow: (o) =>
        follower = followReplicas(nc, following({ onEvent: (e) => got.push(e), ...o })),
    });
  } finally {
    await follower?.stop();
    await nc.close();
    await nats.stop();
  }
}
