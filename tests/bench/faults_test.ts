// The fault matrix in CI: every scenario of bench/faults/scenarios.ts, short (20 RPS for 2 s),
// against the real gateway process, the mock upstream process and a real nats-server. Each step
// asserts what a user would notice: every request answered (by the fallback when the primary
// misbehaves), no 5xx of the gateway's own making, no crash, a clean SIGTERM exit, and exactly
// one request.completed / request.failed per request in JetStream, of the kind the client saw.
import assert from "node:assert/strict";
import {
  count,
  formatTable,
  runScenario,
  type ScenarioResult,
  startStack,
} from "../../bench/faults/harness.ts";
import { type Scenario, SCENARIOS } from "../../bench/faults/scenarios.ts";

const SHORT = { rate: 20, seconds: 2 };

function assertInvariants(r: ScenarioResult) {
  const table = `\n${formatTable([r])}\n${r.violations.join("\n")}`;
  assert.equal(r.gatewayErrors, 0, `gateway errors${table}`);
  assert.equal(r.crashed, false, `crash${table}`);
  assert.equal(r.exitCode, 0, `exit code after SIGTERM${table}`);
  assert.equal(r.events.lost, 0, `requests without a terminal event${table}`);
  assert.equal(r.events.duplicated + r.events.duplicateIds, 0, `duplicated events${table}`);
  assert.equal(r.events.mismatched, 0, `terminal event disagrees with the answer${table}`);
  assert.ok(r.events.stored >= r.sent * 2, `JetStream holds the run's events${table}`);
  assert.deepEqual(r.violations, [], table);
}

Deno.test("fault matrix, short: each scenario keeps clients served and JetStream exact", async (t) => {
  const stack = await startStack();
  try {
    for (const s of SCENARIOS) {
      await t.step(`${s.name}: ${s.about}`, async () => {
        // Flapping needs a broken second and a healthy one after it to show recovery.
        const opts = s.name === "flapping" ? { ...SHORT, seconds: 4 } : SHORT;
        const r = await runScenario(s, stack, opts);
        assert.equal(r.sent, opts.rate * opts.seconds);
        assertInvariants(r);
      });
    }
  } finally {
    await stack.close();
  }
});

Deno.test("fault matrix: a failover that cannot succeed is reported, not passed", async () => {
  // Negative control: the fallback is broken too, so clients get 502s; the matrix must say so.
  const base = SCENARIOS.find((s) => s.name === "malformed_json")!;
  const broken: Scenario = {
    ...base,
    name: "both_malformed",
    setup: async (ctx) => {
      await ctx.mock.setFaults("a", [{ kind: "malformed" }]);
      await ctx.mock.setFaults("b", [{ kind: "malformed" }]);
    },
  };
  const stack = await startStack();
  try {
    const r = await runScenario(broken, stack, { rate: 10, seconds: 1 });
    // 502 while the breakers learn, then 503 (both open) answered at once without a call.
    assert.equal(
      (r.outcomes["502"] ?? 0) + (r.outcomes["503"] ?? 0),
      r.sent,
      JSON.stringify(r.outcomes),
    );
    assert.ok(
      r.violations.some((v) => v.startsWith("answers other than 200")),
      r.violations.join("\n"),
    );
    // The 5xx are the upstreams' doing, shaped as OpenAI errors, each with its request.failed.
    assert.equal(r.gatewayErrors, 0);
    assert.equal(r.events.lost, 0);
    assert.equal(r.events.mismatched, 0);
    assert.equal(
      count(r, "request.failed", "_", (d) => d.status === 502 || d.status === 503),
      r.sent,
    );
  } finally {
    await stack.close();
  }
});
