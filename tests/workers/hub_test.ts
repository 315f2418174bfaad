import assert from "node:assert/strict";
import { Counter, Gauge, Registry } from "prom-client";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import type { FeedItem } from "../../src/workers/protocol.ts";
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

Deno.test("hub: every worker's events reach every worker once, in one order, with one id each", async () => {
  const { links } = wireWorkers(3);
  const seen: FeedItem[][] = links.map(() => []);
  links.forEach((l, i) => l.onFeed((item) => seen[i].push(item)));
  links[0].sendEvents("gw-w0", [completed("a"), completed("b")]);
  links[2].sendEvents("gw-w2", [completed("c")]);
  links[1].sendEvents("gw-w1", [completed("d")]);
  await settle();
  const view = (items: FeedItem[]) =>
    items.map((x) => `${x.instance}:${(x.event as { requestId: string }).requestId}:${x.id}`);
  assert.equal(seen[0].length, 4);
  assert.deepEqual(view(seen[1]), view(seen[0]), "worker 1 sees what worker 0 sees");
  assert.deepEqual(view(seen[2]), view(seen[0]), "worker 2 sees what worker 0 sees");
  assert.equal(new Set(seen[0].map((x) => x.id)).size, 4, "one id per event");
  assert.deepEqual(
    seen[0].map((x) => x.instance),
    ["gw-w0", "gw-w0", "gw-w2", "gw-w1"],
    "each keeps the source of the worker that decided it",
  );
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
