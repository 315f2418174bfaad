import assert from "node:assert/strict";
import { planWorkers, WorkersError, workersLine } from "../../src/workers/mod.ts";
import type { PlanInput } from "../../src/workers/count.ts";

const base: PlanInput = { env: undefined, configured: undefined, cores: 4, noReusePort: undefined };

Deno.test("planWorkers: WORKERS (a number or auto), else gateway.json workers, else one process, with the reason", () => {
  const cases: [Partial<PlanInput>, string][] = [
    [{}, "workers: 1 (one process; WORKERS=auto for one per core)"],
    [{ env: "" }, "workers: 1 (one process; WORKERS=auto for one per core)"],
    [{ env: "auto" }, "workers: 4 (WORKERS=auto: one per core)"],
    [{ env: "auto", cores: 0 }, "workers: 1 (WORKERS=auto: one per core)"],
    [{ env: "2", configured: 3 }, "workers: 2 (WORKERS=2)"],
    [{ configured: 3 }, "workers: 3 (gateway.json workers: 3)"],
    [{ env: "1" }, "workers: 1 (WORKERS=1)"],
    [
      { env: "auto", noReusePort: "no SO_REUSEPORT" },
      "workers: 1 (4 asked for, but no SO_REUSEPORT)",
    ],
  ];
  for (const [input, line] of cases) {
    assert.equal(workersLine(planWorkers({ ...base, ...input })), line, JSON.stringify(input));
  }
});

Deno.test("planWorkers: a WORKERS that is not a whole number ≥ 1 stops start-up, naming it", () => {
  for (const env of ["0", "-1", "two", "1.5", "1000"]) {
    assert.throws(() => planWorkers({ ...base, env }), WorkersError, env);
    assert.throws(() => planWorkers({ ...base, env }), new RegExp(`"${env.replace(".", "\\.")}"`));
  }
});
