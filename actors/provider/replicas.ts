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

/** The lease of one opening of one provider: the same name on every replica that folded it. */
export function leaseKey(provider: string, episode: number): string {
  return `${provider}.${Math.floor(episode)}`;
}

/** One provider actor's view of its leases: at most one opening at a time matters. */
export interface LeaseKeeper {
  /** Does this replica hold the lease of `episode` at `now`? */
  held(episode: number, now: number): boolean;
  /**
   * Asks for the lease of `episode` unless it is already held, being asked for, or known to be
   * another replica's until a time still to come. Resolves to whether this replica holds it.
   */
  request(episode: number, now: number): Promise<boolean>;
}

interface Lease {
  episode: number;
  state: "asking" | "held" | "theirs";
  until: number;
  answer: Promise<boolean>;
}

export function createLeaseKeeper(
  provider: string,
  leases: ProbeLeases,
  ttlMs: number,
): LeaseKeeper {
  let lease: Lease | undefined;
  const current = (episode: number, now: number) =>
    lease?.episode === episode && (lease.state === "asking" || now < lease.until)
      ? lease
      : undefined;
  return {
    held(episode, now) {
      return current(episode, now)?.state === "held";
    },
    request(episode, now) {
      const known = current(episode, now);
      if (known) return known.answer;
      const asked: Lease = {
        episode,
        state: "asking",
        until: now + ttlMs,
        answer: leases.acquire(leaseKey(provider, episode), ttlMs).then((grant) => {
          asked.state = grant.won ? "held" : "theirs";
          asked.until = grant.until;
          return grant.won;
        }),
      };
      lease = asked;
      return asked.answer;
    },
  };
}
