// `deno task events [options] [subject-filter]`: a live tail of gateway events, one line each on
// stdout. Status and errors go to stderr so stdout stays pipeable (grep, tee, jq).
// A core subscription is enough for a live tail; with --since, an ordered JetStream consumer
// replays the stream from that time and then keeps delivering live events, with no gap between.
import { type Msg, type NatsConnection, wsconnect } from "@nats-io/nats-core";
import { parseEventsArgs, UsageError } from "./cli_args.ts";
import {
  accessFromEnv,
  authRefusal,
  connectOptions,
  describeServers,
  isAuthError,
  type NatsAccess,
} from "../lib/nats_connect.ts";
import type { CloudEvent } from "./envelope.ts";
import { StreamMissingError, tailHistory } from "./history.ts";
import { type Received, renderEvent } from "./render.ts";

const USAGE = `usage: deno task events [options] [subject-filter]
  subject-filter   NATS subject, default "gateway.>"; e.g. "gateway.fallback.>" for failovers,
                   "gateway.*.*.openai" for everything about one provider
  --since <when>   replay from the JetStream stream first, then keep tailing live; a duration
                   back from now (90s, 15m, 2h, 1d, 1h30m) or an ISO time
  --json           one CloudEvent JSON object per line (for jq) instead of the readable line
  --provider <id>  only events about this provider, including fallbacks away from it
  --stream <name>  JetStream stream for --since (default NATS_STREAM or GATEWAY_EVENTS)
  NATS_URL         nats-server websocket URL(s), comma-separated, default ws://127.0.0.1:9222
  NATS_USER + NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED or NATS_CREDS (a .creds file path)
                   the credential (one); NATS_CA: PEM file of the CA for wss:// (docs/securing.md)`;

async function main(args: string[]): Promise<number> {
  let opts;
  try {
    opts = parseEventsArgs(args, Date.now());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`events: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  let access: NatsAccess;
  try {
    access = accessFromEnv((n) => Deno.env.get(n));
  } catch (err) {
    console.error(`events: ${err instanceof Error ? err.message : err}`);
    return 2;
  }
  const url = describeServers(access.servers);
  const { subject } = opts;
  const print = (m: Received) => {
    const out = renderEvent(m, opts);
    if (out !== undefined) console.log(out);
    else if (!m.event && opts.json) console.error(`events: ${m.subject}: unreadable payload`);
  };

  let nc: NatsConnection;
  try {
    nc = await wsconnect(connectOptions(access, {
      name: "gateway-events-cli",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      timeout: 5_000,
    }));
  } catch (err) {
    if (isAuthError(err)) {
      console.error(`events: ${authRefusal(access, err)}`);
      return 1;
    }
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

  if (opts.since !== undefined) {
    const stream = opts.stream ?? Deno.env.get("NATS_STREAM") ?? "GATEWAY_EVENTS";
    const since = new Date(opts.since).toISOString();
    console.error(`events: replaying ${subject} from stream ${stream} since ${since} on ${url}`);
    try {
      for await (const item of tailHistory(nc, { stream, subject, startMs: opts.since })) {
        if (item.kind === "message") print(item);
        else {
          console.error(
            `events: replayed ${item.replayed} stored events; now live (Ctrl-C to stop)`,
          );
        }
      }
    } catch (err) {
      const why = err instanceof StreamMissingError
        ? `${err.message}; the gateway creates it on its first event (is it running with NATS_URL set?)`
        : err instanceof Error
        ? err.message
        : String(err);
      console.error(`events: cannot replay from ${stream} on ${url}: ${why}`);
      await nc.close().catch(() => {});
      return 1;
    }
    await nc.closed();
    return 0;
  }

  const sub = nc.subscribe(subject);
  await nc.flush(); // the server has the subscription before we say we are listening
  console.error(`events: subscribed to ${subject} on ${url} (Ctrl-C to stop)`);
  for await (const msg of sub) print(received(msg));
  await nc.closed();
  return 0;
}

function received(msg: Msg): Received {
  let event: CloudEvent | undefined;
  try {
    event = msg.json<CloudEvent>();
  } catch { /* reported as unreadable */ }
  return { subject: msg.subject, bytes: msg.data.length, event };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
