import assert from "node:assert/strict";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { createMemoryBus } from "../../src/events/memory_bus.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { SAMPLES } from "./_samples.ts";

const a = SAMPLES["attempt.started"];
const b = SAMPLES["attempt.failed"];

Deno.test("memory bus fans out to every subscriber synchronously, in publish order", () => {
  const bus = createMemoryBus();
  const one: GatewayEvent[] = [];
  const two: string[] = [];
  bus.subscribe((e) => one.push(e));
  bus.subscribe((e) => two.push(e.type));
  bus.publish(a);
  assert.deepEqual(one, [a], "delivered before publish returns");
  bus.publish(b);
  assert.deepEqual(one, [a, b]);
  assert.deepEqual(two, ["attempt.started", "attempt.failed"]);
  assert.deepEqual(bus.stats(), { published: 2, dropped: 0, buffered: 0, connected: true });
  assert.equal(bus.kind, "memory");
  assert.equal(bus.describe, "in-process event bus (NATS_URL not set)");
});

Deno.test("a throwing listener neither breaks publish nor starves the others", () => {
  const logged: string[] = [];
  const bus = createMemoryBus({ logger: createLogger("debug", (l) => logged.push(l)) });
  const seen: string[] = [];
  bus.subscribe(() => {
    throw new Error("boom");
  });
  bus.subscribe((e) => seen.push(e.type));
  bus.publish(a);
  assert.deepEqual(seen, ["attempt.started"]);
  assert.equal(bus.stats().published, 1);
  assert.equal(logged.length, 1);
  assert.match(logged[0], /event listener threw.*boom/);
});

Deno.test("unsubscribe stops delivery, also from inside a listener", () => {
  const bus = createMemoryBus();
  const seen: string[] = [];
  const off = bus.subscribe(() => off());
  const offOther = bus.subscribe((e) => seen.push(e.type));
  bus.publish(a);
  bus.publish(b);
  assert.deepEqual(seen, ["attempt.started", "attempt.failed"], "self-unsubscribe skips no one");
  offOther();
  bus.publish(a);
  assert.equal(seen.length, 2);
});

Deno.test("close drops subscribers", async () => {
  const bus = createMemoryBus();
  let n = 0;
  bus.subscribe(() => n++);
  await bus.close();
  bus.publish(a);
  assert.equal(n, 0);
});
