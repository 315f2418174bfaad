// The overhead benchmark (`deno task bench:e2e [--quick]`): the same local mock upstream reached
// directly, through a bare Deno + Hono forwarder (the floor for any Deno gateway), through the
// gateway with NATS off and on (a real nats-server), through the gateway with
// --v8-flags=--max-semi-space-size=2, and through the Portkey AI gateway on Node (npm-installed
// into a temp dir at bench time). Open-loop load at fixed rates with latency measured from the
// scheduled send time, repeated and interleaved across targets, then closed-loop max throughput,
// RSS of every server, and the decision-path micro-bench. The load generator runs on CPU 0 and
// every server on CPU 1 (taskset). Prints markdown, writes it to bench/results.md and a chart to
// docs/bench.svg. Figures are printed, never asserted.
//
// Options: --quick (about a minute) · --rates 200,500,1000,2000 · --seconds 2 · --reps 3 ·
// --max-seconds 3 · --concurrency 64 · --scenarios json-0ms,json-20ms,stream ·
// --targets direct,forwarder,gateway,gateway+nats,gateway+semi2,portkey ·
// --portkey-version 1.15.2 · --out bench/results.md · --svg docs/bench.svg ·
// --gateway-dir DIR (run the gateway from another checkout, e.g. `git archive` of a commit, for a
// before/after comparison; the mock, forwarder and load generator stay this tree's)
import { parseArgs } from "node:util";
import { dirname, relative, resolve } from "node:path";
import { wsconnect } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { closedLoop, type LoadRequest, openLoop } from "./load.ts";
import { lockedVersion, machine } from "./e2e/machine.ts";
import { findNatsServer, natsVersion, startNats } from "./e2e/nats.ts";
import { installPortkey, nodeVersion, type Portkey, portkeyHeaders } from "./e2e/portkey.ts";
import {
  allowedCpus,
  canPin,
  cpuMsOf,
  freePort,
  memoryOf,
  type Server,
  settle,
  spawnServer,
  waitUp,
} from "./e2e/procs.ts";
import { markdown, targets as verdicts } from "./e2e/report.ts";
import type { DecisionPath, RunData, Scenario } from "./e2e/stats.ts";
import { chart } from "./e2e/svg.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const ALL_TARGETS = ["direct", "forwarder", "gateway", "gateway+nats", "gateway+semi2", "portkey"];
const SCENARIOS: Scenario[] = [
  {
    name: "json-0ms",
    what: "JSON, mock answers at once, 1 KB completion",
    latencyMs: 0,
    stream: false,
    max: true,
  },
  {
    name: "json-20ms",
    what: "JSON, mock waits 20 ms, 1 KB completion",
    latencyMs: 20,
    stream: false,
    max: false,
  },
  {
    name: "stream",
    what: "SSE, mock answers at once, 1 KB in 10 content chunks",
    latencyMs: 0,
    stream: true,
    max: true,
  },
];

const { values: opt } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    rates: { type: "string" },
    seconds: { type: "string" },
    reps: { type: "string" },
    "max-seconds": { type: "string" },
    concurrency: { type: "string" },
    scenarios: { type: "string" },
    targets: { type: "string" },
    "portkey-version": { type: "string" },
    out: { type: "string", default: "bench/results.md" },
    svg: { type: "string", default: "docs/bench.svg" },
    "gateway-dir": { type: "string" },
  },
});

const quick = opt.quick;
const num = (v: string | undefined, d: number) => v === undefined ? d : Number(v);
const params = {
  rates: (opt.rates ?? (quick ? "500,2000" : "200,500,1000,2000")).split(",").map(Number),
  seconds: num(opt.seconds, quick ? 0.5 : 1.5),
  reps: num(opt.reps, quick ? 1 : 3),
  maxSeconds: num(opt["max-seconds"], quick ? 1 : 2),
  concurrency: num(opt.concurrency, 64),
};
const warmSeconds = quick ? 0.3 : 1;
// Bounds how long an overloaded target can hold a cell open after its last scheduled send.
const timeoutMs = quick ? 2_000 : 3_000;
// …and how long a busy server may take to go quiet before the next target's cell.
const settleMs = quick ? 1_000 : 2_000;
const gatewayDir = opt["gateway-dir"] ? resolve(opt["gateway-dir"]) : ROOT;
const wanted = (opt.targets ?? ALL_TARGETS.join(",")).split(",");
const scenarios = opt.scenarios
  ? SCENARIOS.filter((s) => opt.scenarios!.split(",").includes(s.name))
  : SCENARIOS;
for (const t of wanted) if (!ALL_TARGETS.includes(t)) throw new Error(`unknown target ${t}`);
if (!wanted.includes("direct")) wanted.unshift("direct"); // "added" is measured against it

// --- pinning: re-run this script on CPU 0 (servers go to CPU 1) ---
const pin = await canPin();
if (pin && (await allowedCpus()) !== "0" && !Deno.env.get("BENCH_E2E_PINNED")) {
  const child = new Deno.Command("taskset", {
    args: [
      "-c",
      "0",
      Deno.execPath(),
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      ...Deno.args,
    ],
    env: { BENCH_E2E_PINNED: "1" },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  Deno.exit((await child.status).code);
}
const serverCpu = pin ? 1 : undefined;

const t0 = performance.now();
const progress = (s: string) => console.error(s);
const host = await machine();
const loadBefore = await host.loadavg();
const tmp = await Deno.makeTempDir({ prefix: "bench-e2e-" });
const live = new Set<Server>();
const notes: string[] = [];

async function stopAll() {
  await Promise.all([...live].map((s) => s.stop()));
  live.clear();
}
const onSignal = async () => {
  await stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

function start(name: string, cmd: string[], env: Record<string, string> = {}, cwd = ROOT) {
  const s = spawnServer(name, cmd, { cpu: serverCpu, log: `${tmp}/${name}.log`, env, cwd });
  live.add(s);
  return s;
}
async function stop(s: Server) {
  await s.stop();
  live.delete(s);
}

// --- peers: nats-server and Portkey ---
const natsBin = wanted.includes("gateway+nats") ? await findNatsServer() : undefined;
if (wanted.includes("gateway+nats") && !natsBin) {
  notes.push("gateway+nats skipped: nats-server not found (apt-get install nats-server)");
  wanted.splice(wanted.indexOf("gateway+nats"), 1);
}
let portkey: Portkey | undefined;
const node = await nodeVersion();
if (wanted.includes("portkey")) {
  try {
    if (!node) throw new Error("node not found");
    progress("installing @portkey-ai/gateway with npm into a temp dir…");
    await Deno.mkdir(`${tmp}/portkey`);
    portkey = await installPortkey(`${tmp}/portkey`, opt["portkey-version"]);
  } catch (e) {
    notes.push(`portkey skipped: ${(e as Error).message.split("\n")[0]}`);
    wanted.splice(wanted.indexOf("portkey"), 1);
  }
}

const versions: Record<string, string> = {
  deno: `${Deno.version.deno} (V8 ${Deno.version.v8})`,
  hono: await lockedVersion("hono"),
};
if (node) versions.node = node;
if (portkey) {
  versions["@portkey-ai/gateway"] = `${portkey.version} (@hono/node-server ${portkey.nodeServer})`;
  notes.push(
    `Portkey ${portkey.version} ran on Node with --headless, @hono/node-server pinned to ` +
      `${portkey.nodeServer} by an npm override (newer ones fail its streamed answers with ` +
      "`TypeError: immutable`, Portkey-AI/gateway issues 1389 and 1550), reaching the mock as " +
      "provider openai with x-portkey-custom-host. Its stream relay waits 25 ms before the " +
      "first chunk it passes on, which shows in its TTFB.",
  );
}
if (natsBin) versions["nats-server"] = await natsVersion(natsBin);
if (gatewayDir !== ROOT) notes.push(`the gateway ran from ${gatewayDir}`);

const data: RunData = {
  quick,
  date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  commit: host.commit,
  machine: `${host.cpu}, ${host.cores} cores, ${host.memGb} GB, Linux ${host.kernel}`,
  versions,
  pinning: pin
    ? `pinned with taskset: load generator on CPU ${await allowedCpus()}, every server ` +
      `(mock, forwarder, gateways, Portkey, nats-server) on CPU 1`
    : "not pinned (taskset missing or a single CPU): figures include CPU contention",
  loadBefore,
  loadAfter: "",
  elapsedSec: 0,
  params,
  scenarios,
  targets: wanted,
  cells: [],
  maxCells: [],
  memory: [],
  decision: [],
  notes,
};
progress(`${data.pinning}\n${data.machine}; load average ${loadBefore}`);
{
  // Load time alone; start-up, warm-up, drains of overloaded targets and settling come on top.
  const open = scenarios.length * wanted.length * params.rates.length * params.reps *
    params.seconds;
  const max = scenarios.filter((s) => s.max).length * wanted.length * params.reps *
    params.maxSeconds;
  progress(
    `load time ${Math.round(open + max)} s; expect about ${
      Math.round((open + max) * 1.35 + 20)
    } s in all`,
  );
}

// --- one scenario: fresh servers, warm-up, interleaved open-loop reps, closed loop, memory ---
const deno = Deno.execPath();
const serveArgs = ["run", "--allow-net", "--allow-env", "--allow-read"];
let natsPublished = 0;
let natsDropped = 0;
let natsStored: number | undefined = 0;

async function readyz(url: string) {
  return await (await fetch(`${url}/readyz`)).json() as {
    events?: { published?: number; dropped?: number; connected?: boolean };
  };
}

async function runScenario(s: Scenario) {
  progress(`\n== ${s.name}: ${s.what}`);
  const mockPort = freePort();
  const mock = start(`mock-${s.name}`, [
    deno,
    "run",
    "--allow-net",
    "--allow-env",
    "bench/mock/main.ts",
    "--port",
    String(mockPort),
    "--latency-ms",
    String(s.latencyMs),
    "--completion-bytes",
    "1024",
    "--chunks",
    "10",
  ]);
  const mockUrl = `http://127.0.0.1:${mockPort}`;
  const upstream = `${mockUrl}/t1/v1`;
  await waitUp(mock, `${mockUrl}/_mock/hits`);

  const config = `${tmp}/gateway-${s.name}.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      providers: { mock: { type: "openai", baseUrl: upstream } },
      retries: { max: 0 },
    }),
  );
  let nats: { server: Server; wsUrl: string } | undefined;
  if (wanted.includes("gateway+nats")) {
    const dir = `${tmp}/nats-${s.name}`;
    await Deno.mkdir(dir);
    nats = await startNats(natsBin!, dir, serverCpu);
    live.add(nats.server);
  }

  const body = (model: string) =>
    JSON.stringify({
      model,
      messages: [{ role: "user", content: "Say hello" }],
      ...(s.stream ? { stream: true } : {}),
    });
  const servers = new Map<string, Server>([["direct", mock]]);
  const requests = new Map<string, LoadRequest>([
    ["direct", { url: `${upstream}/chat/completions`, body: body("gpt-4o-mini") }],
  ]);
  const ups: { t: string; up: Promise<void> }[] = [];
  for (const t of wanted) {
    if (t === "direct") continue;
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    let srv: Server;
    let req: LoadRequest = { url: `${url}/v1/chat/completions`, body: body("mock/gpt-4o-mini") };
    let ready = (res: Response, _text: string) => res.status > 0;
    let probe = `${url}/`;
    if (t === "forwarder") {
      srv = start(`forwarder-${s.name}`, [
        deno,
        "run",
        "--allow-net",
        "bench/forwarder.ts",
        String(port),
        upstream,
      ]);
      req = { url: `${url}/v1/chat/completions`, body: body("gpt-4o-mini") };
    } else if (t === "portkey") {
      srv = start(`portkey-${s.name}`, portkey!.command(port), {}, `${tmp}/portkey`);
      req = {
        url: `${url}/v1/chat/completions`,
        body: body("gpt-4o-mini"),
        headers: portkeyHeaders(upstream),
      };
    } else {
      const flags = t === "gateway+semi2" ? ["--v8-flags=--max-semi-space-size=2"] : [];
      srv = start(`${t}-${s.name}`, [deno, ...serveArgs, ...flags, "src/main.ts"], {
        GATEWAY_CONFIG: config,
        PORT: String(port),
        NATS_URL: t === "gateway+nats" ? nats!.wsUrl : "",
      }, gatewayDir);
      probe = `${url}/readyz`;
      ready = (res, text) =>
        res.status === 200 &&
        (t !== "gateway+nats" || JSON.parse(text).events?.connected === true);
    }
    servers.set(t, srv);
    requests.set(t, { ...req, stream: s.stream });
    ups.push({ t, up: waitUp(srv, probe, ready, 30_000) });
  }
  requests.set("direct", { ...requests.get("direct")!, stream: s.stream });
  // A peer that does not start costs its own figures for this scenario, not the whole run.
  const active: string[] = ["direct"];
  for (const { t, up } of ups) {
    try {
      await up;
      active.push(t);
    } catch (e) {
      const why = (e as Error).message.split("\n").slice(0, 3).join(" / ");
      notes.push(`${t} did not start for ${s.name}: ${why}`);
      progress(`  ${t} did not start: ${(e as Error).message}`);
      await stop(servers.get(t)!);
      servers.delete(t);
    }
  }

  for (const t of active) {
    const r = await openLoop(requests.get(t)!, 500, warmSeconds, { timeoutMs });
    await settle(servers.get(t)!.pid, settleMs);
    if (r.errors) progress(`  warm-up ${t}: ${r.errors} errors ${JSON.stringify(r.errorKinds)}`);
  }

  for (const rate of params.rates) {
    for (let rep = 1; rep <= params.reps; rep++) {
      const line: string[] = [];
      for (const t of active) {
        const pid = servers.get(t)!.pid;
        const cpu0 = await cpuMsOf(pid);
        const r = await openLoop(requests.get(t)!, rate, params.seconds, { timeoutMs });
        const cpuUs = ((await cpuMsOf(pid)) - cpu0) * 1000 / Math.max(1, r.ok);
        data.cells.push({ scenario: s.name, rate, rep, target: t, r, cpuUs });
        line.push(`${t} ${r.p50.toFixed(2)}/${r.p99.toFixed(2)}${r.errors ? ` ✗${r.errors}` : ""}`);
        await settle(pid, settleMs);
      }
      progress(`  ${rate} RPS rep ${rep}: p50/p99 ms  ${line.join("  ")}`);
    }
  }
  if (s.max) {
    for (let rep = 1; rep <= params.reps; rep++) {
      const line: string[] = [];
      for (const t of active) {
        const pid = servers.get(t)!.pid;
        const cpu0 = await cpuMsOf(pid);
        const r = await closedLoop(requests.get(t)!, params.concurrency, params.maxSeconds, {
          timeoutMs,
        });
        const cpuUs = ((await cpuMsOf(pid)) - cpu0) * 1000 / Math.max(1, r.ok);
        data.maxCells.push({ scenario: s.name, rep, target: t, r, cpuUs });
        line.push(
          `${t} ${r.rps.toFixed(0)} (${cpuUs.toFixed(0)} µs)${r.errors ? ` ✗${r.errors}` : ""}`,
        );
        await settle(pid, settleMs);
      }
      progress(
        `  max RPS rep ${rep} (${params.concurrency} conns, server CPU per request): ${
          line.join("  ")
        }`,
      );
    }
  }

  for (const [t, srv] of servers) {
    data.memory.push({ scenario: s.name, target: t, mem: await memoryOf(srv.pid) });
  }
  const gwNats = servers.get("gateway+nats");
  if (gwNats && nats) {
    const ev = (await readyz(`http://127.0.0.1:${new URL(requests.get("gateway+nats")!.url).port}`))
      .events;
    natsPublished += ev?.published ?? 0;
    natsDropped += ev?.dropped ?? 0;
    const m = await memoryOf(nats.server.pid);
    notes.push(
      `nats-server after ${s.name}: ${m.rssMb.toFixed(0)} MB RSS (peak ${m.peakMb.toFixed(0)})`,
    );
    await stop(gwNats); // flushes what it still buffers
    const stored = await streamCount(nats.wsUrl);
    natsStored = natsStored === undefined || stored === undefined ? undefined : natsStored + stored;
  }
  for (const srv of servers.values()) await stop(srv);
  if (nats) await stop(nats.server);
}

async function streamCount(wsUrl: string): Promise<number | undefined> {
  try {
    const nc = await wsconnect({ servers: wsUrl, timeout: 3_000 });
    try {
      const info = await (await jetstreamManager(nc)).streams.info("GATEWAY_EVENTS");
      return info.state.messages;
    } finally {
      await nc.close();
    }
  } catch {
    return undefined;
  }
}

async function decisionPath(): Promise<DecisionPath[]> {
  progress("\n== deno bench bench/decision_path_bench.ts");
  const cmd = [deno, "bench", "--json", "-A", "bench/decision_path_bench.ts"];
  const out = await new Deno.Command(pin ? "taskset" : cmd[0], {
    args: pin ? ["-c", "1", ...cmd] : cmd.slice(1),
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  try {
    const json = JSON.parse(new TextDecoder().decode(out.stdout));
    return json.benches.flatMap(
      (b: { name: string; results: { ok?: Record<string, number> }[] }) => {
        const r = b.results[0]?.ok;
        return r
          ? [{
            name: b.name,
            n: r.n,
            minUs: r.min / 1000,
            avgUs: r.avg / 1000,
            p75Us: r.p75 / 1000,
            p99Us: r.p99 / 1000,
          }]
          : [];
      },
    );
  } catch {
    notes.push("decision path: deno bench produced no JSON");
    return [];
  }
}

try {
  for (const s of scenarios) await runScenario(s);
  data.decision = await decisionPath();
} finally {
  await stopAll();
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}

if (wanted.includes("gateway+nats")) {
  data.nats = { published: natsPublished, dropped: natsDropped, stored: natsStored };
}
for (const rate of params.rates) {
  const cells = data.cells.filter((c) => c.rate === rate);
  const sent = Math.min(...cells.map((c) => c.r.achievedRps));
  const lag = Math.max(...cells.map((c) => c.r.sendLagP99));
  notes.push(
    `load generator at ${rate} RPS: lowest achieved send rate ${sent.toFixed(0)}/s, ` +
      `worst send-lag p99 ${lag.toFixed(2)} ms (counted in every latency, direct included)`,
  );
}
data.loadAfter = await host.loadavg();
data.elapsedSec = (performance.now() - t0) / 1000;

const outPath = resolve(ROOT, opt.out);
const svgPath = resolve(ROOT, opt.svg);
const title = `Added latency over a direct call — ${host.cpu}, ${host.cores} cores${
  quick ? " (quick run)" : ""
}`;
await Deno.mkdir(dirname(svgPath), { recursive: true });
await Deno.writeTextFile(svgPath, chart(data, title));
const md = markdown(data, relative(dirname(outPath), svgPath));
await Deno.writeTextFile(outPath, md);
console.log(md);
const v = verdicts(data);
progress(
  `\n${v.filter((x) => x.pass === true).length} PASS, ${
    v.filter((x) => x.pass === false).length
  } MISS; wrote ${relative(ROOT, outPath)} and ${relative(ROOT, svgPath)} in ${
    data.elapsedSec.toFixed(0)
  } s`,
);
