import assert from "node:assert/strict";
import type { EventOf, GatewayEvent } from "../../../src/events/catalogue.ts";
import {
  type Outcome,
  type ProviderActor,
  type ProviderActorConfig,
  spawnProviderActor,
} from "../../../actors/provider/mod.ts";

const T = Date.UTC(2025, 0, 2, 3, 4, 5, 0);
const iso = (t: number) => new Date(t).toISOString();

function config(over: Partial<ProviderActorConfig["breaker"]> = {}): ProviderActorConfig {
  return {
    id: "openai",
    keys: [{ id: "a", weight: 1 }, { id: "b", weight: 1 }],
    breaker: {
      failureRateThreshold: 0.5,
      minimumRequests: 4,
      windowMs: 60_000,
      openMs: 10_000,
      maxOpenMs: 60_000,
      halfOpenProbes: 2,
      probeLeaseMs: 30_000,
      ...over,
    },
    rateLimit: { rpm: 10, tpm: 1_000 },
    modelCooldownMs: 300_000,
    defaultRetryAfterMs: 7_000,
  };
}

/** Runs one attempt through the actor: admit, then report `outcome` on whatever was started. */
function attempt(actor: ProviderActor, n: number, now: number, outcome: Outcome, model = "gpt-4o") {
  const ref = { requestId: `req-${n}`, attempt: 1, model };
  const admitted = actor.ask({ kind: "admit", now, estTokens: 100, rand: 0, ...ref });
  const started = admitted.find((e): e is EventOf<"attempt.started"> =>
    e.type === "attempt.started"
  );
  if (!started) return admitted;
  return [
    ...admitted,
    ...actor.ask({
      kind: "report",
      now,
      key: started.key,
      probe: started.probe,
      reservedTokens: started.reservedTokens,
      outcome,
      rand: 0.5,
      ...ref,
    }),
  ];
}
const ok: Outcome = { type: "success", status: 200, latencyMs: 100 };
const fail = (
  kind: "transient" | "rate_limit" | "model_unavailable" | "quota",
  retryAfterMs?: number,
): Outcome => ({
  type: "failure",
  failure: { kind, status: 503, message: kind, retryAfterMs },
  latencyMs: 50,
});

/** Polls (every 5 ms, at most `ms`) for something a timer does. */
async function eventually(cond: () => boolean, what: string, ms = 2_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("snapshot: breaker, per-key buckets and blocks, unavailable models", () => {
  let now = T;
  const published: GatewayEvent[] = [];
  const actor = spawnProviderActor(config(), {
    clock: { now: () => now },
    publish: (e) => published.push(e),
  });
  try {
    assert.deepEqual(actor.snapshot(T), {
      provider: "openai",
      breaker: {
        state: "closed",
        failureRate: 0,
        samples: 0,
        openUntil: null,
        reopenCount: 0,
        probesInFlight: 0,
      },
      keys: [
        { key: "a", requestsLeft: 10, tokensLeft: 1_000, blockedUntil: null },
        { key: "b", requestsLeft: 10, tokensLeft: 1_000, blockedUntil: null },
      ],
      unavailableModels: [],
    });
    attempt(actor, 1, T, ok); // key a (rand 0)
    attempt(actor, 2, T, ok);
    attempt(actor, 3, T, fail("transient"));
    attempt(actor, 4, T, fail("rate_limit", 20_000)); // blocks a
    attempt(actor, 5, T, fail("model_unavailable"), "gpt-5"); // on b
    assert.deepEqual(actor.snapshot(T + 1_000), {
      provider: "openai",
      breaker: {
        state: "closed",
        failureRate: 0.333, // 1 of 3 counted samples; the 429 and the 404 are not samples
        samples: 3,
        openUntil: null,
        reopenCount: 0,
        probesInFlight: 0,
      },
      keys: [
        // 4 requests at T, one refilled per 6 s: 6 + 1000/6000; tokens likewise.
        { key: "a", requestsLeft: 6, tokensLeft: 616, blockedUntil: iso(T + 20_000) },
        { key: "b", requestsLeft: 9, tokensLeft: 916, blockedUntil: null },
      ],
      unavailableModels: [{ model: "gpt-5", until: iso(T + 300_000) }],
    });
    // Past the block and the cooldown they disappear from the snapshot.
    const later = actor.snapshot(T + 400_000);
    assert.equal(later.keys[0].blockedUntil, null);
    assert.equal(later.keys[0].requestsLeft, 10, "capped at rpm");
    assert.deepEqual(later.unavailableModels, []);

    // Open it, then take one probe.
    now = T + 2_000;
    for (let n = 10; n < 14; n++) attempt(actor, n, now, fail("transient"));
    const opened = published.find((e) => e.type === "breaker.opened") as EventOf<"breaker.opened">;
    assert.ok(opened);
    assert.deepEqual(actor.snapshot(now).breaker, {
      state: "open",
      failureRate: 0,
      samples: 0,
      openUntil: iso(opened.until),
      reopenCount: 0,
      probesInFlight: 0,
    });
    now = opened.until;
    actor.ask({
      kind: "admit",
      now,
      estTokens: 10,
      rand: 0.9,
      requestId: "probe",
      attempt: 1,
      model: "gpt-4o",
    });
    assert.deepEqual(actor.snapshot(now).breaker, {
      state: "half_open",
      failureRate: 0,
      samples: 0,
      openUntil: null,
      reopenCount: 0,
      probesInFlight: 1,
    });
    assert.equal(actor.snapshot(now + 30_000).breaker.probesInFlight, 0, "lease expired");
    assert.equal(actor.id, "openai");
  } finally {
    actor.stop();
  }
});

Deno.test("snapshot shows null buckets for unlimited keys", () => {
  const cfg = { ...config(), rateLimit: { rpm: 0, tpm: 0 } };
  const actor = spawnProviderActor(cfg, { clock: { now: () => T }, publish() {} });
  try {
    assert.deepEqual(actor.snapshot(T).keys[0], {
      key: "a",
      requestsLeft: null,
      tokensLeft: null,
      blockedUntil: null,
    });
  } finally {
    actor.stop();
  }
});

Deno.test("without traffic, the wake-up timer publishes breaker.half_opened after openMs", async () => {
  const published: GatewayEvent[] = [];
  const actor = spawnProviderActor(config({ openMs: 30, maxOpenMs: 1_000 }), {
    clock: { now: () => Date.now() },
    publish: (e) => published.push(e),
  });
  try {
    const start = Date.now();
    for (let n = 0; n < 4; n++) attempt(actor, n, start, fail("transient"));
    const opened = published.find((e) => e.type === "breaker.opened") as EventOf<"breaker.opened">;
    assert.equal(opened?.openMs, 30);
    assert.equal(actor.state().breaker.status, "open");
    await eventually(() => published.some((e) => e.type === "breaker.half_opened"), "half_opened");
    const half = published.find((e) => e.type === "breaker.half_opened")!;
    assert.ok(half.at >= opened.until, "not announced before the open time is over");
    assert.equal(actor.state().breaker.status, "half_open");
    assert.equal(published.at(-1), half, "announced once; nothing else happened");
  } finally {
    actor.stop();
  }
});

Deno.test("with shared leases, a wake-up that fires a fraction early still half-opens", async () => {
  // Timers round to whole milliseconds and may fire just before the armed moment: the first
  // clock read after the breaker opened answers half a millisecond before its open time ends.
  let early: number | undefined;
  const published: GatewayEvent[] = [];
  const actor = spawnProviderActor(config({ openMs: 30, maxOpenMs: 1_000 }), {
    clock: {
      now() {
        const t = early;
        early = undefined;
        return t ?? Date.now();
      },
    },
    publish: (e) => published.push(e),
    leases: { acquire: (_key, ttlMs) => Promise.resolve({ won: true, until: Date.now() + ttlMs }) },
  });
  try {
    const start = Date.now();
    for (let n = 0; n < 4; n++) attempt(actor, n, start, fail("transient"));
    const opened = published.find((e) => e.type === "breaker.opened") as EventOf<"breaker.opened">;
    early = opened.until - 0.5;
    await eventually(() => published.some((e) => e.type === "breaker.half_opened"), "half_opened");
    assert.equal(actor.state().breaker.status, "half_open");
  } finally {
    actor.stop();
  }
});

Deno.test("without traffic, the wake-up timer announces a key's refill after its Retry-After", async () => {
  const published: GatewayEvent[] = [];
  const actor = spawnProviderActor(config(), {
    clock: { now: () => Date.now() },
    publish: (e) => published.push(e),
  });
  try {
    attempt(actor, 1, Date.now(), fail("rate_limit", 30));
    const blocked = published.find((e) => e.type === "ratelimit.blocked")!;
    await eventually(() => published.some((e) => e.type === "ratelimit.refilled"), "refilled");
    const refilled = published.find((e) => e.type === "ratelimit.refilled")!;
    assert.ok(blocked.type === "ratelimit.blocked" && refilled.at >= blocked.until);
    assert.deepEqual(
      [
        refilled.type === "ratelimit.refilled" && refilled.key,
        actor.state().limiters.a.blockedUntil,
      ],
      ["a", 0],
    );
  } finally {
    actor.stop();
  }
});

Deno.test("stop() cancels the pending wake-up: no tick, no clock read, no event afterwards", async () => {
  let reads = 0;
  const published: GatewayEvent[] = [];
  const actor = spawnProviderActor(config({ openMs: 20, maxOpenMs: 1_000 }), {
    clock: {
      now: () => {
        reads++;
        return Date.now();
      },
    },
    publish: (e) => published.push(e),
  });
  const start = Date.now();
  for (let n = 0; n < 4; n++) attempt(actor, n, start, fail("transient"));
  assert.equal(actor.state().breaker.status, "open");
  actor.stop();
  const readsAtStop = reads;
  const count = published.length;
  await new Promise((r) => setTimeout(r, 80)); // four times the open time
  assert.equal(reads, readsAtStop, "the timer never fired");
  assert.equal(published.length, count);
  assert.equal(actor.state().breaker.status, "open");
  assert.throws(() => attempt(actor, 9, Date.now(), ok), /stopped/);
});

Deno.test("hydrate folds history silently and arms the wake-up from it", async () => {
  const published: GatewayEvent[] = [];
  const actor = spawnProviderActor(config(), {
    clock: { now: () => Date.now() },
    publish: (e) => published.push(e),
  });
  try {
    const at = Date.now();
    actor.hydrate([{
      type: "breaker.opened",
      at,
      provider: "openai",
      reason: "failure_rate",
      openMs: 30,
      until: at + 30,
      failureRate: 1,
      samples: 4,
      reopenCount: 0,
    }]);
    assert.equal(actor.state().breaker.status, "open");
    assert.equal(published.length, 0, "replayed events are not published again");
    await eventually(() => published.length > 0, "half_opened after hydrate");
    assert.deepEqual(published.map((e) => e.type), ["breaker.half_opened"]);
  } finally {
    actor.stop();
  }
});

Deno.test("stopped from inside a timer-driven event's listener, the actor stays quiet", async () => {
  // The tick's events are published while the wake-up is being re-armed: a subscriber that
  // stops the actor then (shutdown, provider removed) must not leave a timer that keeps firing.
  let reads = 0;
  let readsAtStop = -1;
  const at = Date.now();
  const actor: ProviderActor = spawnProviderActor(config({ openMs: 20 }), {
    clock: {
      now: () => {
        reads++;
        return Date.now();
      },
    },
    publish(e) {
      if (e.type !== "breaker.half_opened") return;
      actor.stop();
      readsAtStop = reads;
    },
  });
  actor.hydrate([
    // Still blocked after the breaker half-opens: there is a next wake-up to (not) arm.
    {
      type: "ratelimit.blocked",
      at,
      provider: "openai",
      key: "a",
      reason: "retry_after",
      until: at + 50,
    },
    {
      type: "breaker.opened",
      at,
      provider: "openai",
      reason: "failure_rate",
      openMs: 20,
      until: at + 20,
      failureRate: 1,
      samples: 4,
      reopenCount: 0,
    },
  ]);
  await eventually(() => readsAtStop >= 0, "half_opened");
  await new Promise((r) => setTimeout(r, 120)); // well past the key's block
  assert.equal(reads, readsAtStop, "no wake-up after stop");
});

Deno.test("hydrate after stop arms no wake-up", async () => {
  let reads = 0;
  const actor = spawnProviderActor(config(), {
    clock: {
      now: () => {
        reads++;
        return Date.now();
      },
    },
    publish() {},
  });
  actor.stop();
  const at = Date.now();
  actor.hydrate([
    {
      type: "ratelimit.blocked",
      at,
      provider: "openai",
      key: "a",
      reason: "retry_after",
      until: at + 10,
    },
  ]);
  const before = reads;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(reads, before);
});
