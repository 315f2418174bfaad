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
    quotaCooldownMs: 60_000,
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
  scope?: "provider",
): Outcome => ({
  type: "failure",
  failure: { kind, status: 503, message: kind, retryAfterMs, ...(scope && { scope }) },
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

const closedBreaker = {
  state: "closed",
  failureRate: 0,
  samples: 0,
  openUntil: null,
  reopenCount: 0,
  probesInFlight: 0,
};

Deno.test("snapshot: breakers per scope, per-key and per-(key, model) blocks, unavailable models", () => {
  let now = T;
  const published: GatewayEvent[] = [];
  const actor = spawnProviderActor(config(), {
    clock: { now: () => now },
    publish: (e) => published.push(e),
  });
  try {
    assert.deepEqual(actor.snapshot(T), {
      provider: "openai",
      breaker: closedBreaker,
      keys: [
        { key: "a", requestsLeft: 10, tokensLeft: 1_000, blockedUntil: null },
        { key: "b", requestsLeft: 10, tokensLeft: 1_000, blockedUntil: null },
      ],
      models: [],
      unavailableModels: [],
    });
    attempt(actor, 1, T, ok); // key a (rand 0)
    attempt(actor, 2, T, ok);
    attempt(actor, 3, T, fail("transient"));
    attempt(actor, 4, T, fail("rate_limit", 20_000)); // blocks (a, gpt-4o)
    attempt(actor, 5, T, fail("model_unavailable"), "gpt-5"); // still on a: not blocked for gpt-5
    assert.deepEqual(actor.snapshot(T + 1_000), {
      provider: "openai",
      // Provider-wide: only the successes count here (the 503 is gpt-4o's).
      breaker: { ...closedBreaker, samples: 2 },
      keys: [
        // 5 requests at T, one refilled per 6 s: 5 + 1000/6000; tokens likewise.
        { key: "a", requestsLeft: 5, tokensLeft: 516, blockedUntil: null },
        { key: "b", requestsLeft: 10, tokensLeft: 1_000, blockedUntil: null },
      ],
      models: [
        {
          model: "gpt-4o",
          // 1 of 3 counted samples; the 429 is not a sample.
          breaker: { ...closedBreaker, failureRate: 0.333, samples: 3 },
          unavailableUntil: null,
          // The 429 blocks (a, gpt-4o); no per-model limits configured: null buckets.
          keys: [{ key: "a", requestsLeft: null, tokensLeft: null, blockedUntil: iso(T + 20_000) }],
        },
        {
          model: "gpt-5",
          breaker: closedBreaker, // the 404 is not a sample
          unavailableUntil: iso(T + 300_000),
          keys: [],
        },
      ],
      unavailableModels: [{ model: "gpt-5", until: iso(T + 300_000) }],
    });
    // Past the block and the cooldown they disappear from the snapshot.
    const later = actor.snapshot(T + 400_000);
    assert.equal(later.keys[0].requestsLeft, 10, "capped at rpm");
    assert.equal(later.models[0].keys[0].blockedUntil, null);
    assert.equal(later.models[1].unavailableUntil, null);
    assert.deepEqual(later.unavailableModels, []);

    // Open gpt-4o's breaker (the first 503 makes 2 of 4), then take one probe.
    now = T + 2_000;
    for (let n = 10; n < 14; n++) attempt(actor, n, now, fail("transient"));
    const opened = published.find((e) => e.type === "breaker.opened") as EventOf<"breaker.opened">;
    assert.equal(opened.model, "gpt-4o");
    const openSnap = actor.snapshot(now);
    assert.deepEqual(openSnap.models[0].breaker, {
      state: "open",
      failureRate: 0,
      samples: 0,
      openUntil: iso(opened.until),
      reopenCount: 0,
      probesInFlight: 0,
    });
    assert.deepEqual(openSnap.breaker, { ...closedBreaker, samples: 2 }, "provider-wide: closed");
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
    assert.deepEqual(actor.snapshot(now).models[0].breaker, {
      state: "half_open",
      failureRate: 0,
      samples: 0,
      openUntil: null,
      reopenCount: 0,
      probesInFlight: 1,
    });
    assert.equal(actor.snapshot(now).breaker.probesInFlight, 0, "the slot is the model's");
    assert.equal(actor.snapshot(now + 30_000).models[0].breaker.probesInFlight, 0, "lease expired");
    assert.equal(actor.id, "openai");
  } finally {
    actor.stop();
  }
});

Deno.test("snapshot: per-model limits show each (key, model)'s buckets; quota shows on the key", () => {
  const cfg: ProviderActorConfig = {
    ...config(),
    rateLimit: { rpm: 0, tpm: 0, models: { "gpt-4o": { rpm: 4, tpm: 0 } } },
  };
  const actor = spawnProviderActor(cfg, { clock: { now: () => T }, publish() {} });
  try {
    attempt(actor, 1, T, ok); // (a, gpt-4o)
    attempt(actor, 2, T, ok);
    attempt(actor, 3, T, ok, "gpt-4o-mini"); // unlimited: no limiter, no entry
    attempt(actor, 4, T, fail("quota", 45_000), "gpt-4o-mini"); // key a, every model
    const snap = actor.snapshot(T);
    assert.deepEqual(snap.keys, [
      { key: "a", requestsLeft: null, tokensLeft: null, blockedUntil: iso(T + 45_000) },
      { key: "b", requestsLeft: null, tokensLeft: null, blockedUntil: null },
    ]);
    assert.deepEqual(snap.models, [
      {
        model: "gpt-4o",
        breaker: { ...closedBreaker, samples: 2 },
        unavailableUntil: null,
        keys: [{ key: "a", requestsLeft: 2, tokensLeft: null, blockedUntil: null }],
      },
      {
        model: "gpt-4o-mini",
        breaker: { ...closedBreaker, samples: 1 }, // the quota failure is no sample
        unavailableUntil: null,
        keys: [],
      },
    ]);
    // gpt-4o now goes to b: its (b, gpt-4o) bucket appears.
    attempt(actor, 5, T, ok);
    assert.deepEqual(actor.snapshot(T).models[0].keys, [
      { key: "a", requestsLeft: 2, tokensLeft: null, blockedUntil: null },
      { key: "b", requestsLeft: 3, tokensLeft: null, blockedUntil: null },
    ]);
    assert.equal(actor.snapshot(T).breaker.state, "closed", "quota trips no breaker");
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
  const cases: { name: string; outcome: Outcome; model?: string }[] = [
    { name: "gpt-4o's breaker (503s)", outcome: fail("transient"), model: "gpt-4o" },
    { name: "the provider-wide one (refused)", outcome: fail("transient", undefined, "provider") },
  ];
  for (const c of cases) {
    const published: GatewayEvent[] = [];
    const actor = spawnProviderActor(config({ openMs: 30, maxOpenMs: 1_000 }), {
      clock: { now: () => Date.now() },
      publish: (e) => published.push(e),
    });
    const status = () =>
      c.model ? actor.state().models[c.model].breaker.status : actor.state().breaker.status;
    try {
      const start = Date.now();
      for (let n = 0; n < 4; n++) attempt(actor, n, start, c.outcome);
      const opened = published.find((e) => e.type === "breaker.opened") as EventOf<
        "breaker.opened"
      >;
      assert.deepEqual([opened?.openMs, opened?.model], [30, c.model], c.name);
      assert.equal(status(), "open", c.name);
      await eventually(() => published.some((e) => e.type === "breaker.half_opened"), c.name);
      const half = published.find((e) => e.type === "breaker.half_opened")!;
      assert.ok(half.at >= opened.until, "not announced before the open time is over");
      assert.equal(half.type === "breaker.half_opened" && half.model, c.model, c.name);
      assert.equal(status(), "half_open", c.name);
      assert.equal(published.at(-1), half, "announced once; nothing else happened");
    } finally {
      actor.stop();
    }
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
    assert.equal(opened.model, "gpt-4o");
    early = opened.until - 0.5;
    await eventually(() => published.some((e) => e.type === "breaker.half_opened"), "half_opened");
    assert.equal(actor.state().models["gpt-4o"].breaker.status, "half_open");
  } finally {
    actor.stop();
  }
});

Deno.test("without traffic, the wake-up timer announces a refill after its Retry-After", async () => {
  const cases: { name: string; outcome: Outcome; model?: string }[] = [
    { name: "a 429: the (key, model)", outcome: fail("rate_limit", 30), model: "gpt-4o" },
    { name: "quota: the whole key", outcome: fail("quota", 30) },
  ];
  for (const c of cases) {
    const published: GatewayEvent[] = [];
    const actor = spawnProviderActor(config(), {
      clock: { now: () => Date.now() },
      publish: (e) => published.push(e),
    });
    try {
      attempt(actor, 1, Date.now(), c.outcome);
      const blocked = published.find((e) => e.type === "ratelimit.blocked")!;
      assert.equal(blocked.type === "ratelimit.blocked" && blocked.model, c.model, c.name);
      const blockedUntil = () =>
        c.model
          ? actor.state().modelLimiters.a[c.model]?.blockedUntil ?? 0
          : actor.state().limiters.a.blockedUntil;
      assert.ok(blockedUntil() > 0, c.name);
      await eventually(() => published.some((e) => e.type === "ratelimit.refilled"), c.name);
      const refilled = published.find((e) => e.type === "ratelimit.refilled")!;
      assert.ok(blocked.type === "ratelimit.blocked" && refilled.at >= blocked.until);
      assert.deepEqual(
        refilled.type === "ratelimit.refilled" && [refilled.key, refilled.model],
        ["a", c.model],
        c.name,
      );
      assert.equal(blockedUntil(), 0, c.name);
    } finally {
      actor.stop();
    }
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
  assert.equal(actor.state().models["gpt-4o"].breaker.status, "open");
  actor.stop();
  const readsAtStop = reads;
  const count = published.length;
  await new Promise((r) => setTimeout(r, 80)); // four times the open time
  assert.equal(reads, readsAtStop, "the timer never fired");
  assert.equal(published.length, count);
  assert.equal(actor.state().models["gpt-4o"].breaker.status, "open");
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
