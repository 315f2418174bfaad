// Replicas on one NATS share each provider's half-open probe slots: only the replica holding the
// probe lease of an opening sends probes, so recovery is tested with `halfOpenProbes` calls, not
// that many per replica. Taking a lease is an effect (a NATS KV round trip), so it lives here in
// the actor shell; the decider only sees the answer as `probeLease` on its commands.

/** What the shared store answered: who may probe, and until when that answer holds. */
export interface LeaseGrant {
  /** True when this replica holds the lease. */
  won: boolean;
  /** When the lease ends (ours, or the holder's: ask again after it). */
  until: number;
}

/** The port to the shared store (NATS KV in src/events/probe_leases.ts). */
export interface ProbeLeases {
  /**
   * Takes the lease named `key` for `ttlMs`, unless another replica holds it and it has not
   * ended. Never rejects: an unreachable store is answered locally (see the implementation).
   */
  acquire(key: string, ttlMs: number): Promise<LeaseGrant>;
}

/**
 * The lease of one opening (an `episodeKey`: its until, and the model for a model's breaker):
 * the same name on every replica that folded it.
 */
export function leaseKey(provider: string, episode: string): string {
  return `${provider}.${episode}`;
}

/**
 * How long a lease taken ahead of any request lasts (as the open time ends, or after a replay):
 * long enough for this replica's next request to be the probe, short enough that a replica whose
 * traffic has gone elsewhere (another replica, another worker) does not keep the one with the
 * traffic from probing for a whole attempt's length (the lease a request asks for).
 */
export const CLAIM_LEASE_MS = 2_000;

/** One provider actor's view of its leases: one per opening (provider-wide or a model's). */
export interface LeaseKeeper {
  /** Does this replica hold the lease of `episode` at `now`? */
  held(episode: string, now: number): boolean;
  /** The openings whose lease this replica holds at `now`. */
  heldSet(now: number): ReadonlySet<string>;
  /**
   * Asks for the lease of `episode` unless it is already held, being asked for, or known to be
   * another replica's until a time still to come. Resolves to whether this replica holds it.
   * `ttlMs` shortens the lease (CLAIM_LEASE_MS when no request is in hand).
   */
  request(episode: string, now: number, ttlMs?: number): Promise<boolean>;
}

interface Lease {
  episode: string;
  state: "asking" | "held" | "theirs";
  until: number;
  answer: Promise<boolean>;
}

export function createLeaseKeeper(
  provider: string,
  leases: ProbeLeases,
  ttlMs: number,
): LeaseKeeper {
  const byEpisode = new Map<string, Lease>();
  const live = (l: Lease | undefined, now: number) =>
    l && (l.state === "asking" || now < l.until) ? l : undefined;
  const current = (episode: string, now: number) => live(byEpisode.get(episode), now);
  return {
    held(episode, now) {
      return current(episode, now)?.state === "held";
    },
    heldSet(now) {
      const out = new Set<string>();
      for (const l of byEpisode.values()) {
        if (l.state === "held" && now < l.until) out.add(l.episode);
      }
      return out;
    },
    request(episode, now, ttl = ttlMs) {
      const known = current(episode, now);
      if (known) return known.answer;
      // Ended leases are forgotten, so the map holds only openings still in play.
      for (const [k, l] of byEpisode) if (!live(l, now)) byEpisode.delete(k);
      const asked: Lease = {
        episode,
        state: "asking",
        until: now + ttl,
        answer: leases.acquire(leaseKey(provider, episode), ttl).then((grant) => {
          asked.state = grant.won ? "held" : "theirs";
          asked.until = grant.until;
          return grant.won;
        }),
      };
      byEpisode.set(episode, asked);
      return asked.answer;
    },
  };
}
