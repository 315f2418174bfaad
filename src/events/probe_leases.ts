// Shared half-open probe leases in a NATS KV bucket. One key per opening of a provider
// (`<provider>.<until>`: every replica folded the same breaker.opened, so they name it alike),
// its value `{holder, until}`. Taking it is an atomic create-if-absent (`kv.create`); a lease
// whose holder let it run out is taken over with a compare-and-set on its revision
// (`kv.update`), so exactly one replica wins either way. The bucket's max age only clears old
// keys away. If NATS cannot answer, the replica probes on its own (fail open): recovery must
// not wait on NATS, at the price of one probe per replica while NATS is down.
import type { NatsConnection } from "@nats-io/nats-core";
import { JetStreamApiCodes, JetStreamApiError, StorageType } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { LeaseGrant, ProbeLeases } from "../../actors/provider/mod.ts";
import type { Logger } from "../lib/logger.ts";
import type { Clock } from "../ports.ts";

/** What a lease key holds. */
export interface LeaseValue {
  holder: string;
  until: number;
}

/** The bucket for a stream's gateways, e.g. GATEWAY_EVENTS_probes. */
export const leaseBucketName = (stream: string) => `${stream}_probes`;

/** Old keys are cleared after this (leases last the probe timeout: far less). */
export const LEASE_BUCKET_TTL_MS = 3_600_000;

/**
 * Creates the bucket if missing (or opens it). Replicas starting together may race to create
 * it: the loser's create fails, and opening the winner's bucket is then the right answer.
 */
export async function openLeaseBucket(
  nc: NatsConnection,
  stream: string,
  replicas = 1,
): Promise<KV> {
  const open = () =>
    new Kvm(nc).create(leaseBucketName(stream), {
      history: 1,
      ttl: LEASE_BUCKET_TTL_MS,
      storage: StorageType.Memory,
      replicas,
      timeout: 2_000, // a request that long unanswered: probe alone (see acquire)
    });
  try {
    return await open();
  } catch {
    return await open();
  }
}

/** Whose is a stored lease at `now`: ours, another live holder's, or free to take over. */
export function leaseOwner(
  current: LeaseValue | undefined,
  instance: string,
  now: number,
): "mine" | "theirs" | "free" {
  if (!current || !(current.until > now)) return "free";
  return current.holder === instance ? "mine" : "theirs";
}

function parseLease(text: string): LeaseValue | undefined {
  try {
    const v = JSON.parse(text);
    return typeof v?.holder === "string" && typeof v?.until === "number" ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Another writer got there first (create on a live key, update on a stale revision). */
const lostRace = (err: unknown) =>
  err instanceof JetStreamApiError &&
  (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
    err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);

export interface KvProbeLeasesOptions {
  /** The bucket, once NATS is reachable; undefined until then (then every lease is granted). */
  bucket(): KV | undefined;
  instance: string;
  clock: Clock;
  logger: Logger;
}

export function createKvProbeLeases(o: KvProbeLeasesOptions): ProbeLeases & {
  /** Grants made without NATS (fail open), for tests and the log. */
  readonly local: number;
} {
  let local = 0;
  let warned = false;
  const alone = (ttlMs: number, why: string): LeaseGrant => {
    local++;
    if (!warned) {
      warned = true;
      o.logger.warn("probe lease store unavailable; probing without coordinating replicas", {
        error: why,
      });
    }
    return { won: true, until: o.clock.now() + ttlMs };
  };

  const take = async (kv: KV, key: string, ttlMs: number): Promise<LeaseGrant> => {
    const now = o.clock.now();
    const mine: LeaseValue = { holder: o.instance, until: now + ttlMs };
    const value = JSON.stringify(mine);
    try {
      await kv.create(key, value);
      return { won: true, until: mine.until };
    } catch (err) {
      if (!lostRace(err)) throw err;
    }
    // Someone holds or held it: theirs while it runs, then whoever swaps the revision first.
    for (let round = 0; round < 3; round++) {
      const entry = await kv.get(key);
      if (!entry || entry.operation !== "PUT") {
        try {
          await kv.create(key, value);
          return { won: true, until: mine.until };
        } catch (err) {
          if (!lostRace(err)) throw err;
          continue;
        }
      }
      const current = parseLease(entry.string());
      const owner = leaseOwner(current, o.instance, now);
      if (owner !== "free") return { won: owner === "mine", until: current!.until };
      try {
        await kv.update(key, value, entry.revision);
        return { won: true, until: mine.until };
      } catch (err) {
        if (!lostRace(err)) throw err;
      }
    }
    // Contended three times over: leave it to the others for one lease's length.
    return { won: false, until: now + ttlMs };
  };

  return {
    get local() {
      return local;
    },
    async acquire(key, ttlMs) {
      const kv = o.bucket();
      if (!kv) return alone(ttlMs, "NATS not connected");
      try {
        const grant = await take(kv, key, ttlMs);
        if (warned) o.logger.info("probe lease store reachable again");
        warned = false;
        return grant;
      } catch (err) {
        return alone(ttlMs, err instanceof Error ? err.message : String(err));
      }
    },
  };
}
