// The scenario suite as a Deno test: one gateway (with its mock upstream and nats-server) for the
// whole test, a step per scenario run in order on it, so a failure names its scenario, then a
// last step for a clean SIGTERM exit. Used by suite_same_test.ts and suite_split_test.ts, two
// files so that `deno test --parallel` runs the two configurations side by side.
import assert from "node:assert/strict";
import {
  describeRun,
  formatSuiteTable,
  runScenario,
  startSuiteStack,
  stopSuiteStack,
} from "../../bench/faults/suite.ts";
import { CONFIGS, SUITE_SCENARIOS, type SuiteConfig } from "../../bench/faults/suite_scenarios.ts";

export async function suiteSteps(t: Deno.TestContext, config: SuiteConfig): Promise<void> {
  const stack = await startSuiteStack();
  let stopped = false;
  try {
    for (const s of SUITE_SCENARIOS) {
      await t.step(`${s.name}: ${s.about}`, async () => {
        const r = await runScenario(stack, config, s, { long: false });
        if (r.failures.length) {
          assert.fail(`\n${formatSuiteTable([r], CONFIGS)}\n${describeRun(r)}`);
        }
      });
    }
    await t.step("SIGTERM: the gateway was up all along and exits cleanly", async () => {
      stopped = true;
      assert.deepEqual(await stopSuiteStack(stack), []);
    });
  } finally {
    if (!stopped) await stopSuiteStack(stack);
  }
}
