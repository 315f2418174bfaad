// What the figures were measured on: CPU, cores, memory, kernel, load, and the versions of
// everything that served or generated the load.
import { cpuCount } from "./procs.ts";

export interface Machine {
  cpu: string;
  cores: number;
  memGb: number;
  kernel: string;
  loadavg(): Promise<string>;
  commit: string;
}

async function text(path: string): Promise<string> {
  return await Deno.readTextFile(path).catch(() => "");
}

async function run(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
  } catch {
    return "";
  }
}

export async function machine(): Promise<Machine> {
  const cpuinfo = await text("/proc/cpuinfo");
  const meminfo = await text("/proc/meminfo");
  const memKb = Number(meminfo.match(/MemTotal:\s+(\d+)/)?.[1] ?? 0);
  const head = await run("git", ["rev-parse", "--short", "HEAD"]);
  const dirty = (await run("git", ["status", "--porcelain", "--untracked-files=no"])) !== "";
  return {
    cpu: cpuinfo.match(/model name\s*:\s*(.+)/)?.[1]?.trim() ?? "unknown CPU",
    cores: await cpuCount(),
    memGb: Math.round(memKb / 1024 / 1024),
    kernel: (await text("/proc/sys/kernel/osrelease")).trim() || Deno.build.os,
    loadavg: async () => (await text("/proc/loadavg")).split(" ").slice(0, 3).join(" "),
    commit: head ? `${head}${dirty ? " (with uncommitted changes)" : ""}` : "?",
  };
}

/** The hono version the import map resolves to, from deno.lock. */
export async function lockedVersion(name: string): Promise<string> {
  try {
    const lock = JSON.parse(await Deno.readTextFile(new URL("../../deno.lock", import.meta.url)));
    const spec = Object.entries(lock.specifiers ?? {}).find(([k]) => k.startsWith(`npm:${name}@`));
    return spec ? String(spec[1]) : "?";
  } catch {
    return "?";
  }
}
