// First end-to-end overhead run: the same mock upstream reached directly, through a bare
// Deno + Hono forwarder, and through the gateway, at fixed open-loop rates. Servers are pinned
// to CPU 1 and this load generator to CPU 0 (taskset) when the machine has two cores.
// deno task bench:e2e [--rates 200,500,1000] [--seconds 5] [--reps 3]
import { openLoop } from "./load.ts";

const args = Object.fromEntries(
  Deno.args.map((a, i) => a.startsWith("--") ? [a.slice(2), Deno.args[i + 1]] : []).filter((x) =>
    x.length
  ),
);
const rates = (args.rates ?? "200,500,1000").split(",").map(Number);
const seconds = Number(args.seconds ?? 5);
const reps = Number(args.reps ?? 3);
const pin = (await canPin()) ? ["taskset", "-c", "1"] : [];

async function canPin() {
  try {
    return (await new Deno.Command("taskset", { args: ["-c", "0", "true"] }).output()).success &&
      navigator.hardwareConcurrency >= 2;
  } catch {
    return false;
  }
}

function spawn(args: string[], env: Record<string, string> = {}) {
  const [cmd, ...rest] = [...pin, Deno.execPath(), ...args];
  return new Deno.Command(cmd, { args: rest, env, stdout: "null", stderr: "null" }).spawn();
}

async function waitUp(url: string) {
  for (let i = 0; i < 200; i++) {
    try {
      await (await fetch(url)).body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} did not come up`);
}

async function rssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
}

const dir = await Deno.makeTempDir();
const config = `${dir}/gateway.json`;
await Deno.writeTextFile(
  config,
  JSON.stringify({
    providers: { mock: { type: "openai", baseUrl: "http://127.0.0.1:9301/t1/v1" } },
    retries: { max: 0 },
  }),
);
const mock = spawn([
  "run",
  "-A",
  "bench/mock/main.ts",
  "--port",
  "9301",
  "--completion-bytes",
  "1024",
]);
const fwd = spawn(["run", "-A", "bench/forwarder.ts", "9302", "http://127.0.0.1:9301/t1/v1"]);
const gw = spawn(["run", "-A", "src/main.ts"], {
  GATEWAY_CONFIG: config,
  PORT: "9303",
  PATH: Deno.env.get("PATH") ?? "",
});
try {
  await waitUp("http://127.0.0.1:9301/_mock/hits");
  await waitUp("http://127.0.0.1:9303/healthz");
  await new Promise((r) => setTimeout(r, 300));
  const body = (model: string) =>
    JSON.stringify({ model, messages: [{ role: "user", content: "Say hello" }] });
  const targets = [
    {
      name: "direct",
      url: "http://127.0.0.1:9301/t1/v1/chat/completions",
      body: body("gpt-4o-mini"),
      pid: mock.pid,
    },
    {
      name: "forwarder",
      url: "http://127.0.0.1:9302/v1/chat/completions",
      body: body("gpt-4o-mini"),
      pid: fwd.pid,
    },
    {
      name: "gateway",
      url: "http://127.0.0.1:9303/v1/chat/completions",
      body: body("mock/gpt-4o-mini"),
      pid: gw.pid,
    },
  ];
  for (const t of targets) await openLoop(t.url, t.body, 300, 2); // warm-up (JIT, connections)
  console.log(
    `pinned: ${
      pin.length ? "servers on CPU 1, load on CPU 0" : "no"
    }; ${seconds}s per run, ${reps} reps, interleaved`,
  );
  console.log(
    "rate  target     p50 ms        p90 ms        p99 ms        added p50     added p99    errors  rss MB",
  );
  for (const rate of rates) {
    const runs: Record<string, { p50: number; p90: number; p99: number; errors: number }[]> = {};
    for (let r = 0; r < reps; r++) {
      for (const t of targets) {
        (runs[t.name] ??= []).push(await openLoop(t.url, t.body, rate, seconds));
      }
    }
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const span = (xs: number[]) =>
      `${med([...xs]).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
    const direct = runs.direct;
    for (const t of targets) {
      const rs = runs[t.name];
      const added50 = rs.map((x, i) => x.p50 - direct[i].p50);
      const added99 = rs.map((x, i) => x.p99 - direct[i].p99);
      console.log(
        [
          String(rate).padEnd(5),
          t.name.padEnd(10),
          span(rs.map((x) => x.p50)).padEnd(13),
          span(rs.map((x) => x.p90)).padEnd(13),
          span(rs.map((x) => x.p99)).padEnd(13),
          (t.name === "direct" ? "-" : med(added50).toFixed(3)).padEnd(13),
          (t.name === "direct" ? "-" : med(added99).toFixed(3)).padEnd(12),
          String(rs.reduce((s, x) => s + x.errors, 0)).padEnd(7),
          (await rssMb(t.pid)).toFixed(0),
        ].join(" "),
      );
    }
  }
} finally {
  for (const p of [mock, fwd, gw]) {
    try {
      p.kill("SIGTERM");
    } catch { /* already gone */ }
    await p.status;
  }
  await Deno.remove(dir, { recursive: true });
}
