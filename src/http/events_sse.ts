// GET /v1/gateway/events: the gateway's own events as CloudEvents over Server-Sent Events, for the
// dashboard and for anyone without NATS at hand (curl -N, EventSource).
//
// One bus subscription per gateway feeds a ring of recent events and every connected client, so
// each event is wrapped once and carries the same id for everyone (the SSE `id:`, which an
// EventSource sends back as Last-Event-ID when it reconnects: the gap is replayed from the ring).
// A client that does not read is never allowed to hold the gateway back: past a bound its events
// are dropped and it is told how many. Heartbeat comments keep proxies from closing an idle
// stream; a client leaving (or the gateway shutting down) unhooks it at once.
//
//   ?types=fallback.taken,breaker.*   only these types (exact, category.* or a bare category)
//   ?provider=openai                  only events about this provider (fallbacks away included)
//   ?replay=N                         first the last N matching events from the ring (max: ring size)
import type { Context } from "hono";
import type { GatewayEvent } from "../events/catalogue.ts";
import { type CloudEvent, toCloudEvent } from "../events/envelope.ts";
import { concernsProvider, FilterError, typeMatcher } from "../events/filter.ts";
import type { EventFeed, Gateway } from "../gateway.ts";
import { Ring } from "../lib/ring.ts";
import { errorResponse } from "./errors.ts";
import { callSignal } from "./signal.ts";

export interface EventsRelayOptions {
  /** Comment line sent when nothing else was, so idle connections stay open (default 15 s). */
  heartbeatMs?: number;
  /** Recent events kept for ?replay and Last-Event-ID (default 500). */
  backlog?: number;
  /** Chunks queued for one slow client before its events are dropped (default 1000). */
  maxQueued?: number;
  /** EventSource reconnect delay sent to clients (default 2000 ms). */
  retryMs?: number;
}

export interface EventsRelay {
  handler(c: Context): Response;
  /** Connected SSE clients. */
  clients(): number;
  /** Ends every stream and leaves the bus. */
  close(): void;
}

interface Client {
  offer(ce: CloudEvent): void;
  end(): void;
}

type Stamped = [GatewayEvent, { id: string; instance: string }];

/**
 * A feed whose log is kept elsewhere (the main thread, under workers: src/workers/), read on
 * demand: `subscribe` follows it (live events only while subscribed, so the relay subscribes only
 * while a client is connected) and `recent` reads its newest entries for replays and resumes.
 */
export interface SharedEventLog extends EventFeed {
  /** The newest `n` entries, oldest first (entries also delivered live may be among them). */
  recent(n: number): Promise<Stamped[]>;
}

const isShared = (f: EventFeed | undefined): f is SharedEventLog =>
  typeof (f as Partial<SharedEventLog> | undefined)?.recent === "function";

const encoder = new TextEncoder();
const frame = (ce: CloudEvent) => encoder.encode(`id: ${ce.id}\ndata: ${JSON.stringify(ce)}\n\n`);
const comment = (text: string) => encoder.encode(`: ${text}\n\n`);

export function createEventsRelay(gw: Gateway, opts: EventsRelayOptions = {}): EventsRelay {
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const backlog = Math.max(0, opts.backlog ?? 500);
  const maxQueued = Math.max(1, opts.maxQueued ?? 1_000);
  const retryMs = opts.retryMs ?? 2_000;
  const { ids, config } = gw.deps;
  // Events are kept raw and wrapped only when a client needs them: with nobody watching, the
  // relay costs one array push per event instead of an envelope and an id on the hot path.
  // Under workers (src/workers/) the log is the main thread's (a SharedEventLog): every worker's
  // events, each with its id and source already given there, so all workers relay the same ids.
  type Stamp = { id: string; instance: string };
  // The newest events, oldest first: the wrapped ones, then the `pending` newest still raw (an
  // event, or an event with its stamp when the feed gave one).
  const ring = new Ring<CloudEvent | GatewayEvent | Stamped>(backlog);
  let pending = 0;
  const clients = new Set<Client>();
  const wrap = (event: GatewayEvent, stamp: Stamp | undefined) =>
    stamp
      ? toCloudEvent(event, stamp.id, stamp.instance)
      : toCloudEvent(event, ids.next(), config.instance);
  const wrapPending = () => {
    // In arrival order, so ids (time-ordered) stay in event order for Last-Event-ID resumes.
    for (let i = ring.size - pending; i < ring.size; i++) {
      const entry = ring.at(i) as GatewayEvent | Stamped;
      ring.set(i, Array.isArray(entry) ? wrap(entry[0], entry[1]) : wrap(entry, undefined));
    }
    pending = 0;
  };

  const take = (event: GatewayEvent, stamp?: Stamp) => {
    if (clients.size === 0) {
      ring.push(stamp ? [event, stamp] : event);
      pending = Math.min(pending + 1, ring.size);
      return;
    }
    wrapPending();
    const ce = wrap(event, stamp);
    ring.push(ce);
    for (const c of clients) c.offer(ce);
  };
  // A shared log is followed only while someone watches, and each event is wrapped once.
  const shared = isShared(gw.deps.feed) ? gw.deps.feed : undefined;
  let following: (() => void) | undefined;
  const takeShared = (event: GatewayEvent, stamp: Stamp) => {
    const ce = wrap(event, stamp);
    for (const c of clients) c.offer(ce);
  };
  const follow = (on: boolean) => {
    if (on && !following) following = shared!.subscribe(takeShared);
    else if (!on && following && clients.size === 0) {
      following();
      following = undefined;
    }
  };
  const unsubscribe = shared
    ? () => follow(false)
    : gw.deps.feed
    ? gw.deps.feed.subscribe(take)
    : gw.deps.bus.subscribe((event) => take(event));

  function handler(c: Context): Response {
    const q = new URL(c.req.url).searchParams;
    const filters: ((ce: CloudEvent) => boolean)[] = [];
    const types = q.get("types");
    if (types !== null) {
      try {
        filters.push(typeMatcher(types));
      } catch (err) {
        if (!(err instanceof FilterError)) throw err;
        return errorResponse(400, err.message, "invalid_request_error", "invalid_types", {
          param: "types",
        });
      }
    }
    const provider = q.get("provider");
    if (provider !== null) {
      if (!/^[a-z0-9_-]+$/.test(provider)) {
        return errorResponse(
          400,
          `provider "${provider}": provider ids are lowercase [a-z0-9_-]`,
          "invalid_request_error",
          "invalid_provider",
          { param: "provider" },
        );
      }
      filters.push((ce) => concernsProvider(ce, provider));
    }
    const replayParam = q.get("replay");
    const replay = replayParam === null ? 0 : Number(replayParam);
    if (!Number.isInteger(replay) || replay < 0) {
      return errorResponse(
        400,
        `replay must be a whole number of events, got "${replayParam}"`,
        "invalid_request_error",
        "invalid_replay",
        { param: "replay" },
      );
    }
    const wanted = (ce: CloudEvent) => filters.every((f) => f(ce));
    wrapPending();
    // An EventSource reconnecting says where it stopped; ids are time-ordered strings.
    const lastId = c.req.header("last-event-id");
    const pick = (all: CloudEvent[]) =>
      lastId
        ? all.filter((ce) => ce.id > lastId && wanted(ce))
        : replay > 0
        ? all.filter(wanted).slice(-replay)
        : [];
    const history = shared ? [] : pick(ring.toArray() as CloudEvent[]);
    // From a shared log the history comes by call, asked for only once this client follows the
    // live events (so nothing can fall between the two): live events wait behind it, and those
    // it already holds (ids up to its newest) are not sent twice.
    const backfill = shared !== undefined && (Boolean(lastId) || replay > 0);

    const signal = callSignal(c);
    let client: Client | undefined;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    const cleanup = () => {
      if (client) clients.delete(client);
      if (shared) follow(false);
      clearInterval(heartbeat);
      signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => client?.end();

    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let dropped = 0;
        let sentSince = false; // anything sent since the last heartbeat tick
        let open = true;
        let waiting: CloudEvent[] | undefined = backfill ? [] : undefined;
        const push = (chunk: Uint8Array) => {
          controller.enqueue(chunk);
          sentSince = true;
        };
        client = {
          offer(ce) {
            if (!open || !wanted(ce)) return;
            if (waiting) return void waiting.push(ce);
            if ((controller.desiredSize ?? 0) <= -maxQueued) {
              dropped++;
              return;
            }
            if (dropped > 0) {
              push(comment(`dropped ${dropped} events: this client read too slowly`));
              dropped = 0;
            }
            push(frame(ce));
          },
          end() {
            if (!open) return;
            open = false;
            cleanup();
            try {
              controller.close();
            } catch { /* already closed or cancelled */ }
          },
        };
        push(encoder.encode(`retry: ${retryMs}\n: gateway ${config.instance} events\n\n`));
        for (const ce of history) push(frame(ce));
        clients.add(client);
        if (shared) follow(true);
        const fetched = backfill
          ? shared!.recent(backlog).then((items) => items.map(([e, s]) => wrap(e, s)))
          : undefined;
        fetched?.then(
          (all) => {
            if (!open) return;
            for (const ce of pick(all)) push(frame(ce));
            const newest = all.at(-1)?.id;
            const live = waiting!;
            waiting = undefined;
            for (const ce of live) if (newest === undefined || ce.id > newest) client!.offer(ce);
          },
          () => client?.end(),
        );
        heartbeat = setInterval(() => {
          if (!sentSince && (controller.desiredSize ?? 0) > 0) push(comment("heartbeat"));
          sentSince = false;
        }, heartbeatMs);
        if (signal.aborted) client.end();
        else signal.addEventListener("abort", onAbort, { once: true });
      },
      cancel() {
        client?.end();
      },
    }, { highWaterMark: 1 });

    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  }

  return {
    handler,
    clients: () => clients.size,
    close() {
      unsubscribe();
      for (const c of [...clients]) c.end();
    },
  };
}

/** The route handler mounted by createApp. */
export function eventsSse(gw: Gateway, opts?: EventsRelayOptions): (c: Context) => Response {
  return createEventsRelay(gw, opts).handler;
}
