// Reading the JetStream stream from a point in time, for `deno task events --since` and
// `deno task audit`. An ordered consumer (ephemeral, no acks, recreated by the client on a gap or
// reconnect) starts at the first message stored at or after `startMs`; the server does the
// seeking, so a 24 h lookback does not mean reading the whole stream from its first message.
import type { NatsConnection } from "@nats-io/nats-core";
import { type Consumer, jetstream, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { CloudEvent } from "./envelope.ts";

export interface HistoryOptions {
  /** JetStream stream name, e.g. GATEWAY_EVENTS. */
  stream: string;
  /** Subject filter inside the stream (default `gateway.>`). */
  subject?: string;
  /** First message stored at or after this time (ms since epoch). */
  startMs: number;
}

export interface HistoryMessage {
  /** Stream sequence. */
  seq: number;
  subject: string;
  /** The decoded CloudEvent, or undefined when the payload is not JSON. */
  event?: CloudEvent;
  bytes: number;
}

/** The stream is not there: nothing was ever published to this server, or another name is used. */
export class StreamMissingError extends Error {
  constructor(readonly stream: string) {
    super(`JetStream stream ${stream} does not exist on this server`);
    this.name = "StreamMissingError";
  }
}

interface Opened {
  consumer: Consumer;
  /** Messages already stored from startMs on, matching the subject. */
  backlog: number;
}

async function open(nc: NatsConnection, opts: HistoryOptions): Promise<Opened> {
  let consumer: Consumer;
  try {
    consumer = await jetstream(nc).consumers.get(opts.stream, {
      filter_subjects: opts.subject ?? "gateway.>",
      opt_start_time: new Date(opts.startMs).toISOString(),
    });
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
      throw new StreamMissingError(opts.stream);
    }
    throw err;
  }
  const info = await consumer.info(true);
  return { consumer, backlog: info.num_pending };
}

function decode(m: { seq: number; subject: string; data: Uint8Array; json<T>(): T }) {
  let event: CloudEvent | undefined;
  try {
    event = m.json<CloudEvent>();
  } catch { /* not JSON: reported by the caller as unreadable */ }
  return { seq: m.seq, subject: m.subject, event, bytes: m.data.length };
}

const BATCH = 512;

/**
 * What is stored from `startMs` up to the moment of the call, in stream order. Bounded: messages
 * stored after the call are not read, so this always ends. Stop early by breaking out.
 */
export async function* readHistory(
  nc: NatsConnection,
  opts: HistoryOptions,
): AsyncGenerator<HistoryMessage> {
  const { consumer, backlog } = await open(nc, opts);
  let left = backlog;
  try {
    while (left > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(left, BATCH), expires: 5_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        left--;
        yield decode(m);
        // The consumer's own count: messages aged out while we read are not waited for.
        if (m.info.pending === 0) left = 0;
        if (left === 0) break;
      }
      if (got === 0) break; // nothing within `expires`: the rest was trimmed meanwhile
    }
  } finally {
    await consumer.delete().catch(() => {}); // ephemeral anyway; this only tidies up early
  }
}

export type TailItem =
  | ({ kind: "message" } & HistoryMessage)
  /** Everything stored before the call has been delivered; what follows is live. */
  | { kind: "live"; replayed: number };

/**
 * Replays from `startMs`, then keeps delivering new messages as they are stored, gap-free (one
 * consumer, so nothing falls between replay and live). Ends when the connection closes.
 */
export async function* tailHistory(
  nc: NatsConnection,
  opts: HistoryOptions,
): AsyncGenerator<TailItem> {
  const { consumer, backlog } = await open(nc, opts);
  let replayed = 0;
  let live = backlog === 0;
  if (live) yield { kind: "live", replayed: 0 };
  const messages = await consumer.consume({ max_messages: BATCH });
  try {
    for await (const m of messages) {
      yield { kind: "message", ...decode(m) };
      if (!live) {
        replayed++;
        if (m.info.pending === 0) {
          live = true;
          yield { kind: "live", replayed };
        }
      }
    }
  } finally {
    messages.stop();
  }
}
