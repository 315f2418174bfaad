import assert from "node:assert/strict";
import { Counter, Gauge, Registry } from "prom-client";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import type { FeedItem } from "../../src/workers/protocol.ts";
import { sumEventStats } from "../../src/workers/hub.ts";
import { settle, wireWorkers } from "../_support/worker_wiring.ts";

const completed = (requestId: string): GatewayEvent =>
  ({
    type: "request.completed",
    at: 1,
    requestId,
    provider: "openai",
    model: "m",
    fallbackIndex: 0,
    attempts: 1,
    latencyMs: 1,
  }) as unknown as GatewayEvent;

const opened = (model: string): GatewayEvent =>
  ({
    type: "breaker.opened",
    at: 1,
    provider: "openai",
    model,
    reason: "failure_rate",
    openMs: 60_000,
    until: 60_001,
    failureRate: 1,
    samples: 5,
    reopenCount: 0,
  }) as GatewayEvent;

const view = (items: FeedItem[]) =>
  items.map((x) => `${x.instance}:${(x.event as { requestId: string }).requestId}:${x.id}`);

Deno.test("hub: every worker's events in one log, in one order, one id each, read on demand", async () => {
  const { links } = wireWorkers(3);
  const seen: FeedItem[][] = links.map(() => []);
  links.forEach((l, i) => l.onFeed((item) => seen[i].push(item)));
  links[0].sendEvents("gw-w0", [completed("a"), completed("b")]);
  links[2].sendEvents("gw-w2", [completed("c")]);
  links[1].sendEvents("gw-w1", [completed("d")]);
  await settle();
  assert.deepEqual(seen, [[], [], []], "no worker is sent the log unasked");
  const log = await links[1].call("events.recent", 10) as FeedItem[];
  assert.deepEqual(
    log.map((x) => `${x.instance}:${(x.event as { requestId: string }).requestId}`),
    ["gw-w0:a", "gw-w0:b", "gw-w2:c", "gw-w1:d"],
    "each keeps the source of the worker that decided it",
  );
  assert.equal(new Set(log.map((x) => x.id)).size, 4, "one id per event");
  assert.deepEqual(view(await links[2].call("events.recent", 10) as FeedItem[]), view(log));
  assert.deepEqual(view(await links[0].call("events.recent", 2) as FeedItem[]), view(log.slice(2)));
});

Deno.test("hub: a worker following the log gets live entries until it stops; the others get none", async () => {
  const { hub, links } = wireWorkers(2);
  const seen: FeedItem[][] = links.map(() => []);
  links.forEach((l, i) => l.onFeed((item) => seen[i].push(item)));
  await links[1].call("events.follow");
  assert.equal(hub.followers, 1);
  links[0].sendEvents("gw-w0", [completed("a")]);
  links[1].sendEvents("gw-w1", [completed("b")]);
  await settle();
  assert.deepEqual(seen[0], [], "worker 0 follows nothing");
  assert.deepEqual(
    view(seen[1]),
    view(await links[1].call("events.recent", 10) as FeedItem[]),
    "the follower sees every worker's entries, its own included, with the log's ids",
  );
  await links[1].call("events.unfollow");
  links[0].sendEvents("gw-w0", [completed("c")]);
  await settle();
  assert.equal(seen[1].length, 2, "nothing after unfollow");
  assert.equal(hub.followers, 0);
});

Deno.test("hub: provider state events go to the other workers only; nothing else is handed over", async () => {
  const { links } = wireWorkers(3);
  const state: string[][] = links.map(() => []);
  links.forEach((l, i) =>
    l.onState((e) => state[i].push(`${e.type}:${(e as { model?: string }).model}`))
  );
  links[0].sendEvents("gw-w0", [completed("a"), opened("m0")]);
  links[2].sendEvents("gw-w2", [opened("m2")]);
  await settle();
  assert.deepEqual(state, [
    ["breaker.opened:m2"],
    ["breaker.opened:m0", "breaker.opened:m2"],
    ["breaker.opened:m0"],
  ]);
});

Deno.test("hub: /metrics on any worker sums every worker's registry; state gauges are not summed", async () => {
  const { links } = wireWorkers(2);
  links.forEach((l, i) => {
    const registry = new Registry();
    const served = new Counter({
      name: "served_total",
      help: "h",
      labelNames: ["p"],
      registers: [registry],
    });
    served.inc({ p: "a" }, 3 + i); // 3 on worker 0, 4 on worker 1
    new Gauge({ name: "state", help: "h", registers: [registry], aggregator: "max" }).set(
      i === 0 ? 2 : 0,
    );
    l.serve("metrics.json", () => registry.getMetricsAsJSON());
  });
  const text = await links[1].call("metrics") as string;
  assert.match(text, /^served_total\{p="a"\} 7$/m);
  assert.match(text, /^state 2$/m);
});

Deno.test("hub: a worker's call to an unknown operation fails instead of hanging", async () => {
  const { links } = wireWorkers(1);
  await assert.rejects(links[0].call("nope"), /unknown call nope/);
});

Deno.test("hub: /readyz on any worker counts every worker's events; connected only when every bus is", async () => {
  const { links } = wireWorkers(2);
  links[0].serve("events.own", () => ({
    bus: { published: 5, dropped: 1, buffered: 0, connected: true },
    replicas: { folded: 2, rejected: 0 },
  }));
  links[1].serve("events.own", () => ({
    bus: { published: 7, dropped: 0, buffered: 3, connected: false },
    replicas: { folded: 4, rejected: 1 },
  }));
  assert.deepEqual(await links[1].call("events.stats"), {
    bus: { published: 12, dropped: 1, buffered: 3, connected: false },
    replicas: { folded: 6, rejected: 1 },
  });
  assert.deepEqual(
    sumEventStats([{ bus: { published: 1, dropped: 0, buffered: 0, connected: true } }]),
    { bus: { published: 1, dropped: 0, buffered: 0, connected: true } },
    "no replicas without NATS",
  );
});
