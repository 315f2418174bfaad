// The events stream's configuration, in one place: what the bus creates and what start-up checks.
// The stream is the audit trail, so it is created immutable (no message deletes, no purges; a
// server refuses to turn either back on) and with the replicas a cluster asks for.
import { nanos } from "@nats-io/nats-core";
import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from "@nats-io/jetstream";

const DUPLICATE_WINDOW_MS = 2 * 60_000;

export interface EventsStreamOptions {
  stream: string;
  maxAgeMs: number;
  maxBytes?: number;
  storage?: "file" | "memory";
  replicas?: number;
}

export function eventsStreamConfig(o: EventsStreamOptions): Partial<StreamConfig> & {
  name: string;
} {
  return {
    name: o.stream,
    subjects: ["gateway.>"],
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    storage: o.storage === "memory" ? StorageType.Memory : StorageType.File,
    max_age: nanos(o.maxAgeMs),
    max_bytes: o.maxBytes ?? -1,
    duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, o.maxAgeMs)),
    num_replicas: o.replicas ?? 1,
    deny_delete: true,
    deny_purge: true,
  };
}

/** Why an existing stream is not an audit trail (deletes or purges allowed), with the fix. */
export function mutableStreamProblem(
  c: Pick<StreamConfig, "name" | "deny_delete" | "deny_purge">,
): string | undefined {
  const allowed = [!c.deny_delete && "message deletes", !c.deny_purge && "purges"].filter(Boolean);
  if (allowed.length === 0) return undefined;
  return `JetStream stream ${c.name} allows ${allowed.join(" and ")}, so its events are not ` +
    `an immutable audit trail. Fix: update the stream with deny_delete and deny_purge set to ` +
    `true (with the nats CLI's \`nats stream edit ${c.name}\` or any client's stream update; ` +
    `the server never lets them be turned off again), or accept it with nats.allowMutableStream: true ` +
    `(NATS_ALLOW_MUTABLE_STREAM=1).`;
}
