// Replicas share provider health: each gateway follows the JetStream stream and hands the state
// events of the *other* replicas (CloudEvents `source` not its own) to its provider actors, which
// fold them without publishing. Its own events are skipped: they were folded when decided.
// An ordered consumer keeps stream order and resumes after the last message it delivered, across
// reconnects, so nothing is folded twice or skipped while the connection comes back.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  type ConsumerMessages,
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
} from "@nats-io/jetstream";
import type { Logger } from "../lib/logger.ts";
import type { GatewayEvent } from "./catalogue.ts";
import { type CloudEvent, fromCloudEvent } from "./envelope.ts";
import { stateEventProvider } from "./replay.ts";

/** The CloudEvents `source` of a replica. */
export const sourceOf = (instance: string) => `/gateway/${instance}`;

/**
 * The state event inside `ce` when another replica decided it about a provider we serve;
 * undefined for our own events, other kinds, unknown providers and anything malformed.
 */
export function remoteStateEvent(
  ce: CloudEvent,
  instance: string,
  providers: ReadonlySet<string>,
): GatewayEvent | undefined {
  if (ce?.source === sourceOf(instance)) return undefined;
  let e: GatewayEvent;
  try {
    e = fromCloudEvent(ce);
  } catch {
    return undefined;
  }
  const provider = stateEventProvider(e);
  return provider !== undefined && providers.has(provider) ? e : undefined;
}

export interface FollowOptions {
  stream: string;
  instance: string;
  providers: ReadonlySet<string>;
  /** Stream sequence to start at (replay's last sequence + 1), or "new" for what comes next. */
  from: number | "new";
  onEvent(event: GatewayEvent): void;
  logger: Logger;
  /** Pause before trying again when the stream is missing or the consumer failed (default 250). */
  retryMs?: number;
}

export interface Follower {
  /** Remote events handed to onEvent so far. */
  readonly folded: number;
  stop(): Promise<void>;
}

const why = (err: unknown) => err instanceof Error ? err.message : String(err);

export function followReplicas(nc: NatsConnection, o: FollowOptions): Follower {
  const retryMs = o.retryMs ?? 250;
  const js = jetstream(nc);
  let stopped = false;
  let folded = 0;
  let next = o.from; // where a (re)created consumer starts
  let messages: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;
  let warned = false;

  const pause = () =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, retryMs);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const run = async () => {
    while (!stopped) {
      try {
        const consumer = await js.consumers.get(
          o.stream,
          next === "new"
            ? { filter_subjects: "gateway.>", deliver_policy: DeliverPolicy.New }
            : { filter_subjects: "gateway.>", opt_start_seq: next },
        );
        messages = await consumer.consume();
        if (stopped) messages.stop();
        if (warned) o.logger.info("following other replicas again", { stream: o.stream });
        warned = false;
        for await (const m of messages) {
          next = m.seq + 1;
          let ce: CloudEvent;
          try {
            ce = m.json<CloudEvent>();
          } catch {
            continue;
          }
          const e = remoteStateEvent(ce, o.instance, o.providers);
          if (!e) continue;
          folded++;
          try {
            o.onEvent(e);
          } catch (err) {
            o.logger.error("folding another replica's event failed", {
              type: e.type,
              error: why(err),
            });
          }
        }
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
          // Nothing was ever published: everything the stream will hold is news.
          next = 1;
        } else if (!stopped && !warned) {
          warned = true;
          o.logger.warn("cannot follow other replicas yet; retrying", {
            stream: o.stream,
            error: why(err),
          });
        }
      }
      if (!stopped) await pause();
    }
  };
  const running = run();

  return {
    get folded() {
      return folded;
    },
    async stop() {
      stopped = true;
      messages?.stop();
      wake?.();
      await running;
    },
  };
}
