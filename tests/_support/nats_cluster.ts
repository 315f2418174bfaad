// Three local nats-servers as one JetStream cluster (routes on 127.0.0.1, a websocket listener
// and a monitoring port on each, a store dir each under one temp dir), for failover tests.
// Missing nats-server is an error, never a skip.
import { wsconnect } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";

export interface ClusterNode {
  name: string;
  wsUrl: string;
  httpPort: number;
  alive: boolean;
  kill(): Promise<void>;
}

export interface NatsCluster {
  nodes: ClusterNode[];
  wsUrls: string[];
  /** Resolves once the cluster has a JetStream meta leader (streams can be created). */
  ready(timeoutMs?: number): Promise<void>;
  /** The node a client connection with this name is attached to (via /connz). */
  nodeOf(connectionName: string): Promise<ClusterNode | undefined>;
  stop(): Promise<void>;
}

async function natsBinary(): Promise<string> {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), "/usr/sbin"]) {
    try {
      if ((await Deno.stat(`${dir}/nats-server`)).isFile) return `${dir}/nats-server`;
    } catch { /* not here */ }
  }
  throw new Error(
    "nats-server not found on PATH or in /usr/sbin. Install it with: sudo apt-get install -y nats-server",
  );
}

function freePorts(n: number): number[] {
  const taken = new Set<number>();
  while (taken.size < n) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      taken.add(port);
    } catch { /* in use */ }
  }
  return [...taken];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const bin = await natsBinary();
  const dir = await Deno.makeTempDir({ prefix: "gateway-nats-cluster-" });
  const ports = freePorts(size * 4);
  const spec = Array.from({ length: size }, (_, i) => ({
    name: `n${i + 1}`,
    client: ports[i * 4],
    route: ports[i * 4 + 1],
    ws: ports[i * 4 + 2],
    http: ports[i * 4 + 3],
  }));
  const routes = spec.map((s) => `nats-route://127.0.0.1:${s.route}`).join(", ");
  const children: (Deno.ChildProcess | undefined)[] = [];
  for (const s of spec) {
    const conf = `${dir}/${s.name}.conf`;
    await Deno.writeTextFile(
      conf,
      [
        `server_name: ${s.name}`,
        `listen: "127.0.0.1:${s.client}"`,
        `http: "127.0.0.1:${s.http}"`,
        `log_file: "${dir}/${s.name}.log"`,
        `jetstream { store_dir: "${dir}/${s.name}" }`,
        `cluster { name: gwtest, listen: "127.0.0.1:${s.route}", routes: [${routes}] }`,
        `websocket { host: "127.0.0.1", port: ${s.ws}, no_tls: true }`,
      ].join("\n"),
    );
    children.push(
      new Deno.Command(bin, { args: ["-c", conf], stdout: "null", stderr: "null" }).spawn(),
    );
  }
  const nodes: ClusterNode[] = spec.map((s, i): ClusterNode => ({
    name: s.name,
    wsUrl: `ws://127.0.0.1:${s.ws}`,
    httpPort: s.http,
    alive: true,
    async kill() {
      const c = children[i];
      children[i] = undefined;
      this.alive = false;
      if (!c) return;
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
      await c.status;
    },
  }));
  const stop = async () => {
    for (const n of nodes) await n.kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const logs = async () => {
    const out: string[] = [];
    for (const s of spec) {
      out.push(
        `--- ${s.name}\n${
          (await Deno.readTextFile(`${dir}/${s.name}.log`).catch(() => "")).slice(-1500)
        }`,
      );
    }
    return out.join("\n");
  };
  return {
    nodes,
    wsUrls: nodes.map((n) => n.wsUrl),
    async ready(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        try {
          const nc = await wsconnect({ servers: nodes[0].wsUrl, timeout: 1_000 });
          try {
            // Answered only once a meta leader is elected and every peer is known.
            const jsm = await jetstreamManager(nc, { timeout: 1_000 });
            await jsm.getAccountInfo();
            const peers = await Promise.all(
              spec.map((s) =>
                fetch(`http://127.0.0.1:${s.http}/jsz`).then((r) => r.json()).catch(() => ({}))
              ),
            );
            if (peers.every((p) => p?.meta_cluster?.leader)) return;
          } finally {
            await nc.close();
          }
        } catch (err) {
          last = err;
        }
        await sleep(100);
      }
      await stop();
      throw new Error(`NATS cluster not ready after ${timeoutMs} ms (${last}):\n${await logs()}`);
    },
    async nodeOf(connectionName) {
      for (const n of nodes.filter((n) => n.alive)) {
        const connz = await fetch(`http://127.0.0.1:${n.httpPort}/connz?limit=1024`)
          .then((r) => r.json()).catch(() => undefined);
        if (connz?.connections?.some((c: { name?: string }) => c.name === connectionName)) {
          return n;
        }
      }
      return undefined;
    },
    stop,
  };
}
