// Real processes for the fault matrix and the shutdown test: the gateway exactly as a user starts
// it (`deno run … src/main.ts` with GATEWAY_CONFIG and NATS_URL), and the mock upstream CLI, each
// in its own process, plus an HTTP client for the mock's control API.
import type { Fault, MockCallRecord } from "../mock/mod.ts";

const ROOT = new URL("../../", import.meta.url);

/** Gateway log lines at level `error` or an uncaught exception: always a gateway bug. */
export const ERROR_LINE = /^\S+ error |Uncaught|panicked/;

export interface Proc {
  pid: number;
  /** The URL the process said it listens on. */
  url: string;
  status: Promise<Deno.CommandStatus>;
  /** True once the process has exited (a crash, when we did not stop it). */
  exited(): boolean;
  stdout(): string;
  stderr(): string;
  /** Sends `signal` (default SIGTERM) and waits; SIGKILL after `graceMs`. */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<Deno.CommandStatus>;
}

/** Only what Deno needs from the host: no API keys, GATEWAY_CONFIG or NATS_URL leak in. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  return { ...env, ...extra };
}

async function collect(stream: ReadableStream<Uint8Array>, into: { text: string }) {
  for await (const s of stream.pipeThrough(new TextDecoderStream())) into.text += s;
}

/** Spawns `deno <args>` in the repository and waits until stdout matches `ready`. */
async function spawnDeno(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  what: string,
  timeoutMs = 30_000,
): Promise<Proc & { match: RegExpMatchArray }> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: cleanEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { text: "" };
  const err = { text: "" };
  const reading = Promise.all([collect(child.stdout, out), collect(child.stderr, err)]);
  let exited = false;
  const status = child.status.then(async (s) => {
    exited = true;
    await reading.catch(() => {});
    return s;
  });
  const deadline = Date.now() + timeoutMs;
  let match: RegExpMatchArray | null = null;
  while (!(match = out.text.match(ready))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      await status;
      throw new Error(
        `${what} did not start (${exited ? "exited" : "timed out"}):\n${out.text}\n${err.text}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    pid: child.pid,
    url: match[1],
    match,
    status,
    exited: () => exited,
    stdout: () => out.text,
    stderr: () => err.text,
    async stop(signal: Deno.Signal = "SIGTERM", graceMs = 15_000) {
      if (!exited) {
        try {
          child.kill(signal);
        } catch { /* exited meanwhile */ }
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), graceMs));
      const first = await Promise.race([status, late]);
      clearTimeout(timer);
      if (first === "late") {
        try {
          child.kill("SIGKILL");
        } catch { /* exited meanwhile */ }
      }
      return await status;
    },
  };
}

/**
 * The permission flags of the Dockerfile's CMD, with its config directory (/etc/gateway) moved
 * to `configDir`: a process started with them can do exactly what the container can.
 */
export async function containerPermissions(configDir: string): Promise<string[]> {
  const text = await Deno.readTextFile(new URL("Dockerfile", ROOT));
  const cmd = text.match(/^CMD\s+(\[.*\])\s*$/m);
  if (!cmd) throw new Error("Dockerfile: no CMD [...] line");
  const args = JSON.parse(cmd[1]) as string[];
  return args.slice(2, -1).map((f) => f.replace("=/etc/gateway", `=${configDir}`));
}

/**
 * Starts `deno run <permissions> src/main.ts` (default `-A`) on a free port and waits for its
 * start-up lines. `env` adds to a clean environment (GATEWAY_CONFIG, NATS_URL, keys …).
 */
export function spawnGateway(
  env: Record<string, string>,
  permissions: string[] = ["-A"],
): Promise<Proc> {
  return spawnDeno(
    ["run", ...permissions, "src/main.ts"],
    { PORT: "0", ...env },
    /listening on (http:\/\/[^\s]+)[\s\S]*events: /,
    "the gateway",
  );
}

/** Starts the mock upstream CLI (`deno task mock`) on a free port. */
export function spawnMock(args: string[] = []): Promise<Proc> {
  return spawnDeno(
    ["run", "--allow-net", "--allow-env", "bench/mock/main.ts", "--port", "0", ...args],
    {},
    /mock upstream listening on (http:\/\/[\d.:]+)/,
    "the mock upstream",
  );
}

/** The mock's control API over HTTP (the mock runs in another process). */
export interface MockControl {
  url: string;
  setFaults(target: string, faults: Fault[]): Promise<void>;
  clearFaults(target: string): Promise<void>;
  hits(): Promise<Record<string, number>>;
  /** The mock's call log: target, model, stream, prefill and fault of each request. */
  calls(): Promise<MockCallRecord[]>;
  reset(): Promise<void>;
}

export function mockControl(url: string): MockControl {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/_mock/${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`mock ${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  return {
    url,
    setFaults: async (target, faults) => void await call("POST", `faults/${target}`, faults),
    clearFaults: async (target) => void await call("DELETE", `faults/${target}`),
    hits: () => call("GET", "hits"),
    calls: () => call("GET", "calls"),
    reset: async () => void await call("POST", "reset"),
  };
}

/** A local port with nothing listening on it (connections are refused). */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}
