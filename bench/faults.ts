// The fault matrix: each scenario of bench/faults/scenarios.ts in turn, under steady open-loop
// load against the real gateway process, the mock upstream process and a real nats-server, then
// a table of what clients saw and what JetStream holds. Exits 1 when an invariant broke.
//
//   deno task bench:faults                       # 100 RPS for 10 s per scenario
//   deno task bench:faults --short               # 20 RPS for 2 s (what CI runs as tests)
//   deno task bench:faults --rate 50 --seconds 5 --only stream_cut,flapping
import { parseArgs } from "node:util";
import {
  formatTable,
  runScenario,
  type ScenarioResult,
  startStack,
  unrunResult,
} from "./faults/harness.ts";
import { SCENARIOS } from "./faults/scenarios.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    short: { type: "boolean", default: false },
    rate: { type: "string" },
    seconds: { type: "string" },
    only: { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});

const rate = Number(values.rate ?? (values.short ? 20 : 100));
const seconds = Number(values.seconds ?? (values.short ? 2 : 10));
if (!(rate > 0 && rate <= 1000) || !(seconds > 0 && seconds <= 120)) {
  console.error("bench:faults: --rate must be in (0, 1000] and --seconds in (0, 120]");
  Deno.exit(2);
}
const wanted = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
const unknown = wanted?.filter((w) => !SCENARIOS.some((s) => s.name === w)) ?? [];
if (unknown.length) {
  console.error(
    `bench:faults: unknown scenario ${unknown.join(", ")}; known: ${
      SCENARIOS.map((s) => s.name).join(", ")
    }`,
  );
  Deno.exit(2);
}
const scenarios = SCENARIOS.filter((s) => !wanted || wanted.includes(s.name));

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
