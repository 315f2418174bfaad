// `deno task audit <request-id>`: the whole story of one request, read back from the JetStream
// stream. Exit status: 0 found, 1 not found, 2 cannot read (NATS unreachable, bad arguments).
// The story goes to stdout, status and errors to stderr.
import { type NatsConnection, wsconnect } from "@nats-io/nats-core";
import {
  accessFromEnv,
  authRefusal,
  connectOptions,
  describeServers,
  isAuthError,
  type NatsAccess,
} from "../lib/nats_connect.ts";
import { formatAudit, selectAudit } from "./audit_story.ts";
import { AUDIT_DEFAULT_LOOKBACK, parseAuditArgs, UsageError } from "./cli_args.ts";
import type { CloudEvent } from "./envelope.ts";
import { readHistory, StreamMissingError } from "./history.ts";

const USAGE = `usage: deno task audit [options] <request-id>
  request-id       the x-request-id the gateway answered with
  --since <when>   how far back to look: 30m, 6h, 2d or an ISO time (default ${AUDIT_DEFAULT_LOOKBACK})
  --json           print the request's events (and related provider events) as CloudEvent JSON lines
  --stream <name>  JetStream stream (default NATS_STREAM or GATEWAY_EVENTS)
  NATS_URL         nats-server websocket URL(s), comma-separated, default ws://127.0.0.1:9222
  NATS_USER + NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED or NATS_CREDS (a .creds file path)
                   the credential (one); NATS_CA: PEM file of the CA for wss:// (docs/securing.md)
exit status: 0 found, 1 not found, 2 cannot read (NATS unreachable, bad arguments)`;

/** Reading stops this long (event time) after the request's last event: later ones cannot be in its story. */
const SETTLE_MS = 5_000;
/** Replicas' clocks and the stream's arrival times drift a little: start this much earlier. */
const SKEW_MS = 60_000;

/**
 * Where to start reading for a request id the gateway generated itself (12 hex digits of
 * milliseconds first, see src/lib/ids.ts): just before it was made, instead of the whole
 * lookback. Undefined for other ids (a client's own x-request-id) or one outside the window.
 */
export function startHint(requestId: string, since: number, now: number): number | undefined {
  const m = /^([0-9a-f]{12})[0-9a-f]{14}$/.exec(requestId);
  if (!m) return undefined;
  const made = parseInt(m[1], 16);
  if (!(made >= since && made <= now + SKEW_MS)) return undefined;
  return Math.max(since, made - SKEW_MS);
}

interface Read {
  events: CloudEvent[];
  read: number;
}

/** Reads from `startMs`; stops once the request has ended and the stream moved past it. */
async function readWindow(
  nc: NatsConnection,
  stream: string,
  startMs: number,
  requestId: string,
): Promise<Read> {
  const events: CloudEvent[] = [];
  let read = 0;
  let endedAt: number | undefined;
  for await (const m of readHistory(nc, { stream, startMs })) {
    read++;
    const e = m.event;
    if (!e) continue;
    const at = Date.parse(e.time);
    if (endedAt !== undefined && at > endedAt + SETTLE_MS) break;
    events.push(e);
    const d = e.data as { requestId?: unknown };
    if (
      d?.requestId === requestId &&
      (e.type === "gateway.request.completed" || e.type === "gateway.request.failed")
    ) endedAt = at;
  }
  return { events, read };
}

async function main(args: string[]): Promise<number> {
  const now = Date.now();
  let opts;
  try {
    opts = parseAuditArgs(args, now);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`audit: ${err.message}\n${USAGE}`);
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
    console.error(`audit: ${err instanceof Error ? err.message : err}`);
    return 2;
  }
  const url = describeServers(access.servers);
  const stream = opts.stream ?? Deno.env.get("NATS_STREAM") ?? "GATEWAY_EVENTS";

  let nc: NatsConnection;
  try {
    nc = await wsconnect(connectOptions(access, { name: "gateway-audit-cli", timeout: 5_000 }));
  } catch (err) {
    if (isAuthError(err)) {
      console.error(`audit: ${authRefusal(access, err)}`);
      return 2;
    }
    console.error(
      `audit: cannot connect to NATS at ${url}: ${err instanceof Error ? err.message : err}\n` +
        `audit: point NATS_URL at the websocket listener the gateway publishes to (ws://host:port).`,
    );
    return 2;
  }
  try {
    const hint = startHint(opts.requestId, opts.since, now);
    let result = await readWindow(nc, stream, hint ?? opts.since, opts.requestId);
    let sel = selectAudit(opts.requestId, result.events);
    if (!sel && hint !== undefined && hint > opts.since) {
      // The id only looked like one of ours: read the whole window after all.
      result = await readWindow(nc, stream, opts.since, opts.requestId);
      sel = selectAudit(opts.requestId, result.events);
    }
    if (!sel) {
      console.error(
        `audit: request ${opts.requestId} not found: no event with that requestId in stream ` +
          `${stream} since ${new Date(opts.since).toISOString()} (${result.read} events read).\n` +
          `audit: look further back with --since (e.g. --since 7d, up to the stream's retention), ` +
          `or check NATS_URL points at the server this gateway publishes to.`,
      );
      return 1;
    }
    if (opts.json) {
      for (const entry of sel.entries) console.log(JSON.stringify(entry.event));
    } else console.log(formatAudit(sel));
    return 0;
  } catch (err) {
    if (err instanceof StreamMissingError) {
      console.error(
        `audit: request ${opts.requestId} not found: stream ${stream} does not exist on ${url} ` +
          `(the gateway creates it on its first event; is it running with NATS_URL set?)`,
      );
      return 1;
    }
    console.error(
      `audit: reading stream ${stream} on ${url} failed: ${
        err instanceof Error ? err.message : err
      }`,
    );
    return 2;
  } finally {
    await nc.close().catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
