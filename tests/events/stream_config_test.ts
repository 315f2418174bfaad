// The events stream's configuration (immutable audit trail: no deletes, no purges; the replicas
// asked for) and the refusal an existing mutable stream gets, naming what it allows and the fix.
import assert from "node:assert/strict";
import { DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { eventsStreamConfig, mutableStreamProblem } from "../../src/events/stream_config.ts";

const NS_PER_MS = 1_000_000;

Deno.test("eventsStreamConfig: an immutable, limits-retained stream over gateway.>", () => {
  assert.deepEqual(eventsStreamConfig({ stream: "GATEWAY_EVENTS", maxAgeMs: 3_600_000 }), {
    name: "GATEWAY_EVENTS",
    subjects: ["gateway.>"],
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    storage: StorageType.File,
    max_age: 3_600_000 * NS_PER_MS,
    max_bytes: -1,
    duplicate_window: 120_000 * NS_PER_MS,
    num_replicas: 1,
    deny_delete: true,
    deny_purge: true,
  });
});

Deno.test("eventsStreamConfig: replicas, max bytes and memory storage as asked", () => {
  const c = eventsStreamConfig({
    stream: "EV",
    maxAgeMs: 86_400_000,
    maxBytes: 1 << 30,
    storage: "memory",
    replicas: 3,
  });
  assert.equal(c.num_replicas, 3);
  assert.equal(c.max_bytes, 1 << 30);
  assert.equal(c.storage, StorageType.Memory);
  assert.equal(c.deny_delete, true, "replicated or not, still immutable");
  assert.equal(c.deny_purge, true);
  assert.equal(
    eventsStreamConfig({ stream: "EV", maxAgeMs: 1, storage: "file" }).storage,
    StorageType.File,
  );
});

Deno.test("eventsStreamConfig: the duplicate window never outlasts the stream's max age", () => {
  assert.equal(
    eventsStreamConfig({ stream: "EV", maxAgeMs: 30_000 }).duplicate_window,
    30_000 * NS_PER_MS,
  );
  assert.equal(
    eventsStreamConfig({ stream: "EV", maxAgeMs: 10 * 60_000 }).duplicate_window,
    120_000 * NS_PER_MS,
  );
});

Deno.test("mutableStreamProblem: none for a stream that denies deletes and purges", () => {
  assert.equal(
    mutableStreamProblem({ name: "EV", deny_delete: true, deny_purge: true }),
    undefined,
  );
  assert.equal(
    mutableStreamProblem(
      eventsStreamConfig({ stream: "EV", maxAgeMs: 1_000 }) as Parameters<
        typeof mutableStreamProblem
      >[0],
    ),
    undefined,
  );
});

Deno.test("mutableStreamProblem: names what the stream allows", () => {
  const both = mutableStreamProblem({ name: "EV", deny_delete: false, deny_purge: false });
  assert.match(both ?? "", /^JetStream stream EV allows message deletes and purges, so its events/);
  const deletes = mutableStreamProblem({ name: "EV", deny_delete: false, deny_purge: true });
  assert.match(deletes ?? "", /^JetStream stream EV allows message deletes, so/);
  const purges = mutableStreamProblem({ name: "EV", deny_delete: true, deny_purge: false });
  assert.match(purges ?? "", /^JetStream stream EV allows purges, so/);
});

Deno.test("mutableStreamProblem: the fix names the stream, the settings and the opt-out", () => {
  const said = mutableStreamProblem({ name: "AUDIT_1", deny_delete: false, deny_purge: true }) ??
    "";
  assert.ok(said.includes("not an immutable audit trail"), said);
  assert.ok(said.includes("deny_delete and deny_purge set to true"), said);
  assert.ok(said.includes("`nats stream edit AUDIT_1`"), said);
  assert.ok(said.includes("nats.allowMutableStream: true (NATS_ALLOW_MUTABLE_STREAM=1)."), said);
});

Deno.test("mutableStreamProblem: settings a server leaves out count as allowed", () => {
  // Stream info may leave false booleans out (omitempty): absent means allowed.
  const said = mutableStreamProblem({ name: "EV" } as never);
  assert.match(said ?? "", /allows message deletes and purges/);
});
