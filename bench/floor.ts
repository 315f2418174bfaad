// What limits the gateway's throughput, in CPU time per request under the same closed-loop load
// (`deno task bench:floor [--stream] [--rounds 3] [--seconds 3] [--concurrency 32]`): the bare
// forwarder, the forwarder that inspects each call (bench/forwarder.ts --inspect: the least any
// failover gateway must do), and the gateway, against one mock upstream, alternating rounds.
// Servers on CPU 1, load on CPU 0 when the machine allows pinning. CPU µs per request is read
// from /proc (far steadier than latency on a busy machine); max RPS follows from it.
import { parseArgs } from "node:util";
import { closedLoop } from "./load.ts";
import { cpuMsOf, freePort, spawnServer, waitUp } from "./e2e/procs.ts";
import { chatLoad, startRig } from "./e2e/rig.ts";
import { median } from "./e2e/stats.ts";

const { values: opt } = parseArgs({
  args: Deno.args,
  options: {
    stream: { type: "boolean", default: false },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
  },
});

const rig = await startRig("bench-floor-");
try {
  const targets = [
    { name: "forwarder", script: "bench/forwarder.ts", flags: [], model: "gpt-4o-mini" },
    {
      name: "forwarder --inspect",
      script: "bench/forwarder.ts",
      flags: ["--inspect"],
      model: "gpt-4o-mini",
    },
    { name: "gateway", script: "src/main.ts", flags: [], model: "mock/gpt-4o-mini" },
  ];
  const sides = [];
  for (const t of targets) {
    const port = freePort();
    const args = t.name === "gateway" ? [] : [String(port), rig.upstream, ...t.flags];
    const server = spawnServer(t.name, [Deno.execPath(), "run", "-A", t.script, ...args], {
      cpu: rig.cpu,
      cwd: rig.root,
      log: `${rig.tmp}/${t.name.replaceAll(" ", "")}.log`,
      env: { GATEWAY_CONFIG: rig.config, PORT: String(port), NATS_URL: "" },
    });
    rig.servers.push(server);
    await waitUp(server, `http://127.0.0.1:${port}/healthz`, (r) => r.status > 0);
    const req = chatLoad(`http://127.0.0.1:${port}/v1/chat/completions`, t.model, opt.stream);
    sides.push({ name: t.name, server, req, cpuUs: [] as number[], rps: [] as number[] });
  }
  for (const s of sides) await closedLoop(s.req, 16, 1); // warm-up
  for (let round = 0; round < Number(opt.rounds); round++) {
    for (const s of round % 2 ? [...sides].reverse() : sides) {
      const cpu0 = await cpuMsOf(s.server.pid);
      const r = await closedLoop(s.req, Number(opt.concurrency), Number(opt.seconds));
      if (r.errors) {
        throw new Error(`${s.name}: ${r.errors} errors ${JSON.stringify(r.errorKinds)}`);
      }
      s.cpuUs.push(((await cpuMsOf(s.server.pid)) - cpu0) * 1000 / Math.max(1, r.ok));
      s.rps.push(r.rps);
    }
  }
  const base = median(sides[0].cpuUs);
  console.log(
    `${
      opt.stream ? "SSE, 10 chunks" : "JSON, ~1 KB"
    } · closed loop, concurrency ${opt.concurrency}` +
      ` · median of ${opt.rounds} rounds`,
  );
  console.log("| server | CPU µs/request | × forwarder | max RPS | rounds (µs) |");
  console.log("|---|---:|---:|---:|---|");
  for (const s of sides) {
    const us = median(s.cpuUs);
    const rounds = s.cpuUs.map((x) => x.toFixed(0)).join(", ");
    console.log(
      `| ${s.name} | ${us.toFixed(0)} | ${(us / base).toFixed(2)} | ${
        median(s.rps).toFixed(0)
      } | ${rounds} |`,
    );
  }
} finally {
  await rig.close();
}
