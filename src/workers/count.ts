// How many gateway workers to run, and the reason, for the start-up line: WORKERS (a number, or
// `auto` for one per core), else gateway.json `workers`, else one per core on a machine with
// MIN_CORES_FOR_WORKERS cores or more and one process below that. Measured on 2 cores shared with
// the load, a second worker cost ~30 % more CPU per request for ~7 % more throughput and twice
// the memory (docs/benchmarks.md#workers): workers pay off where there are cores to spare.
// More than one needs SO_REUSEPORT (Linux, and Deno's `--unstable-net`, which deno.json turns
// on): without it the gateway runs as one process, as WORKERS=1 always does.

/** From this many cores on, the default is one worker per core. */
export const MIN_CORES_FOR_WORKERS = 4;
/** The most workers the default starts (each is an isolate of ~50 MB); WORKERS=auto or N for more. */
export const MAX_DEFAULT_WORKERS = 8;

export interface WorkerPlan {
  count: number;
  /** For the start-up line: `workers: 2 (one per core; WORKERS=1 for one)`. */
  why: string;
  /** More were asked for than can run here (the line then says why). */
  fellBack?: boolean;
}

export interface PlanInput {
  /** The WORKERS variable, as set (undefined or "" when not): a number, or `auto`. */
  env: string | undefined;
  /** gateway.json `workers`. */
  configured: number | undefined;
  /** navigator.hardwareConcurrency. */
  cores: number;
  /** Why several workers cannot share a port here, or undefined when they can (asked only then). */
  noReusePort: () => string | undefined;
}

/** WORKERS is not a whole number ≥ 1. */
export class WorkersError extends Error {
  constructor(value: string) {
    super(
      `WORKERS must be a whole number of workers (1 or more) or "auto" (one per core), got "${value}"`,
    );
    this.name = "WorkersError";
  }
}

export function planWorkers(i: PlanInput): WorkerPlan {
  let count: number;
  let why: string;
  if (i.env === "auto") {
    count = Math.max(1, Math.floor(i.cores) || 1);
    why = "WORKERS=auto: one per core";
  } else if (i.env !== undefined && i.env !== "") {
    count = Number(i.env);
    if (!Number.isInteger(count) || count < 1 || count > 256) throw new WorkersError(i.env);
    why = `WORKERS=${i.env}`;
  } else if (i.configured !== undefined) {
    count = i.configured;
    why = `gateway.json workers: ${count}`;
  } else if (Math.floor(i.cores) >= MIN_CORES_FOR_WORKERS) {
    count = Math.min(Math.floor(i.cores), MAX_DEFAULT_WORKERS);
    why = count < Math.floor(i.cores)
      ? `one per core, at most ${MAX_DEFAULT_WORKERS} by default; WORKERS=auto for all ${
        Math.floor(i.cores)
      }, WORKERS=1 for one process`
      : "one per core; WORKERS=1 for one process";
  } else {
    const cores = Math.max(1, Math.floor(i.cores) || 1);
    count = 1;
    why = `one process on ${cores} core${cores === 1 ? "" : "s"} (one per core from ` +
      `${MIN_CORES_FOR_WORKERS}); WORKERS=auto for one per core`;
  }
  const cannot = count > 1 ? i.noReusePort() : undefined;
  if (cannot) return { count: 1, why: `${count} asked for, but ${cannot}`, fellBack: true };
  return { count, why };
}

/**
 * Why this Deno cannot run workers on one port (no SO_REUSEPORT, or no read access to the
 * gateway's modules, which a Worker loads as files); undefined when it can.
 */
export function reusePortUnavailable(
  modules: URL[] = [new URL("../", import.meta.url), new URL("../../actors/", import.meta.url)],
): string | undefined {
  const unreadable = modules.filter((dir) =>
    dir.protocol === "file:" &&
    Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted"
  );
  if (unreadable.length) {
    return `workers load the gateway's modules and need read access to them (--allow-read=${
      unreadable.map((u) => decodeURIComponent(u.pathname).replace(/\/$/, "")).join(",")
    })`;
  }
  if (Deno.build.os !== "linux") {
    return `port sharing (SO_REUSEPORT) balances connections only on Linux, not ${Deno.build.os}`;
  }
  try {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0, reusePort: true });
    probe.close();
    return undefined;
  } catch (e) {
    return `port sharing is unavailable (${
      e instanceof Error ? e.message : String(e)
    }; run with --unstable-net or from the repository, whose deno.json enables it)`;
  }
}

export const workersLine = (p: WorkerPlan) => `workers: ${p.count} (${p.why})`;
