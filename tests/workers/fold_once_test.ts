import assert from "node:assert/strict";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { STATE_EVENT_TYPES } from "../../src/events/replay.ts";
import { createFoldOnce, foldKey } from "../../src/workers/fold_once.ts";
import { SAMPLES } from "../events/_samples.ts";

Deno.test("foldOnce: a state event arriving twice (main thread and replay) is folded once", () => {
  const once = createFoldOnce();
  const failed = { ...SAMPLES["attempt.failed"], requestId: "r1", attempt: 1 } as GatewayEvent;
  assert.equal(once(failed), true);
  assert.equal(once(structuredClone(failed)), false, "the same outcome, by value");
  assert.equal(once({ ...failed, attempt: 2 } as GatewayEvent), true, "another attempt");
  assert.equal(once({ ...failed, requestId: "r2" } as GatewayEvent), true, "another request");
  const opened = SAMPLES["breaker.opened"];
  assert.equal(once(opened), true);
  assert.equal(once({ ...opened }), false);
  assert.equal(
    once({ ...opened, until: (opened as { until: number }).until + 1 } as GatewayEvent),
    true,
    "two openings decided at one moment stay apart",
  );
  // Kinds that are not state events are never held back.
  assert.equal(foldKey(SAMPLES["request.completed"]), undefined);
  assert.equal(once(SAMPLES["request.completed"]), true);
  assert.equal(once(SAMPLES["request.completed"]), true);
});

Deno.test("foldOnce: bounded, the oldest keys forgotten first", () => {
  const once = createFoldOnce(2);
  const ev = (n: number) =>
    ({ ...SAMPLES["attempt.succeeded"], requestId: `r${n}`, attempt: 1 }) as GatewayEvent;
  assert.equal(once(ev(1)), true);
  assert.equal(once(ev(2)), true);
  assert.equal(once(ev(3)), true);
  assert.equal(once(ev(3)), false);
  assert.equal(once(ev(1)), true, "forgotten");
});

Deno.test("foldKey names every state event type", () => {
  for (const type of STATE_EVENT_TYPES) {
    assert.equal(typeof foldKey(SAMPLES[type]), "string", type);
  }
});
