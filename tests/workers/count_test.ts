import assert from "node:assert/strict";
import { planWorkers, WorkersError, workersLine } from "../../src/workers/mod.ts";
import type { PlanInput } from "../../src/workers/count.ts";

const base: PlanInput = {
  env: undefined,
  configured: undefined,
  cores: 4,
  noReusePort: () => undefined,
};

Deno.test("planWorkers: WORKERS (a number or auto), else gateway.json workers, else one per core from 4 cores, with the reason", () => {
  const cases: [Partial<PlanInput>, string][] = [
    [{}, "workers: 4 (one per core; WORKERS=1 for one process)"],
    [{ env: "" }, "workers: 4 (one per core; WORKERS=1 for one process)"],
    [
      { cores: 32 },
      "workers: 8 (one per core, at most 8 by default; WORKERS=auto for all 32, WORKERS=1 for one process)",
    ],
    [{ cores: 32, env: "auto" }, "workers: 32 (WORKERS=auto: one per core)"],
    [
      { cores: 2 },
      "workers: 1 (one process on 2 cores (one per core from 4); WORKERS=auto for one per core)",
    ],
    [
      { cores: 1 },
      "workers: 1 (one process on 1 core (one per core from 4); WORKERS=auto for one per core)",
    ],
    [{ env: "auto" }, "workers: 4 (WORKERS=auto: one per core)"],
    [{ env: "auto", cores: 0 }, "workers: 1 (WORKERS=auto: one per core)"],
    [{ env: "2", configured: 3 }, "workers: 2 (WORKERS=2)"],
    [{ configured: 3 }, "workers: 3 (gateway.json workers: 3)"],
    [{ env: "1" }, "workers: 1 (WORKERS=1)"],
    [
      { env: "auto", noReusePort: () => "no SO_REUSEPORT" },
      "workers: 1 (4 asked for, but no SO_REUSEPORT)",
    ],
  ];
  for (const [input, line] of cases) {
    assert.equal(workersLine(planWorkers({ ...base, ...input })), line, JSON.stringify(input));
  }
});

Deno.test("planWorkers: port sharing is checked only when more than one worker is planned", () => {
  let asked = 0;
  const noReusePort = () => (asked++, "no SO_REUSEPORT");
  assert.equal(planWorkers({ ...base, env: "1", noReusePort }).count, 1);
  assert.equal(planWorkers({ ...base, cores: 2, noReusePort }).count, 1);
  assert.equal(asked, 0);
  assert.equal(planWorkers({ ...base, noReusePort }).fellBack, true);
  assert.equal(asked, 1);
});

Deno.test("planWorkers: a WORKERS that is not a whole number ≥ 1 stops start-up, naming it", () => {
  for (const env of ["0", "-1", "two", "1.5", "1000"]) {
    assert.throws(() => planWorkers({ ...base, env }), WorkersError, env);
    assert.throws(() => planWorkers({ ...base, env }), new RegExp(`"${env.replace(".", "\\.")}"`));
  }
});
