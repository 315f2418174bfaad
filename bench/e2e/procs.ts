// Server processes for the overhead benchmark: each pinned to one CPU with taskset (when the
// machine has one to spare), its output in a log file, its memory read from /proc after the run.

export interface Server {
  name: string;
  pid: number;
  log: string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** CPUs online, whatever this process's own affinity (hardwareConcurrency follows affinity). */
export async function cpuCount(): Promise<number> {
  const info = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  return info.match(/^processor\s*:/gm)?.length ?? navigator.hardwareConcurrency;
}

/** True when taskset works and there are at least two CPUs: load on CPU 0, servers on CPU 1. */
export async function canPin(): Promise<boolean> {
  if ((await cpuCount()) < 2) return false;
  try {
    const out = await new Deno.Command("taskset", { args: ["-c", "1", "true"] }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** The CPUs this process may run on, as /proc says (e.g. "0" or "0-1"). */
export async function allowedCpus(pid: number | "self" = "self"): Promise<string> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  return status.match(/Cpus_allowed_list:\s+(\S+)/)?.[1] ?? "?";
}

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** Only what the runtimes need from the host: no API keys, GATEWAY_CONFIG or NATS_URL leak in. */
function baseEnv(): Record<string, string> {
  // One gateway process unless a bench asks for workers (ab, profile): servers are pinned to one
  // CPU, and from 4 cores the gateway would otherwise start one worker per core of the machine.
  const env: Record<string, string> = { NO_COLOR: "1", WORKERS: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  return env;
}

/**
 * Starts `cmd args` (pinned to `cpu` when given) with stdout and stderr appended to `log`.
 * `sh -c 'exec …'` and taskset both exec, so the pid is the server's own (for /proc reads).
 */
export function spawnServer(
  name: string,
  cmd: string[],
  /** `cpu`: one CPU, or a taskset list ("0-1") for a server with several threads (WORKERS). */
  opts: { cpu?: number | string; log: string; env?: Record<string, string>; cwd?: string },
): Server {
  const argv = opts.cpu === undefined ? cmd : ["taskset", "-c", String(opts.cpu), ...cmd];
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$@" >>"$BENCH_LOG" 2>&1', "sh", ...argv],
    clearEnv: true,
    env: { ...baseEnv(), ...opts.env, BENCH_LOG: opts.log },
    cwd: opts.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let gone = false;
  const status = child.status.then(() => {
    gone = true;
  });
  return {
    name,
    pid: child.pid,
    log: opts.log,
    exited: () => gone,
    async stop(graceMs = 3_000) {
      if (gone) return;
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already exited */ }
      }, graceMs);
      await status;
      clearTimeout(timer);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `url` until `ok(response)`; throws with the server's log tail when it never does. */
export async function waitUp(
  server: Server,
  url: string,
  ok: (res: Response, body: string) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited()) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (ok(res, await res.text())) return;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  const log = await Deno.readTextFile(server.log).catch(() => "");
  throw new Error(
    `${server.name} did not come up at ${url}${server.exited() ? " (it exited)" : ""}:\n` +
      log.slice(-1500),
  );
}

export interface Memory {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size since start (VmHWM), MB. */
  peakMb: number;
}

export async function memoryOf(pid: number): Promise<Memory> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const kb = (field: string) => Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

/** CPU time (user + system) the process has used so far, ms, from /proc/<pid>/stat. */
export async function cpuMsOf(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks * (1000 / CLK_TCK) : NaN;
}

/** Linux reports CPU times in USER_HZ ticks, 100 per second on every mainstream architecture. */
const CLK_TCK = 100;

/**
 * Waits (at most `maxMs`) until the process is quiet — under 10 % of a CPU over 100 ms — so an
 * overloaded server still working off its backlog does not slow the next target's measurement.
 */
export async function settle(pid: number, maxMs = 3_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let before = await cpuMsOf(pid);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await cpuMsOf(pid);
    if (!(now - before >= 10)) return;
    before = now;
  }
}

/** The mock upstream (1 KB completions, 10 stream chunks) on a free port, waited for. */
export async function startMock(
  opts: { cpu?: number; log: string; cwd?: string },
): Promise<{ server: Server; port: number }> {
  const port = freePort();
  const server = spawnServer("mock", [
    Deno.execPath(),
    "run",
    "--allow-net",
    "--allow-env",
    "bench/mock/main.ts",
    "--port",
    String(port),
    "--completion-bytes",
    "1024",
    "--chunks",
    "10",
  ], opts);
  await waitUp(server, `http://127.0.0.1:${port}/_mock/hits`);
  return { server, port };
}
