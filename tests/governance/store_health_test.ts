// Store health: a failing store is logged once until it recovers, and a recovery once.
import assert from "node:assert/strict";
import { createStoreHealth } from "../../src/governance/store_health.ts";
import { createLogger } from "../../src/lib/logger.ts";

Deno.test("failures and recoveries are each logged once per change", () => {
  const logs: string[] = [];
  const health = createStoreHealth(createLogger("info", (l) => logs.push(l)));
  health.recovered();
  assert.equal(logs.length, 0, "nothing to say while healthy");
  health.failed("admission", new Error("down"));
  health.failed("spend recording", new Error("down"));
  assert.equal(logs.length, 1);
  assert.match(logs[0], /admission without the shared store; limits not enforced/);
  health.recovered();
  health.recovered();
  assert.equal(logs.filter((l) => l.includes("reachable again")).length, 1);
  health.failed("spend recording", new Error("down again"));
  assert.equal(logs.filter((l) => l.includes("limits not enforced")).length, 2);
});
