// `deno task events [subject-filter]`: a live tail of gateway events, one line each on stdout.
// Status and errors go to stderr so stdout stays pipeable (grep, tee).
// A core subscription is enough for a live tail; history lives in the JetStream stream.
import { type Msg, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import type { CloudEvent } from "./envelope.ts";
import { formatEventLine } from "./format.ts";

const USAGE = `usage: deno task events [subject-filter]
  subject-filter  NATS subject, default "gateway.>"; e.g. "gateway.fallback.>" for failovers,
                  "gateway.*.*.openai" for everything about one provider
  NATS_URL        nats-server websocket URL, default ws://127.0.0.1:9222`;

async function main(args: string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  const url = Deno.env.get("NATS_URL") ?? "ws://127.0.0.1:9222";
  const subject = args[0] ?? "gateway.>";

  let nc: NatsConnection;
  try {
    nc = await wsconnect({
      servers: url,
      name: "gateway-events-cli",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      timeout: 5_000,
    });
  } catch (err) {
    console.error(
      `events: cannot connect to NATS at ${url}: ${err instanceof Error ? err.message : err}\n` +
        `events: start nats-server with a websocket listener (websocket { port: 9222, no_tls: true })` +
        ` or point NATS_URL at one (ws://host:port).`,
    );
    return 1;
  }

  (async () => {
    // nats-core repeats a status once per failed reconnect attempt: report transitions only.
    let up = true;
    for await (const s of nc.status()) {
      if (s.type === "disconnect" && up) {
        console.error(`events: disconnected from ${s.server}; retrying`);
      }
      if (s.type === "reconnect" && !up) console.error(`events: reconnected to ${s.server}`);
      if (s.type === "disconnect" || s.type === "reconnect") up = s.type === "reconnect";
    }
  })().catch(() => {});

  const stop = () => void nc.drain().catch(() => nc.close());
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);

  const sub = nc.subscribe(subject);
  await nc.flush(); // the server has the subscription before we say we are listening
  console.error(`events: subscribed to ${subject} on ${url} (Ctrl-C to stop)`);
  for await (const msg of sub) console.log(line(msg));
  await nc.closed();
  return 0;
}

function line(msg: Msg): string {
  try {
    return formatEventLine(msg.json<CloudEvent>());
  } catch {
    return `${msg.subject}  (unreadable payload, ${msg.data.length} bytes)`;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
