// The benchmark's markdown: setup, PASS/MISS lines for the targets, latency tables per scenario,
// max throughput, memory, the semi-space comparison and the decision path. Printed and written to
// bench/results.md; nothing here asserts.
import {
  added,
  errorsOf,
  maxRps,
  median,
  type Metric,
  rssOf,
  type RunData,
  spread,
  values,
} from "./stats.ts";

/** Below this, a forwarder's added latency is timer noise: ratios use it as the denominator. */
export const FLOOR_MS = 0.05;

export const GATEWAYS = ["gateway", "gateway+nats", "gateway+semi2"];

const f2 = (x: number) => Number.isFinite(x) ? x.toFixed(2) : "–";
const f0 = (x: number) => Number.isFinite(x) ? x.toFixed(0) : "–";

/** "median (min–max)" over repetitions, or just the value for one repetition. */
function ms(xs: number[], fmt = f2): string {
  const [lo, hi] = spread(xs);
  return xs.length > 1 ? `${fmt(median(xs))} (${fmt(lo)}–${fmt(hi)})` : fmt(median(xs));
}

export interface Verdict {
  pass: boolean | undefined;
  line: string;
}

function verdict(pass: boolean | undefined, text: string): Verdict {
  const word = pass === undefined ? "n/a " : pass ? "PASS" : "MISS";
  return { pass, line: `${word}  ${text}` };
}

const present = (d: RunData, t: string) => d.targets.includes(t);

/** The issue's targets, as ratios to the forwarder (and Portkey) in this same run. */
export function targets(d: RunData): Verdict[] {
  const out: Verdict[] = [];
  const limits: [Metric, number, string][] = [["p50", 1.5, "p50"], ["p99", 2, "p99"]];
  for (const gw of GATEWAYS.filter((g) => present(d, g))) {
    for (const [m, factor, label] of limits) {
      for (const s of d.scenarios) {
        if (!present(d, "forwarder")) continue;
        let pass = true;
        const parts = d.params.rates.map((rate) => {
          const ours = median(added(d, s.name, rate, gw, m));
          const fwd = median(added(d, s.name, rate, "forwarder", m));
          const ok = ours <= factor * Math.max(fwd, FLOOR_MS);
          if (!ok) pass = false;
          return `${rate}: ${f2(ours)} vs ${f2(fwd)}${ok ? "" : " ✗"}`;
        });
        out.push(verdict(
          pass,
          `${gw} added ${label} ≤ ${factor}× forwarder's [${s.name}] (ms, ours vs forwarder) ${
            parts.join(" · ")
          }`,
        ));
      }
    }
    for (const s of d.scenarios.filter((s) => s.max)) {
      const ours = median(maxRps(d, s.name, gw));
      const fwd = median(maxRps(d, s.name, "forwarder"));
      if (present(d, "forwarder")) {
        out.push(verdict(
          ours >= 0.7 * fwd,
          `${gw} max throughput ≥ 70 % of forwarder's [${s.name}]: ${f0(ours)} vs ${f0(fwd)} RPS (${
            f0((100 * ours) / fwd)
          } %)`,
        ));
      }
      const pk = median(maxRps(d, s.name, "portkey"));
      out.push(verdict(
        present(d, "portkey") && Number.isFinite(pk) ? ours >= 5 * pk : undefined,
        `${gw} max throughput ≥ 5× Portkey's [${s.name}]: ${f0(ours)} vs ${f0(pk)} RPS (${
          (ours / pk).toFixed(1)
        }×)`,
      ));
    }
    if (present(d, "forwarder")) {
      const ours = rssOf(d, gw).rssMb;
      const fwd = rssOf(d, "forwarder").rssMb;
      out.push(verdict(
        ours <= 1.3 * fwd,
        `${gw} RSS ≤ 1.3× forwarder's: ${f0(ours)} vs ${f0(fwd)} MB (${(ours / fwd).toFixed(2)}×)`,
      ));
    }
  }
  const sup = d.decision.find((b) => b.name.startsWith("supervise(): first candidate succeeds"));
  out.push(verdict(
    sup ? sup.p75Us <= 10 : undefined,
    sup
      ? `decision path p50 ≤ 10 µs: p50 ≤ p75 = ${sup.p75Us.toFixed(1)} µs (min ${
        sup.minUs.toFixed(1)
      }, avg ${sup.avgUs.toFixed(1)}, p99 ${sup.p99Us.toFixed(1)} µs; deno bench reports no p50)`
      : "decision path p50 ≤ 10 µs: deno bench did not run",
  ));
  return out;
}

function latencyTable(d: RunData, scenario: string, stream: boolean): string[] {
  const head = [
    "rate",
    "target",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "added p50",
    "added p99",
    ...(stream ? ["TTFB p50", "TTFB p99", "added TTFB p50", "added TTFB p99"] : []),
    "CPU µs/req",
    "errors",
    "sent/s",
  ];
  const rows = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const rate of d.params.rates) {
    for (const t of d.targets) {
      const cells = d.cells.filter((c) =>
        c.scenario === scenario && c.rate === rate && c.target === t
      );
      if (cells.length === 0) continue;
      const v = (m: Metric) => ms(values(d, scenario, rate, t, m));
      const a = (m: Metric) => t === "direct" ? "—" : ms(added(d, scenario, rate, t, m));
      const errors = cells.reduce((s, c) => s + c.r.errors, 0);
      const sent = median(cells.map((c) => c.r.achievedRps));
      rows.push(
        `| ${
          [
            rate,
            t,
            v("p50"),
            v("p90"),
            v("p99"),
            a("p50"),
            a("p99"),
            ...(stream ? [v("ttfb50"), v("ttfb99"), a("ttfb50"), a("ttfb99")] : []),
            ms(cells.map((c) => c.cpuUs), f0),
            errors,
            f0(sent),
          ].join(" | ")
        } |`,
      );
    }
  }
  return rows;
}

function maxTable(d: RunData): string[] {
  const rows = [
    "| scenario | target | max RPS | % of forwarder | × Portkey | p50 ms | p99 ms | CPU µs/req | errors |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of d.scenarios.filter((s) => s.max)) {
    const fwd = median(maxRps(d, s.name, "forwarder"));
    const pk = median(maxRps(d, s.name, "portkey"));
    for (const t of d.targets) {
      const cells = d.maxCells.filter((c) => c.scenario === s.name && c.target === t);
      if (cells.length === 0) continue;
      const rps = cells.map((c) => c.r.rps);
      rows.push(
        `| ${
          [
            s.name,
            t,
            ms(rps, f0),
            f0((100 * median(rps)) / fwd),
            (median(rps) / pk).toFixed(1),
            ms(cells.map((c) => c.r.p50)),
            ms(cells.map((c) => c.r.p99)),
            ms(cells.map((c) => c.cpuUs), f0),
            cells.reduce((n, c) => n + c.r.errors, 0),
          ].join(" | ")
        } |`,
      );
    }
  }
  return rows;
}

function memoryTable(d: RunData): string[] {
  const head = ["target", ...d.scenarios.map((s) => `${s.name} RSS / peak MB`), "× forwarder"];
  const rows = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  const fwd = rssOf(d, "forwarder").rssMb;
  for (const t of d.targets) {
    const per = d.scenarios.map((s) => {
      const m = d.memory.find((x) => x.scenario === s.name && x.target === t)?.mem;
      return m ? `${f0(m.rssMb)} / ${f0(m.peakMb)}` : "–";
    });
    const ratio = t === "direct" ? "—" : (rssOf(d, t).rssMb / fwd).toFixed(2);
    rows.push(`| ${[t === "direct" ? "direct (the mock)" : t, ...per, ratio].join(" | ")} |`);
  }
  return rows;
}

/** gateway with --v8-flags=--max-semi-space-size=2 against the same gateway without it. */
export function semiSpace(d: RunData): string[] {
  if (!present(d, "gateway") || !present(d, "gateway+semi2")) return [];
  const pct = (a: number, b: number) =>
    Number.isFinite(a) && Number.isFinite(b) && b !== 0
      ? `${a - b >= 0 ? "+" : ""}${((100 * (a - b)) / Math.abs(b)).toFixed(0)} %`
      : "–";
  const rows = [
    "| scenario | rate | added p50 default → semi2 | added p99 default → semi2 | p99 change |",
    "|---|---|---|---|---|",
  ];
  for (const s of d.scenarios) {
    for (const rate of d.params.rates) {
      const m = (t: string, x: Metric) => median(added(d, s.name, rate, t, x));
      rows.push(
        `| ${s.name} | ${rate} | ${f2(m("gateway", "p50"))} → ${f2(m("gateway+semi2", "p50"))} | ${
          f2(m("gateway", "p99"))
        } → ${f2(m("gateway+semi2", "p99"))} | ${
          pct(m("gateway+semi2", "p99"), m("gateway", "p99"))
        } |`,
      );
    }
  }
  const a = rssOf(d, "gateway");
  const b = rssOf(d, "gateway+semi2");
  rows.push("");
  rows.push(
    `RSS after the run: ${f0(a.rssMb)} → ${f0(b.rssMb)} MB (${pct(b.rssMb, a.rssMb)}); ` +
      `peak ${f0(a.peakMb)} → ${f0(b.peakMb)} MB (${pct(b.peakMb, a.peakMb)}).`,
  );
  for (const s of d.scenarios.filter((s) => s.max)) {
    const x = median(maxRps(d, s.name, "gateway"));
    const y = median(maxRps(d, s.name, "gateway+semi2"));
    rows.push(`Max throughput [${s.name}]: ${f0(x)} → ${f0(y)} RPS (${pct(y, x)}).`);
  }
  return rows;
}

export function markdown(d: RunData, svgPath?: string): string {
  const p = d.params;
  const lines: string[] = [];
  lines.push("# End-to-end overhead benchmark", "");
  if (d.quick) {
    lines.push(
      "> **Quick run** (`--quick`): a smoke test of the tooling with few, short repetitions.",
      "> Its figures are indicative only; the full run is `deno task bench:e2e`.",
      "",
    );
  }
  lines.push(
    `- ${d.date}, commit ${d.commit}, ${f0(d.elapsedSec)} s in all`,
    `- machine: ${d.machine}; load average before ${d.loadBefore}, after ${d.loadAfter}`,
    `- ${Object.entries(d.versions).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `- ${d.pinning}`,
    `- open loop: ${p.rates.join(", ")} RPS × ${p.seconds} s, ${p.reps} repetitions interleaved ` +
      `(${d.targets.join(", ")}, then again); latency from each request's scheduled send time; ` +
      `added = target − direct in the same repetition; cells show median (min–max) over ` +
      `repetitions`,
    `- closed loop (max throughput): ${p.concurrency} connections × ${p.maxSeconds} s, ` +
      `${p.reps} repetitions`,
    `- scenarios: ${d.scenarios.map((s) => `**${s.name}** ${s.what}`).join("; ")}`,
    "- CPU µs/req: CPU time (user + system, from /proc/<pid>/stat) the server under test used per " +
      "answered request; for direct that is the mock, which the other targets' figures leave out. " +
      "It is much less sensitive to other work on the machine than latency is.",
    "",
  );
  lines.push("## Targets", "", "```text", ...targets(d).map((v) => v.line), "```", "");
  lines.push(
    `Ratios to the forwarder use ${FLOOR_MS} ms as the forwarder's added latency when it measured ` +
      "less (below that, differences are timer noise).",
    "",
  );
  if (svgPath) lines.push(`![added latency per target and rate](${svgPath})`, "");
  for (const s of d.scenarios) {
    lines.push(`## Latency: ${s.name} (${s.what})`, "", ...latencyTable(d, s.name, s.stream), "");
  }
  lines.push("## Max throughput (closed loop)", "", ...maxTable(d), "");
  lines.push(
    "## Memory (VmRSS after each scenario's run, VmHWM peak; fresh servers per scenario)",
    "",
    ...memoryTable(d),
    "",
  );
  const semi = semiSpace(d);
  if (semi.length) {
    lines.push("## The gateway with `--v8-flags=--max-semi-space-size=2`", "", ...semi, "");
  }
  if (d.decision.length) {
    lines.push(
      "## Decision path (`deno bench bench/decision_path_bench.ts`)",
      "",
      "| bench | n | min µs | avg µs | p75 µs | p99 µs |",
      "|---|---|---|---|---|---|",
      ...d.decision.map((b) =>
        `| ${b.name} | ${b.n} | ${b.minUs.toFixed(1)} | ${b.avgUs.toFixed(1)} | ${
          b.p75Us.toFixed(1)
        } | ${b.p99Us.toFixed(1)} |`
      ),
      "",
    );
  }
  if (d.nats) {
    lines.push(
      `NATS: the gateway+nats target published ${d.nats.published} events (dropped ${d.nats.dropped});` +
        ` JetStream held ${d.nats.stored ?? "?"} at the end.`,
      "",
    );
  }
  const errs = d.targets.map((t) => [t, errorsOf(d, t)] as const).filter(([, e]) =>
    Object.keys(e).length
  );
  if (errs.length) {
    lines.push("## Errors", "");
    for (const [t, e] of errs) {
      lines.push(`- ${t}: ${Object.entries(e).map(([k, n]) => `${n}× ${k}`).join(", ")}`);
    }
    lines.push("");
  }
  if (d.notes.length) lines.push("## Notes", "", ...d.notes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}
