import assert from "node:assert/strict";
import { Counter, Registry } from "prom-client";
import { count, tallyCounter } from "../../src/telemetry/tally.ts";

Deno.test("a tally reads exactly as the prom-client counter it stands for", async () => {
  const plain = new Registry();
  const tallied = new Registry();
  const opts = { name: "x_total", help: "x", labelNames: ["a", "b"] as const };
  const c = new Counter({ ...opts, registers: [plain] });
  const t = tallyCounter({ ...opts, labelNames: ["a", "b"], registers: [tallied] });
  c.inc({ a: "1", b: "2" });
  t.add("1/2", () => ({ a: "1", b: "2" }));
  c.inc({ a: "1" }, 0);
  t.add("1/", () => ({ a: "1" }), 0);
  c.inc({ a: "1", b: "2" }, 2.5);
  const cell = t.cell("1/2", () => assert.fail("made once"));
  count(cell, 2.5);
  assert.equal(await tallied.metrics(), await plain.metrics());
  // Scraped twice: still the totals, not doubled.
  assert.equal(await tallied.metrics(), await plain.metrics());
});

Deno.test("a tally refuses what inc refuses", () => {
  const t = tallyCounter({ name: "y_total", help: "y", labelNames: ["a"], registers: [] });
  const cell = t.cell("a", () => ({ a: "a" }));
  assert.throws(() => count(cell, -1), /decrease/);
  assert.throws(() => count(cell, Infinity), TypeError);
  assert.equal(cell.value, 0);
});
