import assert from "node:assert/strict";
import type { GatewayEvent } from "../../src/events/mod.ts";
import { createEventLog } from "../../src/workers/event_log.ts";

const item = (id: string) => ({
  event: { type: "request.started" } as GatewayEvent,
  id,
  instance: "w",
});

Deno.test("event log: keeps the newest entries, oldest first, past wrapping around", () => {
  const log = createEventLog(3);
  assert.deepEqual(log.last(5), []);
  for (const id of ["1", "2"]) log.append(item(id));
  assert.deepEqual(log.last(5).map((x) => x.id), ["1", "2"]);
  for (const id of ["3", "4", "5"]) log.append(item(id));
  assert.equal(log.size, 3);
  assert.deepEqual(log.last(5).map((x) => x.id), ["3", "4", "5"]);
  assert.deepEqual(log.last(2).map((x) => x.id), ["4", "5"]);
  assert.deepEqual(log.last(0), []);
});

Deno.test("event log: a log of size 0 keeps nothing", () => {
  const log = createEventLog(0);
  log.append(item("1"));
  assert.deepEqual(log.last(3), []);
  assert.equal(log.size, 0);
});
