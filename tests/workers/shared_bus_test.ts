import assert from "node:assert/strict";
import { createMemoryBus, type GatewayEvent } from "../../src/events/mod.ts";
import { createSharedBus } from "../../src/workers/mod.ts";

const ev = (requestId: string) =>
  ({ type: "request.started", at: 1, requestId, model: "p/m" }) as unknown as GatewayEvent;

Deno.test("shared bus: local listeners at once; the main thread one batch per turn; close flushes", async () => {
  const batches: [string, string[]][] = [];
  const bus = createSharedBus({
    inner: createMemoryBus(),
    link: {
      sendEvents: (instance, batch) =>
        batches.push([instance, batch.map((e) => (e as { requestId: string }).requestId)]),
    },
    instance: "gw-w1",
  });
  const local: string[] = [];
  bus.subscribe((e) => local.push((e as { requestId: string }).requestId));
  bus.publish(ev("a"));
  bus.publish(ev("b"));
  assert.deepEqual(
    local,
    ["a", "b"],
    "local listeners (metrics) see their own worker's events at once",
  );
  assert.deepEqual(batches, [], "sent on the next turn, not per event");
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(batches, [["gw-w1", ["a", "b"]]]);
  bus.publish(ev("c"));
  await bus.close();
  assert.deepEqual(batches, [["gw-w1", ["a", "b"]], ["gw-w1", ["c"]]], "close sends what is left");
  assert.equal(bus.kind, "memory");
  assert.equal(bus.describe, "in-process event bus (NATS_URL not set)");
});
