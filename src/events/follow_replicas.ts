// Replicas share provider health: each gateway follows the JetStream stream and hands the state
// events of the *other* replicas (CloudEvents `source` not its own) to its provider actors, which
// fold them without publishing. Its own events are skipped: they were folded when decided.
// An ordered consumer keeps stream order and resumes after the last message it delivered, across
// reconnects, so nothing is folded twice or skipped while the connection comes back.
// Only well-formed events are folded: a valid CloudEvents 1.0 envelope of a catalogued type,
// stored on the subject it names, from a /gateway/<instance> source. Anything else is dropped and
// counted (`rejected`): the stream is writable only by identities allowed to publish on
// `gateway.>` (docs/securing.md), and what slipped in anyway must not change provider state.
import type { NatsConnection } from "@nats-io/nats-core";
import {
  type ConsumerMessages,
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
} from "@nats-io/jetstream";
import type { Logger } from "../lib/logger.ts";
import { EVENT_TYPES, type GatewayEvent, subjectOf } from "./catalogue.ts";
import { type CloudEvent, fromCloudEvent, sourceOf } from "./envelope.ts";
import { SOURCE_HEADER } from "./js_publish.ts";
import { STATE_EVENT_TYPES, stateEventProvider } from "./replay.ts";

/**
 * Whether a message on `subject` (`gateway.<type>.<provider>`) can hold a state event about one
 * of `providers`: the others (request.*, mcp.*, another provider's) are passed over unread, as
 * folding would drop them anyway. Exported for tests.
 */
export function mayHoldState(subject: string, providers: ReadonlySet<string>): boolean {
  const last = subject.lastIndexOf(".");
  if (!subject.startsWith("gateway.") || last <= 8) return false;
  const type = subject.slice(8, last);
  return STATE_EVENT_TYPES.has(type as never) && providers.has(subject.slice(last + 1));
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES.map((t) => `gateway.${t}`));
const PROVIDER_ID = /^[a-z0-9_-]+$/;
const SOURCE = /^\/gateway\/[^\s/]+$/;

/**
 * Why `raw` (a stored message's JSON) is not an event this gateway could have published, or
 * undefined when it is one: the CloudEvents shape, a catalogued type, a provider id where there
 * is one, a parseable time, and the subject it was stored on (when given) matching the event.
 */
export function invalidEvent(raw: unknown, storedOn?: string): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "not a JSON object";
  const ce = raw as Partial<CloudEvent>;
  if (ce.specversion !== "1.0") return "specversion is not 1.0";
  if (typeof ce.id !== "string" || ce.id === "") return "no id";
  if (typeof ce.source !== "string" || !SOURCE.test(ce.source)) return "source is not /gateway/…";
  if (typeof ce.type !== "string" || !KNOWN_TYPES.has(ce.type)) return "unknown type";
  if (typeof ce.time !== "string" || Number.isNaN(Date.parse(ce.time))) return "bad time";
  if (ce.datacontenttype !== "application/json") return "datacontenttype is not JSON";
  const data = ce.data as Record<string, unknown> | undefined;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return "no data";
  if (
    "provider" in data && !(typeof data.provider === "string" && PROVIDER_ID.test(data.provider))
  ) {
    return "bad provider id";
  }
  const e = fromCloudEvent(ce as CloudEvent);
  if (ce.subject !== subjectOf(e)) return "subject does not match the event";
  if (storedOn !== undefined && storedOn !== ce.subject) return "stored on another subject";
  return undefined;
}

/**
 * The state event inside `ce` when another replica decided it about a provider we serve;
 * undefined for our own events, other kinds, unknown providers and anything malformed.
 */
export function remoteStateEvent(
  ce: CloudEvent,
  instance: string,
  providers: ReadonlySet<string>,
  siblings?: (source: string) => boolean,
): GatewayEvent | undefined {
  if (invalidEvent(ce) !== undefined) return undefined;
  if (ce.source === sourceOf(instance) || siblings?.(ce.source)) return undefined;
  const e = fromCloudEvent(ce);
  const provider = stateEventProvider(e);
  return provider !== undefined && providers.has(provider) ? e : undefined;
}

export interface FollowOptions {
  stream: string;
  instance: string;
  providers: ReadonlySet<string>;
  /**
   * Sources whose events reach this replica another way, skipped here so none is folded twice:
   * this process's other workers, whose state events the main thread hands over at once.
   */
  siblings?: (source: string) => boolean;
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
  /** Messages dropped as malformed: not JSON, not a gateway CloudEvent, unknown type. */
  readonly rejected: number;
  stop(): Promise<void>;
}

const why = (err: unknown) => err instanceof Error ? err.message : String(err);

export function followReplicas(nc: NatsConnection, o: FollowOptions): Follower {
  const retryMs = o.retryMs ?? 250;
  const js = jetstream(nc);
  let stopped = false;
  let folded = 0;
  let rejected = 0;
  let warnedRejected = false;
  let next = o.from; // where a (re)created consumer starts
  // The last message taken: its sequence (parsed from its reply subject, so only when needed)
  // is where a re-created consumer goes on.
  let last: JsMsg | undefined;
  const resumeAt = () => {
    if (last) next = last.seq + 1;
    last = undefined;
    return next;
  };
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
        const from = resumeAt();
        const consumer = await js.consumers.get(
          o.stream,
          from === "new"
            ? { filter_subjects: "gateway.>", deliver_policy: DeliverPolicy.New }
            : { filter_subjects: "gateway.>", opt_start_seq: from },
        );
        messages = await consumer.consume();
        if (stopped) messages.stop();
        if (warned) o.logger.info("following other replicas again", { stream: o.stream });
        warned = false;
        const own = sourceOf(o.instance);
        for await (const m of messages) {
          last = m;
          // Most messages are passed over unread: other kinds of event, and this replica's own
          // (and its sibling workers'), named by the publisher's header. A forged header can
          // only hide a message from the replica it names; what is folded is read from the body.
          if (!mayHoldState(m.subject, o.providers)) continue;
          const source = m.headers?.get(SOURCE_HEADER);
          if (source === own || (source && o.siblings?.(source))) continue;
          let ce: CloudEvent | undefined;
          let problem: string | undefined;
          try {
            ce = m.json<CloudEvent>();
            problem = invalidEvent(ce, m.subject);
          } catch {
            problem = "not JSON";
          }
          if (problem !== undefined || !ce) {
            rejected++;
            if (!warnedRejected) {
              warnedRejected = true; // once: a flood of junk must not flood the log too
              o.logger.warn("dropped a malformed message in the events stream", {
                stream: o.stream,
                seq: m.seq,
                subject: m.subject,
                problem,
              });
            }
            continue;
          }
          const e = remoteStateEvent(ce, o.instance, o.providers, o.siblings);
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
          last = undefined;
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
    get rejected() {
      return rejected;
    },
    async stop() {
      stopped = true;
      messages?.stop();
      wake?.();
      await running;
    },
  };
}
