// Half-open probe leases shared by the workers of one process (no NATS): the main thread keeps
// the table, so exactly one worker probes each opening — what the NATS KV bucket does between
// replicas (src/events/probe_leases.ts), with the same ownership rule.
import type { LeaseGrant } from "../../actors/provider/mod.ts";
import { leaseOwner, type LeaseValue } from "../events/probe_leases.ts";
import type { Clock } from "../ports.ts";

export interface LeaseTable {
  acquire(holder: string, key: string, ttlMs: number): LeaseGrant;
  readonly size: number;
}

export function createLeaseTable(clock: Clock): LeaseTable {
  const leases = new Map<string, LeaseValue>();
  return {
    acquire(holder, key, ttlMs) {
      const now = clock.now();
      const current = leases.get(key);
      const owner = leaseOwner(current, holder, now);
      if (owner !== "free") return { won: owner === "mine", until: current!.until };
      // Ended leases are dropped as they are taken over or as the table grows.
      if (leases.size > 1_000) {
        for (const [k, v] of leases) if (!(v.until > now)) leases.delete(k);
      }
      const mine = { holder, until: now + ttlMs };
      leases.set(key, mine);
      return { won: true, until: mine.until };
    },
    get size() {
      return leases.size;
    },
  };
}
