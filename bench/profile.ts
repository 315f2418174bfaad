// Where the gateway spends its CPU under load: starts the mock upstream and the gateway (with
// `deno run --cpu-prof`), drives closed-loop load at it, stops it so the profile is written, and
// prints the hottest functions by self time and the share of each file.
// `deno run -A bench/profile.ts [--stream] [--nats] [--seconds 5] [--concurrency 32] [--top 30]
//   [--gateway-dir DIR] [--keep DIR] [--workers N] [--gateway-cpus LIST]` (--keep saves the
//   .cpuprofile for Chrome DevTools; with --workers N each worker's isolate writes its own profile,
//   and each is reported, the main thread's first)
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { closedLoop } from "./load.ts";
import { findNatsServer, startNats } from "./e2e/nats.ts";
import { cpuMsOf, freePort, spawnServer, waitUp } from "./e2e/procs.ts";
import { chatLoad, startRig } from "./e2e/rig.ts";

const { values: opt } = parseArgs({
  args: Deno.args,
  options: {
    stream: { type: "boolean", default: false },
    nats: { type: "boolean", default: false },
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "32" },
    top: { type: "string", default: "30" },
    "gateway-dir": { type: "string" },
    keep: { type: "string" },
    workers: { type: "string", default: "1" },
    "gateway-cpus": { type: "string" },
  },
});
const deno = Deno.execPath();
const rig = await startRig("bench-profile-");
const { cpu, tmp, servers, config } = rig;
const gatewayDir = opt["gateway-dir"] ? resolve(opt["gateway-dir"]) : rig.root;

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

try {
  let natsUrl = "";
  if (opt.nats) {
    const bin = await findNatsServer();
    if (!bin) throw new Error("nats-server not found");
    const nats = await startNats(bin, tmp, cpu);
    servers.push(nats.server);
    natsUrl = nats.wsUrl;
  }
  const port = freePort();
  const gw = spawnServer("gateway", [
    deno,
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--cpu-prof",
    `--cpu-prof-dir=${tmp}/prof`,
    "src/main.ts",
  ], {
    cpu: opt["gateway-cpus"] ?? cpu,
    log: `${tmp}/gateway.log`,
    cwd: gatewayDir,
    env: { GATEWAY_CONFIG: config, PORT: String(port), NATS_URL: natsUrl, WORKERS: opt.workers! },
  });
  servers.push(gw);
  await waitUp(gw, `http://127.0.0.1:${port}/readyz`, (r) => r.status === 200);
  const req = chatLoad(
    `http://127.0.0.1:${port}/v1/chat/completions`,
    "mock/gpt-4o-mini",
    opt.stream,
  );
  await closedLoop(req, 16, 1); // warm-up
  const cpu0 = await cpuMsOf(gw.pid);
  const r = await closedLoop(req, Number(opt.concurrency), Number(opt.seconds));
  const cpuUs = ((await cpuMsOf(gw.pid)) - cpu0) * 1000 / Math.max(1, r.ok);
  console.log(
    `${opt.stream ? "stream" : "json"}${opt.nats ? " + NATS" : ""}: ${r.rps.toFixed(0)} RPS, ` +
      `gateway CPU ${cpuUs.toFixed(0)} µs/request, ${r.errors} errors`,
  );
  await gw.stop(10_000);
  // One file per isolate (the main thread and each worker); the smallest-named first.
  const files = [...Deno.readDirSync(`${tmp}/prof`)].map((e) => e.name).sort();
  if (!files.length) throw new Error("no .cpuprofile written");
  for (const file of files) {
    const path = `${tmp}/prof/${file}`;
    if (opt.keep) {
      await Deno.mkdir(opt.keep, { recursive: true });
      await Deno.copyFile(path, `${opt.keep}/${file}`);
      console.log(`profile kept: ${opt.keep}/${file}`);
    }
    console.log(`\n=== ${file}`);
    try {
      report(JSON.parse(await Deno.readTextFile(path)), Number(opt.top));
    } catch (e) {
      // A worker ended while its profile was being written.
      console.log(`unreadable (${e instanceof Error ? e.message : e})`);
    }
  }
} finally {
  await rig.close();
}

function report(p: Profile, top: number) {
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  const short = (url: string) =>
    url.replace(/^file:\/\/.*?\/(src|actors|bench)\//, "$1/")
      .replace(/^file:\/\/.*\/node_modules\/\.deno\//, "npm:")
      .replace(/^file:\/\/.*\/npm\/registry\.npmjs\.org\//, "npm:") || "(native/idle)";
  for (const n of p.nodes) {
    const t = self.get(n.id) ?? 0;
    if (!t) continue;
    const f = n.callFrame;
    const key = `${f.functionName || "(anonymous)"}  ${short(f.url)}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    const file = short(f.url).replace(/:\d+$/, "");
    byFile.set(file, (byFile.get(file) ?? 0) + t);
  }
  // Inclusive time of this repository's functions: self time of the node and all it called.
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<number, number>();
  const incl = (id: number): number => {
    const n = byId.get(id)!;
    let t = self.get(id) ?? 0;
    for (const c of n.children ?? []) t += incl(c);
    inclusive.set(id, t);
    return t;
  };
  incl(p.nodes[0].id);
  const ours = new Map<string, number>();
  for (const n of p.nodes) {
    const f = n.callFrame;
    if (!/\/(src|actors)\//.test(f.url)) continue;
    const key = `${f.functionName || "(anonymous)"}  ${short(f.url)}:${f.lineNumber + 1}`;
    // A function on the stack twice (recursion) would count twice; rare in this code base.
    ours.set(key, (ours.get(key) ?? 0) + (inclusive.get(n.id) ?? 0));
  }
  const idle = p.nodes.filter((n) => n.callFrame.functionName === "(idle)")
    .reduce((sum, n) => sum + (self.get(n.id) ?? 0), 0);
  console.log(
    `busy ${((total - idle) / 1000).toFixed(0)} ms of ${(total / 1000).toFixed(0)} ms sampled`,
  );
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
  console.log(`\ninclusive time of this repository's functions (top ${top}):`);
  for (const [k, t] of [...ours].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(t)}  ${k}`);
  }
  console.log(`\nself time by function (top ${top}):`);
  for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(t)}  ${k}`);
  }
  console.log(`\nself time by file (top ${top}):`);
  for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${pct(t)}  ${k}`);
  }
}
