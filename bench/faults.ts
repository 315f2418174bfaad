// The fault matrix: each scenario of bench/faults/scenarios.ts in turn, under steady open-loop
// load against the real gateway process, the mock upstream process and a real nats-server, then
// a table of what clients saw and what JetStream holds. Exits 1 when an invariant broke.
//
//   deno task bench:faults                       # 100 RPS for 10 s per scenario
//   deno task bench:faults --short               # 20 RPS for 2 s (what CI runs as tests)
//   deno task bench:faults --rate 50 --seconds 5 --only stream_cut,flapping
//
// With --suite it runs the sequential scenario suite instead (bench/faults/suite.ts): ONE
// gateway with default settings, every scenario in turn, configs `same` and `split`:
//
//   deno task bench:faults --suite               # both configs, 60 s of flapping
//   deno task bench:faults --suite --short       # 20 s of flapping (what CI runs as tests)
//   deno task bench:faults --suite --config split --only stream_cut,prefill_rejected
//   deno task bench:faults --suite --short --workers 2   # the gateway with WORKERS=2
import { parseArgs } from "node:util";
import {
  formatTable,
  runScenario,
  type ScenarioResult,
  startStack,
  unrunResult,
} from "./faults/harness.ts";
import { SCENARIOS } from "./faults/scenarios.ts";
import { describeRun, formatSuiteTable, runSuite } from "./faults/suite.ts";
import { CONFIGS, SUITE_SCENARIOS } from "./faults/suite_scenarios.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    short: { type: "boolean", default: false },
    rate: { type: "string" },
    seconds: { type: "string" },
    only: { type: "string" },
    verbose: { type: "boolean", default: false },
    suite: { type: "boolean", default: false },
    config: { type: "string" },
    workers: { type: "string" },
  },
});

/** The names in --only, checked against what exists; exits 2 on an unknown one. */
function pick<T extends { name: string }>(all: readonly T[], only: string | undefined): T[] {
  const wanted = only?.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = wanted?.filter((w) => !all.some((s) => s.name === w)) ?? [];
  if (unknown.length) {
    console.error(
      `bench:faults: unknown scenario ${unknown.join(", ")}; known: ${
        all.map((s) => s.name).join(", ")
      }`,
    );
    Deno.exit(2);
  }
  return all.filter((s) => !wanted || wanted.includes(s.name));
}

if (values.suite) {
  const names = values.config?.split(",").map((s) => s.trim()) ?? Object.keys(CONFIGS);
  const bad = names.filter((n) => !Object.hasOwn(CONFIGS, n));
  if (bad.length) {
    console.error(`bench:faults: unknown config ${bad.join(", ")}; known: same, split`);
    Deno.exit(2);
  }
  const configs = names.map((n) => CONFIGS[n as keyof typeof CONFIGS]);
  const scenarios = pick(SUITE_SCENARIOS, values.only);
  console.log(
    `scenario suite: ${scenarios.length} scenarios × ${configs.map((c) => c.name).join(", ")} ` +
      `in sequence on ONE gateway with default settings (+ mock upstream + nats-server)`,
  );
  for (const c of configs) console.log(`  ${c.name}: ${c.about}`);
  const { runs, shutdown } = await runSuite(configs, scenarios, {
    long: !values.short,
    workers: values.workers,
  }, (r) => {
    console.log(
      `  ${r.failures.length ? "FAIL" : "ok  "} ${r.config.padEnd(5)} ${r.scenario.padEnd(26)} ${
        (r.ms / 1000).toFixed(1).padStart(5)
      } s  ${r.about}`,
    );
    if (r.failures.length || values.verbose) console.log(describeRun(r));
  });
  console.log();
  console.log(formatSuiteTable(runs, CONFIGS));
  console.log();
  console.log(
    "answers: client-side statuses of the scenario's requests; served P/F: 200s from the " +
      "primary / the fallback (x-gateway-provider/model); recovery: seconds from clearing the " +
      'faults to the first health answer served by the primary ("no": not within 30 s).',
  );
  for (const p of shutdown) console.log(`shutdown: ${p}`);
  const failed = runs.filter((r) => r.failures.length);
  if (failed.length || shutdown.length) {
    console.log(`\n${failed.length} of ${runs.length} scenario runs failed`);
    Deno.exit(1);
  }
  Deno.exit(0);
}

const rate = Number(values.rate ?? (values.short ? 20 : 100));
const seconds = Number(values.seconds ?? (values.short ? 2 : 10));
if (!(rate > 0 && rate <= 1000) || !(seconds > 0 && seconds <= 120)) {
  console.error("bench:faults: --rate must be in (0, 1000] and --seconds in (0, 120]");
  Deno.exit(2);
}
const scenarios = pick(SCENARIOS, values.only);

console.log(
  `fault matrix: ${scenarios.length} scenarios, ${rate} RPS for ${seconds} s each, open loop, ` +
    `gateway + mock upstream + nats-server as separate processes on 127.0.0.1`,
);
const stack = await startStack();
const results: ScenarioResult[] = [];
try {
  for (const s of scenarios) {
    const t0 = performance.now();
    let r: ScenarioResult;
    try {
      r = await runScenario(s, stack, { rate, seconds });
    } catch (e) {
      // e.g. the gateway did not start: a failed row, and the other scenarios still run.
      r = unrunResult(s, e);
    }
    results.push(r);
    const took = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `  ${r.violations.length ? "FAIL" : "ok  "} ${s.name.padEnd(22)} ${
        took.padStart(5)
      } s  ${s.about}`,
    );
    for (const v of r.violations) console.log(`       - ${v}`);
    for (const [k, v] of Object.entries(r.answerSamples)) {
      if (r.violations.length || values.verbose) console.log(`       ${k}: ${v}`);
    }
    if (values.verbose) console.log(`       notes: ${JSON.stringify(r.notes)}`);
  }
} finally {
  await stack.close();
}
console.log();
console.log(formatTable(results));
console.log();
console.log(
  'answers: client-side status histogram ("200 sse error" = stream ended by an SSE error event ' +
    "after content, no [DONE]); fallbacks / breaker o(pened)/h(alf-opened)/c(losed): events in " +
    "JetStream; events gw→JetStream: acknowledged per the gateway's /readyz → stored in the " +
    "stream; lost/dup: requests without / with more than one request.completed|failed; gw errors: " +
    "500s, unshaped errors, truncated streams, no answer, error logs, crashes.",
);
const failed = results.filter((r) => r.violations.length);
if (failed.length) {
  console.log(`\n${failed.length} scenario(s) failed: ${failed.map((r) => r.name).join(", ")}`);
  Deno.exit(1);
}
