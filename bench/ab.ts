// Before/after for a hot-path change: the gateway from two checkouts (A and B, e.g. a
// `git archive` of a commit and the working tree) against the same mock upstream, alternating
// A, B, A, B… under the same closed-loop load. Reports the gateway's CPU time per request (from
// /proc/<pid>/stat, far steadier on a busy machine than latency) and the throughput.
// `deno run -A bench/ab.ts --a DIR --b DIR [--stream] [--rounds 4] [--seconds 3] [--concurrency 32]
//   [--a-v8=FLAGS] [--b-v8=FLAGS] [--nats]` (e.g. --b-v8=--max-semi-space-size=2; DIR may be the
//   same twice; --nats gives each side its own nats-server, so neither sees the other's events)
//   [--a-workers N] [--b-workers N] [--gateway-cpus LIST]: WORKERS for each side (default 1), and
//   the CPUs the gateways may use (taskset list, e.g. 0-1; default: the one pinned server CPU).
//   WORKERS=1 vs WORKERS=2 on one checkout: --a . --b . --b-workers 2 --gateway-cpus 0-1
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { closedLoop } from "./load.ts";
import { findNatsServer, startNats } from "./e2e/nats.ts";
import { cpuMsOf, freePort, memoryOf, spawnServer, waitUp } from "./e2e/procs.ts";
import { chatLoad, startRig } from "./e2e/rig.ts";
import { median } from "./e2e/stats.ts";

const { values: opt } = parseArgs({
  args: Deno.args,
  options: {
    a: { type: "string" },
    b: { type: "string" },
    stream: { type: "boolean", default: false },
    nats: { type: "boolean", default: false },
    rounds: { type: "string", default: "4" },
    seconds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    "a-v8": { type: "string" },
    "b-v8": { type: "string" },
    "a-workers": { type: "string", default: "1" },
    "b-workers": { type: "string", default: "1" },
    "gateway-cpus": { type: "string" },
  },
});
if (!opt.a || !opt.b) throw new Error("--a DIR and --b DIR are required");
const deno = Deno.execPath();
const rig = await startRig("bench-ab-");
const { cpu, tmp, servers, config } = rig;

try {
  const sides = await Promise.all(
    (["a", "b"] as const).map(async (side) => {
      const port = freePort();
      const v8 = opt[`${side}-v8`];
      let natsUrl = "";
      if (opt.nats) {
        const bin = await findNatsServer();
        if (!bin) throw new Error("nats-server not found");
        await Deno.mkdir(`${tmp}/nats-${side}`);
        const nats = await startNats(bin, `${tmp}/nats-${side}`, cpu);
        servers.push(nats.server);
        natsUrl = nats.wsUrl;
      }
      const workers = opt[`${side}-workers`]!;
      const gw = spawnServer(`gateway-${side}`, [
        deno,
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        ...(v8 ? [`--v8-flags=${v8}`] : []),
        "src/main.ts",
      ], {
        cpu: opt["gateway-cpus"] ?? cpu,
        log: `${tmp}/gateway-${side}.log`,
        cwd: resolve(opt[side]!),
        env: { GATEWAY_CONFIG: config, PORT: String(port), NATS_URL: natsUrl, WORKERS: workers },
      });
      servers.push(gw);
      await waitUp(
        gw,
        `http://127.0.0.1:${port}/readyz`,
        (r, text) => r.status === 200 && (!opt.nats || JSON.parse(text).events?.connected === true),
      );
      const req = chatLoad(
        `http://127.0.0.1:${port}/v1/chat/completions`,
        "mock/gpt-4o-mini",
        opt.stream,
      );
      return { side, workers, gw, req, cpuUs: [] as number[], rps: [] as number[], rss: 0 };
    }),
  );
  for (const s of sides) await closedLoop(s.req, 16, 1); // warm-up
  for (let round = 1; round <= Number(opt.rounds); round++) {
    for (const s of round % 2 ? sides : [...sides].reverse()) {
      const cpu0 = await cpuMsOf(s.gw.pid);
      const r = await closedLoop(s.req, Number(opt.concurrency), Number(opt.seconds));
      const us = ((await cpuMsOf(s.gw.pid)) - cpu0) * 1000 / Math.max(1, r.ok);
      s.cpuUs.push(us);
      s.rps.push(r.rps);
      console.error(
        `round ${round} ${s.side}: ${us.toFixed(0)} µs/request, ${r.rps.toFixed(0)} RPS`,
      );
      if (r.errors) console.error(`  ${r.errors} errors: ${JSON.stringify(r.errorKinds)}`);
    }
  }
  for (const s of sides) s.rss = (await memoryOf(s.gw.pid)).rssMb;
  const [a, b] = sides;
  const ca = median(a.cpuUs);
  const cb = median(b.cpuUs);
  console.log(
    `${opt.stream ? "stream" : "json"}${opt.nats ? " + NATS" : ""}: A (WORKERS=${a.workers}) ${
      ca.toFixed(0)
    } µs/request (${median(a.rps).toFixed(0)} RPS) → B (WORKERS=${b.workers}) ${
      cb.toFixed(0)
    } µs/request (${median(b.rps).toFixed(0)} RPS): ${cb <= ca ? "−" : "+"}${
      Math.abs((100 * (cb - ca)) / ca).toFixed(1)
    } % CPU per request; RSS after ${a.rss.toFixed(0)} → ${b.rss.toFixed(0)} MB`,
  );
} finally {
  await rig.close();
}
