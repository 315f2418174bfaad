// A real nats-server (JetStream + websocket) on free ports for integration tests, plus a live
// subscriber and a stream reader to assert on what a real consumer sees. Missing nats-server is
// an error, never a skip: a silently skipped integration test proves nothing.
import { type Authenticator, type Msg, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { CloudEvent } from "../../src/events/envelope.ts";

export interface NatsServer {
  wsUrl: string;
  port: number;
  wsPort: number;
  storeDir: string;
  stop(): Promise<void>;
  /** SIGKILL, for outage tests. */
  kill(): Promise<void>;
  /** Starts again on the same ports with the same store. */
  restart(): Promise<void>;
}

const INSTALL_HINT = "sudo apt-get update && sudo apt-get install -y nats-server";

async function findNatsServer(): Promise<string> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), "/usr/sbin"];
  for (const dir of dirs) {
    const path = `${dir}/nats-server`;
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch { /* not in this dir */ }
  }
  throw new Error(
    `nats-server not found on PATH or in /usr/sbin. Install it with: ${INSTALL_HINT}`,
  );
}

/**
 * A port free now, below the kernel's ephemeral range (32768+): a restarted server binds the same
 * ports again, and an ephemeral port can meanwhile be taken by any outgoing connection.
 */
function freePort(): number {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // taken: draw another
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface NatsServerOptions {
  /** More config lines (e.g. an authorization block); `include`d files go in `files`. */
  conf?: string[];
  /** Files written next to the config, by name (e.g. the shipped nats-permissions.conf). */
  files?: Record<string, string>;
  /** Environment of nats-server (its config may reference $VARS). */
  env?: Record<string, string>;
  /** The websocket block instead of the plain one; `$WS_PORT` stands for its port. */
  websocket?: string;
}

/** examples/nats-permissions.conf, to include in a test server's config as shipped. */
export const shippedPermissions = () =>
  Deno.readTextFile(new URL("../../examples/nats-permissions.conf", import.meta.url));

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = await findNatsServer();
  // A free port can be taken by a parallel test before nats-server binds it: try fresh ones.
  for (let attempt = 1;; attempt++) {
    try {
      return await startOnce(bin, opts);
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

async function startOnce(bin: string, opts: NatsServerOptions): Promise<NatsServer> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-nats-" });
  const storeDir = `${dir}/store`;
  const logFile = `${dir}/nats.log`;
  const port = freePort();
  const wsPort = freePort();
  const conf = `${dir}/nats.conf`;
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  await Deno.writeTextFile(
    conf,
    [
      ...(opts.conf ?? []),
      `listen: "127.0.0.1:${port}"`,
      `log_file: "${logFile}"`,
      `jetstream { store_dir: "${storeDir}" }`,
      opts.websocket?.replace("$WS_PORT", String(wsPort)) ??
        `websocket { host: "127.0.0.1", port: ${wsPort}, no_tls: true }`,
    ].join("\n"),
  );

  let child: Deno.ChildProcess | undefined;
  let exited: Promise<Deno.CommandStatus> | undefined;

  const spawn = async () => {
    child = new Deno.Command(bin, {
      args: ["-c", conf],
      env: opts.env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    exited = child.status;
    const deadline = Date.now() + 10_000;
    let gone = false;
    exited.then(() => gone = true);
    while (true) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: wsPort })).close();
        return;
      } catch {
        if (gone || Date.now() > deadline) {
          const log = await Deno.readTextFile(logFile).catch(() => "");
          if (!gone) child.kill("SIGKILL");
          await exited;
          child = undefined;
          throw new Error(`nats-server did not start on ws port ${wsPort}:\n${log.slice(-2000)}`);
        }
        await sleep(25);
      }
    }
  };

  const signal = async (sig: Deno.Signal) => {
    const c = child;
    child = undefined;
    if (!c) return;
    try {
      c.kill(sig);
    } catch { /* already exited */ }
    await exited;
  };

  try {
    await spawn();
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw err;
  }
  return {
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    port,
    wsPort,
    storeDir,
    kill: () => signal("SIGKILL"),
    restart: async () => {
      await signal("SIGKILL");
      await spawn();
    },
    stop: async () => {
      await signal("SIGTERM");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

export interface ReceivedMessage {
  subject: string;
  msgId: string | undefined;
  event: CloudEvent;
}

/** A live core-NATS subscriber that survives server restarts (reconnects forever). */
export async function collectEvents(wsUrl: string, subject = "gateway.>"): Promise<{
  events: CloudEvent[];
  messages: ReceivedMessage[];
  waitFor(pred: (events: CloudEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}> {
  const nc = await wsconnect({
    servers: wsUrl,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  const events: CloudEvent[] = [];
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  nc.subscribe(subject, {
    callback: (_err, msg: Msg) => {
      const event = msg.json<CloudEvent>();
      events.push(event);
      messages.push({ subject: msg.subject, msgId: msg.headers?.get("Nats-Msg-Id"), event });
      for (const w of waiters) w();
    },
  });
  await nc.flush(); // the server knows the subscription before we return
  return {
    events,
    messages,
    waitFor(pred, timeoutMs = 10_000) {
      if (pred(events)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred(events)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out; received ${JSON.stringify(events.map((e) => e.type))}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    close: () => nc.close(),
  };
}

/** Everything stored in the stream, in stream order (ordered consumer). */
export async function readStream(
  wsUrl: string,
  stream = "GATEWAY_EVENTS",
  auth?: Authenticator,
): Promise<CloudEvent[]> {
  const nc: NatsConnection = await wsconnect({ servers: wsUrl, authenticator: auth });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(stream);
    if (state.messages === 0) return [];
    const consumer = await jetstream(nc).consumers.get(stream);
    const out: CloudEvent[] = [];
    const msgs = await consumer.fetch({ max_messages: state.messages, expires: 5_000 });
    for await (const m of msgs) {
      out.push(m.json<CloudEvent>());
      if (m.seq >= state.last_seq) break;
    }
    return out;
  } finally {
    await nc.close();
  }
}
