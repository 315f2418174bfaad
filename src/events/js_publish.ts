// JetStream publishes with their acks, at the cost of one core publish each. A JetStream publish
// is a NATS request to the stream's subject, answered with a PubAck on the reply subject. The
// client library's request machinery builds an Error (stack trace included) and a timer for
// every request even when it succeeds; for a bus that publishes several events per gateway call
// that was the largest single cost of having NATS on. Here one wildcard inbox subscription
// receives every ack, matched to its publish by the last token of the reply subject, and the
// bus's batches (up to 256 events) each wait on one promise and one deadline (src/lib/
// deadlines.ts), not one of each per event.
import { createInbox, headers, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { deadlines } from "../lib/deadlines.ts";

/** One message to store: its subject, its JSON text and its id (the `Nats-Msg-Id`). */
export interface Outgoing {
  subject: string;
  payload: string;
  id: string;
}

export interface JetStreamPublisher {
  /**
   * Publishes every message at once and settles when each is acknowledged, refused or out of
   * time: per message, undefined when the stream stored it (or already had its id), else why not.
   */
  publishBatch(messages: readonly Outgoing[]): Promise<(Error | undefined)[]>;
  /** Stops listening for acks; publishes still waiting reject. */
  close(): void;
}

/** A batch in flight: one promise, one deadline and one map entry for all of its messages. */
interface Batch {
  results: (Error | undefined | typeof PENDING)[];
  pending: number;
  /** Settles the batch: what is still pending gets `why`. */
  finish(why: () => Error): void;
}

const PENDING = Symbol("pending");

/** What JetStream answered, as an error, or undefined for a stored (or duplicate) message. */
export function ackError(msg: Pick<Msg, "data" | "headers" | "json">): Error | undefined {
  // A status reply carries no body: 503 "no responders" means no stream listens on the subject.
  if (msg.data.length === 0 && msg.headers?.hasError) {
    const { code, description } = msg.headers;
    return new Error(
      code === 503
        ? "no JetStream stream stores this subject (no responders)"
        : `JetStream answered ${code} ${description}`,
    );
  }
  let ack: { stream?: string; error?: { code?: number; description?: string } };
  try {
    ack = msg.json();
  } catch {
    return new Error("JetStream answered with something that is not a PubAck");
  }
  if (ack.error) return new Error(`JetStream refused the message: ${ack.error.description}`);
  return typeof ack.stream === "string" ? undefined : new Error("PubAck without a stream");
}

/**
 * The header naming the CloudEvents `source` of a gateway's message, so a replica can pass over
 * its own (and its sibling workers') events without decoding them. Only ever a reason to skip:
 * what a replica folds is still read and checked from the body.
 */
export const SOURCE_HEADER = "Gateway-Source";

export function createJetStreamPublisher(
  nc: NatsConnection,
  timeoutMs: number,
  source?: string,
): JetStreamPublisher {
  const prefix = `${createInbox()}.`;
  const batches = new Map<string, Batch>();
  let seq = 0;
  // Reply subjects end in "<batch>-<index>": one token, so one wildcard subscription hears all.
  const sub = nc.subscribe(`${prefix}*`, {
    callback: (err, msg) => {
      if (err) return; // the subscription is closing; close() settles what still waits
      const token = msg.subject.slice(prefix.length);
      const dash = token.indexOf("-");
      const b = batches.get(token.slice(0, dash));
      if (!b) return; // timed out already
      const i = Number(token.slice(dash + 1));
      if (b.results[i] !== PENDING) return;
      b.results[i] = ackError(msg);
      if (--b.pending === 0) b.finish(noAck);
    },
  });
  const timedOut = () => new Error(`no JetStream ack within ${timeoutMs} ms`);
  const publishBatch = (messages: readonly Outgoing[]) =>
    new Promise<(Error | undefined)[]>((resolve) => {
      const id = (++seq).toString(36);
      const results: Batch["results"] = new Array(messages.length).fill(PENDING);
      let cancel = () => {};
      const batch: Batch = {
        results,
        pending: messages.length,
        finish(why) {
          if (batches.get(id) !== batch) return;
          batches.delete(id);
          cancel();
          resolve(results.map((r) => r === PENDING ? why() : r));
        },
      };
      batches.set(id, batch);
      cancel = deadlines.after(timeoutMs, () => batch.finish(timedOut));
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        const h = headers();
        h.set("Nats-Msg-Id", m.id); // JetStream drops a repeat within its duplicate window
        if (source) h.set(SOURCE_HEADER, source);
        try {
          nc.publish(m.subject, m.payload, { reply: `${prefix}${id}-${i}`, headers: h });
        } catch (e) {
          results[i] = e instanceof Error ? e : new Error(String(e));
          batch.pending--;
        }
      }
      if (batch.pending === 0) batch.finish(noAck);
    });
  return {
    publishBatch,
    close() {
      sub.unsubscribe();
      for (const b of [...batches.values()]) b.finish(closedEarly);
    },
  };
}

// Never given out: a batch finishes with nothing pending once every message has an answer.
const noAck = () => new Error("no JetStream ack");
const closedEarly = () => new Error("the NATS connection closed before JetStream acknowledged");
