// Replay on start: reads the recent provider-level events back from the JetStream stream, in
// stream order, so each provider actor can fold them (hydrate) and start with the breaker,
// limiter and model-cooldown state the fleet left behind. Reading publishes nothing. It is
// bounded in time (a window per kind of event) and in count (the newest `maxEvents` per kind).
import type { NatsConnection } from "@nats-io/nats-core";
import {
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { ProviderSnapshot } from "../../actors/provider/mod.ts";
import type { Config } from "../config.ts";
import type { EventType, GatewayEvent } from "./catalogue.ts";
import { type CloudEvent, fromCloudEvent } from "./envelope.ts";

/** The events a provider actor folds into its state; nothing else needs replaying or sharing. */
export const STATE_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  "attempt.started",
  "attempt.succeeded",
  "attempt.failed",
  "attempt.aborted",
  "breaker.opened",
  "breaker.half_opened",
  "breaker.closed",
  "ratelimit.blocked",
  "ratelimit.refilled",
  "model.unavailable",
]);

/** The provider a state event is about, or undefined for anything else. */
export function stateEventProvider(e: GatewayEvent): string | undefined {
  return STATE_EVENT_TYPES.has(e.type) && "provider" in e ? e.provider : undefined;
}

export interface ReplayWindows {
  /** Breaker, limiter and model transitions: as long as a decided state can last. */
  windowMs: number;
  /** Attempt outcomes: the breaker's failure window, and a minute of RPM/TPM buckets. */
  attemptsMs: number;
}

const MINUTE = 60_000;

/** How far back replay reads, from the configured providers; never past the stream's retention. */
export function replayWindows(config: Config): ReplayWindows {
  let windowMs = 0;
  let attemptsMs = 0;
  for (const p of Object.values(config.providers)) {
    windowMs = Math.max(windowMs, p.breaker.windowMs, p.breaker.maxOpenMs, p.modelCooldownMs);
    attemptsMs = Math.max(attemptsMs, p.breaker.windowMs, MINUTE);
  }
  windowMs = Math.min(windowMs, config.nats.maxAgeMs);
  return { windowMs, attemptsMs: Math.min(attemptsMs, windowMs) };
}

export interface ReplayOptions extends ReplayWindows {
  stream: string;
  /** Provider ids to keep events for. */
  providers: ReadonlySet<string>;
  now: number;
  /** The newest events kept per kind (attempts, breaker, ratelimit, model). Default 50 000. */
  maxEvents?: number;
  /** Give up (throw) once past this time. Default: 10 s from now. */
  deadline?: number;
}

export interface Replayed {
  /** State events of the configured providers, in stream order. */
  events: GatewayEvent[];
  /** Stream messages read (all kinds, before filtering). */
  read: number;
  /** The stream's last sequence when replay began: following other replicas resumes after it. */
  lastSeq: number;
  /** Whether some kind had more than maxEvents in its window (the oldest were left out). */
  truncated: boolean;
  /** False when the stream did not exist yet (nothing was ever published). */
  streamFound: boolean;
}

interface Stored {
  seq: number;
  event: CloudEvent;
}

const BATCH = 500;

function checkDeadline(deadline: number) {
  if (Date.now() > deadline) throw new Error("replay took too long");
}

/**
 * Messages on `filter` stored since `since` and up to `lastSeq`, the newest `maxEvents` of them
 * (about: beyond that, the start is moved forward in proportion, then a hard cap applies).
 */
async function readFilter(
  js: JetStreamClient,
  o: { stream: string; filter: string; since: number; lastSeq: number; max: number },
  deadline: number,
): Promise<{ items: Stored[]; truncated: boolean }> {
  const opts = { filter_subjects: o.filter, opt_start_time: new Date(o.since).toISOString() };
  let consumer = await js.consumers.get(o.stream, opts);
  let pending = (await consumer.info(true)).num_pending;
  let truncated = false;
  if (pending > o.max) {
    // Too many: find where the window starts and keep only its newest part.
    const first = await consumer.next({ expires: 2_000 });
    const from = first?.seq ?? 1;
    const span = Math.max(1, o.lastSeq - from + 1);
    const start = Math.max(from, o.lastSeq - Math.ceil(span * o.max / pending) + 1);
    await consumer.delete().catch(() => {});
    consumer = await js.consumers.get(o.stream, {
      filter_subjects: o.filter,
      opt_start_seq: start,
    });
    pending = (await consumer.info(true)).num_pending;
    truncated = true;
  }
  const items: Stored[] = [];
  let seen = 0;
  // Exactly what was pending when the consumer was made; later messages belong to the follower.
  while (seen < pending && seen < 2 * o.max) {
    checkDeadline(deadline);
    const batch = await consumer.fetch({
      max_messages: Math.min(BATCH, pending - seen),
      expires: 2_000,
    });
    let got = 0;
    for await (const m of batch) {
      got++;
      if (m.seq > o.lastSeq) continue;
      try {
        items.push({ seq: m.seq, event: m.json<CloudEvent>() });
      } catch { /* not JSON: not ours */ }
    }
    seen += got;
    if (got === 0) break; // aged out meanwhile
  }
  await consumer.delete().catch(() => {});
  return { items, truncated: truncated || seen < pending };
}

/**
 * Reads the recent state events back. Openings that outlast the window (a configured open time longer than it,
 * long Retry-After) are found too: the latest `breaker.opened` of each provider whose open
 * time is still running is added whatever its age.
 */
export async function readReplay(nc: NatsConnection, o: ReplayOptions): Promise<Replayed> {
  const deadline = o.deadline ?? Date.now() + 10_000;
  const max = Math.max(1, o.maxEvents ?? 50_000);
  const jsm = await jetstreamManager(nc);
  let lastSeq: number;
  try {
    lastSeq = (await jsm.streams.info(o.stream)).state.last_seq;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
      return { events: [], read: 0, lastSeq: 0, truncated: false, streamFound: false };
    }
    throw err;
  }
  const empty = { events: [], read: 0, lastSeq, truncated: false, streamFound: true };
  if (lastSeq === 0 || o.windowMs <= 0 || o.providers.size === 0) return empty;

  const js = jetstream(nc);
  const kinds = [
    { filter: "gateway.attempt.>", since: o.now - o.attemptsMs },
    { filter: "gateway.breaker.>", since: o.now - o.windowMs },
    { filter: "gateway.ratelimit.>", since: o.now - o.windowMs },
    { filter: "gateway.model.>", since: o.now - o.windowMs },
  ];
  const parts = await Promise.all(
    kinds.map((k) => readFilter(js, { stream: o.stream, lastSeq, max, ...k }, deadline)),
  );
  const bySeq = new Map<number, CloudEvent>();
  for (const p of parts) for (const i of p.items) bySeq.set(i.seq, i.event);

  for (const provider of o.providers) {
    const last = await jsm.streams.getMessage(o.stream, {
      last_by_subj: `gateway.breaker.opened.${provider}`,
    }).catch(() => null);
    if (!last || last.seq > lastSeq || bySeq.has(last.seq)) continue;
    try {
      const ce = last.json<CloudEvent>();
      if ((ce.data as { until?: number }).until! > o.now) bySeq.set(last.seq, ce);
    } catch { /* not ours */ }
  }

  const events: GatewayEvent[] = [];
  for (const seq of [...bySeq.keys()].sort((a, b) => a - b)) {
    let e: GatewayEvent;
    try {
      e = fromCloudEvent(bySeq.get(seq)!);
    } catch {
      continue;
    }
    const provider = stateEventProvider(e);
    if (provider !== undefined && o.providers.has(provider)) events.push(e);
  }
  return {
    events,
    read: bySeq.size,
    lastSeq,
    truncated: parts.some((p) => p.truncated),
    streamFound: true,
  };
}

/** "10m", "90s", "1h", "1.5h": how a window reads in the start-up line. */
export function formatSpan(ms: number): string {
  const units: [number, string][] = [[3_600_000, "h"], [MINUTE, "m"], [1_000, "s"]];
  for (const [size, unit] of units) {
    if (ms >= size) {
      const n = ms / size;
      return `${Number.isInteger(n) ? n : n.toFixed(1)}${unit}`;
    }
  }
  return `${Math.round(ms)}ms`;
}

const clockTime = (iso: string) => `${iso.slice(11, 19)} UTC`;

/** What the replayed state means for traffic, one phrase per breaker or block that matters. */
export function describeState(snapshots: readonly ProviderSnapshot[], now: number): string {
  const parts: string[] = [];
  const breaker = (who: string, b: ProviderSnapshot["breaker"]) => {
    if (b.state === "open") {
      parts.push(
        b.openUntil && Date.parse(b.openUntil) > now
          ? `${who} breaker open until ${clockTime(b.openUntil)}`
          : `${who} breaker open, due a half-open probe`,
      );
    } else if (b.state === "half_open") parts.push(`${who} breaker half-open`);
  };
  for (const s of snapshots) {
    breaker(s.provider, s.breaker);
    for (const k of s.keys) {
      if (k.blockedUntil) {
        parts.push(`${s.provider} key ${k.key} blocked until ${clockTime(k.blockedUntil)}`);
      }
    }
    for (const m of s.models ?? []) {
      breaker(`${s.provider}/${m.model}`, m.breaker);
      for (const k of m.keys) {
        if (k.blockedUntil) {
          parts.push(
            `${s.provider}/${m.model} key ${k.key} blocked until ${clockTime(k.blockedUntil)}`,
          );
        }
      }
    }
    for (const m of s.unavailableModels) {
      parts.push(`${s.provider} model ${m.model} unavailable until ${clockTime(m.until)}`);
    }
  }
  return parts.length ? parts.join("; ") : "every breaker closed, nothing blocked";
}

/** The start-up line: "replayed 1234 events from GATEWAY_EVENTS (last 10m): …". */
export function replayLine(
  r: Pick<Replayed, "events" | "truncated">,
  o: { stream: string; windowMs: number; now: number },
  snapshots: readonly ProviderSnapshot[],
): string {
  const n = r.events.length;
  const cut = r.truncated ? ", oldest left out" : "";
  return `replayed ${n} event${n === 1 ? "" : "s"} from ${o.stream} (last ${
    formatSpan(o.windowMs)
  }${cut}): ${describeState(snapshots, o.now)}`;
}
