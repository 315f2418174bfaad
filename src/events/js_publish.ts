// JetStream publishes with their acks, at the cost of one core publish each. A JetStream publish
// is a NATS request to the stream's subject, answered with a PubAck on the reply subject. The
// client library's request machinery builds an Error (stack trace included) and a timer for
// every request even when it succeeds; for a bus that publishes several events per gateway call
// that was the largest single cost of having NATS on. Here one wildcard inbox subscription
// receives every ack, matched to its publish by the last token of the reply subject, and
// deadlines share timers (src/lib/deadlines.ts).
import { createInbox, headers, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { deadlines } from "../lib/deadlines.ts";

export interface JetStreamPublisher {
  /** Resolves when the stream stored the message (or already had its id), rejects otherwise. */
  publish(subject: string, payload: string, msgId: string): Promise<void>;
  /** Stops listening for acks; publishes still waiting reject. */
  close(): void;
}

interface Waiting {
  resolve(): void;
  reject(err: Error): void;
  cancel(): void;
}

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
  const waiting = new Map<string, Waiting>();
  let seq = 0;
  const sub = nc.subscribe(`${prefix}*`, {
    callback: (err, msg) => {
      if (err) return; // the subscription is closing; close() rejects what still waits
      const token = msg.subject.slice(prefix.length);
      const w = waiting.get(token);
      if (!w) return; // timed out already
      waiting.delete(token);
      w.cancel();
      const failed = ackError(msg);
      if (failed) w.reject(failed);
      else w.resolve();
    },
  });
  return {
    publish(subject, payload, msgId) {
      const token = (++seq).toString(36);
      return new Promise<void>((resolve, reject) => {
        const cancel = deadlines.after(timeoutMs, () => {
          if (!waiting.delete(token)) return;
          reject(new Error(`no JetStream ack within ${timeoutMs} ms`));
        });
        waiting.set(token, { resolve, reject, cancel });
        const h = headers();
        h.set("Nats-Msg-Id", msgId); // JetStream drops a repeat within its duplicate window
        if (source) h.set(SOURCE_HEADER, source);
        try {
          nc.publish(subject, payload, { reply: prefix + token, headers: h });
        } catch (e) {
          waiting.delete(token);
          cancel();
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    },
    close() {
      sub.unsubscribe();
      for (const w of waiting.values()) {
        w.cancel();
        w.reject(new Error("the NATS connection closed before JetStream acknowledged"));
      }
      waiting.clear();
    },
  };
}
