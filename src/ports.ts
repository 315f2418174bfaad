// The edges of the gateway. Everything that touches time, randomness, the network or NATS sits
// behind one of these so the deciders stay pure and tests can swap in fakes.
import type { GatewayEvent } from "./events/catalogue.ts";

/** Wall-clock milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** Time-ordered unique ids (used as CloudEvents id and JetStream Nats-Msg-Id). */
export interface IdGen {
  next(): string;
}

/** A uniform random number in [0, 1). Injected so weighted choice and jitter are testable. */
export type Random = () => number;

/** Following the other replicas (src/events/follow_replicas.ts). */
export interface ReplicaStats {
  /** Other replicas' state events folded into the provider actors. */
  folded: number;
  /** Messages in the stream dropped as malformed or of an unknown type. */
  rejected: number;
}

export interface BusStats {
  published: number;
  dropped: number;
  buffered: number;
  connected: boolean;
}

/** What /readyz reports of the events: the bus's counts and, with NATS, the replicas'. */
export interface ProcessEventStats {
  bus: BusStats;
  replicas?: ReplicaStats;
}

/**
 * Where every domain event goes. `publish` must never throw nor block the caller: implementations
 * buffer and flush asynchronously, counting whatever they had to drop.
 */
export interface EventBus {
  readonly kind: "memory" | "nats";
  /** Human-readable description for start-up lines, e.g. "NATS ws://127.0.0.1:8080 (stream GATEWAY_EVENTS)". */
  readonly describe: string;
  publish(event: GatewayEvent): void;
  /** Local fan-out of every published event, in publish order (metrics, SSE relays, tests). */
  subscribe(listener: (event: GatewayEvent) => void): () => void;
  stats(): BusStats;
  /** Flush what is buffered (bounded wait) and release connections. */
  close(): Promise<void>;
}

/**
 * The only door to upstream HTTP; tests may substitute it. It takes what `fetch` takes rather
 * than a Request: fetch builds its own Request from its arguments, so a prebuilt one would be
 * built twice on every attempt.
 */
export interface ProviderHttp {
  fetch(url: string, init: RequestInit & { signal: AbortSignal }): Promise<Response>;
}
