// A real nats-server for the "gateway + NATS" target: JetStream (file store in the run's temp
// dir) and the websocket listener the gateway connects to, pinned like every other server.
import { freePort, type Server, spawnServer } from "./procs.ts";

export async function findNatsServer(): Promise<string | undefined> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), "/usr/sbin"];
  for (const dir of dirs) {
    try {
      if ((await Deno.stat(`${dir}/nats-server`)).isFile) return `${dir}/nats-server`;
    } catch { /* not here */ }
  }
  return undefined;
}

export async function natsVersion(bin: string): Promise<string> {
  try {
    const out = await new Deno.Command(bin, { args: ["--version"] }).output();
    return new TextDecoder().decode(out.stdout).trim().replace(/^nats-server:\s*/, "");
  } catch {
    return "?";
  }
}

export async function startNats(
  bin: string,
  dir: string,
  cpu: number | undefined,
): Promise<{ server: Server; wsUrl: string }> {
  const port = freePort();
  const wsPort = freePort();
  const conf = `${dir}/nats.conf`;
  await Deno.writeTextFile(
    conf,
    [
      `listen: "127.0.0.1:${port}"`,
      `jetstream { store_dir: "${dir}/jetstream" }`,
      `websocket { host: "127.0.0.1", port: ${wsPort}, no_tls: true }`,
    ].join("\n"),
  );
  const server = spawnServer("nats-server", [bin, "-c", conf], { cpu, log: `${dir}/nats.log` });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !server.exited()) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port: wsPort })).close();
      return { server, wsUrl: `ws://127.0.0.1:${wsPort}` };
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  await server.stop();
  const log = await Deno.readTextFile(`${dir}/nats.log`).catch(() => "");
  throw new Error(`nats-server did not start:\n${log.slice(-1500)}`);
}
