// Provider state shared by replicas: the lease keeper in the actor shell, the decider's
// `probeLease`, and folding other replicas' events in any order to the same state.
import assert from "node:assert/strict";
import type { GatewayEvent } from "../../../src/events/catalogue.ts";
import { replay } from "../../../actors/runtime/mod.ts";
import {
  CLAIM_LEASE_MS,
  createLeaseKeeper,
  type LeaseGrant,
  leaseKey,
  type ProbeLeases,
} from "../../../actors/provider/probe_leases.ts";
import {
  createProviderDecider,
  dueEpisodes,
  episodeKey,
  nextWakeAt,
  PROBE_ELSEWHERE_RETRY_MS,
  probeEpisode,
  type ProviderActorConfig,
  type ProviderState,
  spawnProviderActor,
} from "../../../actors/provider/mod.ts";
import { failureStats } from "../../../actors/breaker/mod.ts";

const T = 1_700_000_000_000;
const P = "openai";

function config(over: Partial<ProviderActorConfig["breaker"]> = {}): ProviderActorConfig {
  return {
    id: P,
    keys: [{ id: "a", weight: 1 }],
    breaker: {
      failureRateThreshold: 0.5,
      minimumRequests: 2,
      windowMs: 60_000,
      openMs: 10_000,
      maxOpenMs: 60_000,
      halfOpenProbes: 1,
      probeLeaseMs: 30_000,
      ...over,
    },
    rateLimit: { rpm: 0, tpm: 0 },
    modelCooldownMs: 300_000,
    defaultRetryAfterMs: 1_000,
    quotaCooldownMs: 60_000,
  };
}

const opened = (at: number, openMs: number, model?: string): GatewayEvent => ({
  type: "breaker.opened",
  at,
  provider: P,
  ...(model !== undefined && { model }),
  reason: "failure_rate",
  openMs,
  until: at + openMs,
  failureRate: 1,
  samples: 2,
  reopenCount: 0,
});
const halfOpened = (at: number, model?: string): GatewayEvent => ({
  type: "breaker.half_opened",
  at,
  provider: P,
  ...(model !== undefined && { model }),
  probes: 1,
});
const closed = (at: number): GatewayEvent => ({ type: "breaker.closed", at, provider: P });
const outcome = (n: number, at: number, ok: boolean): GatewayEvent =>
  ok
    ? {
      type: "attempt.succeeded",
      at,
      requestId: `r${n}`,
      attempt: 1,
      provider: P,
      model: "m",
      key: "a",
      probe: false,
      status: 200,
      latencyMs: 5,
      reservedTokens: 0,
    }
    : {
      type: "attempt.failed",
      at,
      requestId: `r${n}`,
      attempt: 1,
      provider: P,
      model: "m",
      key: "a",
      probe: false,
      status: 503,
      errorType: "transient",
      message: "down",
      latencyMs: 5,
      counted: true,
    };

const admit = (now: number, probeLease?: boolean) => ({
  kind: "admit" as const,
  requestId: "req",
  attempt: 1,
  model: "m",
  now,
  estTokens: 10,
  rand: 0,
  probeLease,
});
const types = (events: GatewayEvent[]) => events.map((e) => e.type);

// ---- the decider: probeLease ------------------------------------------------------------------

Deno.test("probeLease: only the lease holder half-opens and probes; the others skip, no call", () => {
  const d = createProviderDecider(config());
  const due = replay(d, [opened(T, 10_000)]);
  const at = T + 10_000;
  const cases: { name: string; lease: boolean | undefined; want: string[] }[] = [
    { name: "lone gateway (no lease asked)", lease: undefined, want: ["half_opened", "started"] },
    { name: "holds the lease", lease: true, want: ["half_opened", "started"] },
    { name: "another replica holds it", lease: false, want: ["skipped"] },
  ];
  for (const c of cases) {
    const events = d.decide(due, admit(at, c.lease));
    assert.deepEqual(
      events.map((e) => e.type.replace(/^(breaker|attempt)\./, "")),
      c.want,
      c.name,
    );
    const skip = events.find((e) => e.type === "attempt.skipped");
    if (skip?.type === "attempt.skipped") {
      assert.equal(skip.reason, "circuit_open");
      assert.equal(skip.retryAfterMs, PROBE_ELSEWHERE_RETRY_MS);
    }
  }
  // Closed or still open: the lease changes nothing.
  assert.deepEqual(types(d.decide(d.initialState, admit(T, false))), ["attempt.started"]);
  const open = d.decide(due, admit(T + 5_000, true));
  assert.deepEqual(types(open), ["attempt.skipped"]);
});

Deno.test("probeLease on tick: without the lease no half-open is announced, refills still are", () => {
  const d = createProviderDecider(config());
  const s = replay(d, [opened(T, 10_000), {
    type: "ratelimit.blocked",
    at: T,
    provider: P,
    key: "a",
    reason: "retry_after",
    until: T + 5_000,
  }]);
  const at = T + 10_000;
  assert.deepEqual(types(d.decide(s, { kind: "tick", now: at, probeLease: false })), [
    "ratelimit.refilled",
  ]);
  assert.deepEqual(types(d.decide(s, { kind: "tick", now: at, probeLease: true })), [
    "breaker.half_opened",
    "ratelimit.refilled",
  ]);
});

Deno.test("probeEpisode names the opening due a probe; nextWakeAt can skip what is already due", () => {
  const d = createProviderDecider(config());
  const open = replay(d, [opened(T, 10_000)]);
  assert.equal(probeEpisode(d.initialState, T), undefined);
  assert.equal(probeEpisode(open, T + 9_999), undefined, "open time still running");
  assert.equal(probeEpisode(open, T + 10_000), String(T + 10_000));
  const half = replay(d, [halfOpened(T + 10_000)], open);
  assert.equal(probeEpisode(half, T + 10_500), String(T + 10_000), "same opening while half-open");
  assert.equal(nextWakeAt(open), T + 10_000);
  assert.equal(nextWakeAt(open, T + 10_000), undefined, "due already: left to the next admit");
  assert.equal(nextWakeAt(open, T + 9_000), T + 10_000);
});

Deno.test("episodeKey: one name per opening and model, in lease-key-safe characters", () => {
  const cases: { until: number; model?: string; want: string }[] = [
    { until: T, want: String(T) },
    { until: T + 0.75, want: String(T) }, // a fractional until names the same opening
    { until: T, model: "m", want: `${T}.m` },
    { until: T, model: "gpt-4o_mini", want: `${T}.gpt-4o_mini` },
    { until: T, model: "meta/llama-3.1", want: `${T}.meta=2fllama-3=2e1` },
    { until: T, model: "a.b", want: `${T}.a=2eb` }, // "." only ever separates the until from the model
  ];
  for (const c of cases) assert.equal(episodeKey(c.until, c.model), c.want, JSON.stringify(c));
  assert.notEqual(leaseKey(P, episodeKey(T, "m")), leaseKey(P, episodeKey(T)));
  assert.match(leaseKey(P, episodeKey(T, "meta/llama 3.1:8b")), /^[A-Za-z0-9_.=-]+$/);
});

Deno.test("probeEpisode and dueEpisodes: the provider-wide opening first, then the model's", () => {
  const d = createProviderDecider(config());
  const provider = String(T + 10_000);
  const model = episodeKey(T + 5_000, "m");
  const cases: {
    name: string;
    given: GatewayEvent[];
    now: number;
    model?: string;
    want: string | undefined;
    due: string[];
  }[] = [
    { name: "fresh", given: [], now: T, model: "m", want: undefined, due: [] },
    {
      name: "m's opening, still running",
      given: [opened(T, 5_000, "m")],
      now: T + 4_999,
      model: "m",
      want: undefined,
      due: [],
    },
    {
      name: "m's opening, due",
      given: [opened(T, 5_000, "m")],
      now: T + 5_000,
      model: "m",
      want: model,
      due: [model],
    },
    {
      name: "m's opening is not another model's probe",
      given: [opened(T, 5_000, "m")],
      now: T + 5_000,
      model: "other",
      want: undefined,
      due: [model],
    },
    {
      name: "m's opening without a model asked about",
      given: [opened(T, 5_000, "m")],
      now: T + 5_000,
      want: undefined,
      due: [model],
    },
    {
      name: "m half-open: the same opening",
      given: [opened(T, 5_000, "m"), halfOpened(T + 5_000, "m")],
      now: T + 6_000,
      model: "m",
      want: model,
      due: [model],
    },
    {
      name: "m due, the provider-wide one still open",
      given: [opened(T, 5_000, "m"), opened(T, 10_000)],
      now: T + 6_000,
      model: "m",
      want: model,
      due: [model],
    },
    {
      name: "both due: the provider-wide one is the probe",
      given: [opened(T, 5_000, "m"), opened(T, 10_000)],
      now: T + 10_000,
      model: "m",
      want: provider,
      due: [provider, model],
    },
  ];
  for (const c of cases) {
    const s = replay(d, c.given);
    assert.equal(probeEpisode(s, c.now, c.model), c.want, c.name);
    assert.deepEqual(dueEpisodes(s, c.now), c.due, c.name);
  }
});

Deno.test("probeLease on admit: a model's opening is probed only under its lease", () => {
  const d = createProviderDecider(config());
  const due = replay(d, [opened(T, 10_000, "m")]);
  const at = T + 10_000;
  const cases: { name: string; model: string; lease?: boolean; want: string[] }[] = [
    { name: "m, lone gateway", model: "m", want: ["breaker.half_opened", "attempt.started"] },
    {
      name: "m, lease held",
      model: "m",
      lease: true,
      want: ["breaker.half_opened", "attempt.started"],
    },
    { name: "m, lease elsewhere", model: "m", lease: false, want: ["attempt.skipped"] },
    // Not a probe: the lease does not matter.
    {
      name: "another model, lease elsewhere",
      model: "other",
      lease: false,
      want: ["attempt.started"],
    },
  ];
  for (const c of cases) {
    const events = d.decide(due, { ...admit(at, c.lease), model: c.model });
    assert.deepEqual(types(events), c.want, c.name);
    const s = events.find((e) => e.type === "attempt.started");
    if (s?.type === "attempt.started") assert.equal(s.probe, c.model === "m", c.name);
  }
});

Deno.test("probeLease on tick: a set of held openings half-opens exactly those", () => {
  const d = createProviderDecider(config());
  const s = replay(d, [opened(T, 10_000), opened(T, 5_000, "m"), opened(T, 8_000, "n")]);
  const at = T + 10_000;
  const provider = episodeKey(T + 10_000);
  const m = episodeKey(T + 5_000, "m");
  const n = episodeKey(T + 8_000, "n");
  const cases: {
    name: string;
    lease: boolean | ReadonlySet<string> | undefined;
    want: string[];
  }[] = [
    { name: "lone gateway", lease: undefined, want: ["provider", "m", "n"] },
    { name: "true", lease: true, want: ["provider", "m", "n"] },
    { name: "false", lease: false, want: [] },
    { name: "none held", lease: new Set(), want: [] },
    { name: "the provider's only", lease: new Set([provider]), want: ["provider"] },
    { name: "m's only", lease: new Set([m]), want: ["m"] },
    { name: "m's and n's", lease: new Set([m, n]), want: ["m", "n"] },
    {
      name: "an earlier opening of m (a stale lease)",
      lease: new Set([episodeKey(T - 60_000, "m")]),
      want: [],
    },
    {
      name: "m's until under another model",
      lease: new Set([episodeKey(T + 5_000, "n")]),
      want: [],
    },
  ];
  for (const c of cases) {
    const events = d.decide(s, { kind: "tick", now: at, probeLease: c.lease });
    assert.deepEqual(
      events.map((e) => e.type === "breaker.half_opened" ? e.model ?? "provider" : e.type),
      c.want,
      c.name,
    );
  }
});

// ---- folding other replicas' events -----------------------------------------------------------

/** Every order of `events` folds to the same state. */
function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])
  );
}

Deno.test("two replicas opening at once end with the same, longer opening in any order", () => {
  const d = createProviderDecider(config());
  const a = opened(T, 10_000);
  const b = opened(T + 40, 10_000); // the other replica, 40 ms later
  for (const order of permutations([a, b])) {
    const s = replay(d, order);
    assert.equal(s.breaker.status, "open");
    assert.equal(s.breaker.until, T + 10_040, JSON.stringify(types(order)));
  }
});

Deno.test("late transitions from another replica do not undo a newer opening", () => {
  const d = createProviderDecider(config());
  const reopened = opened(T + 12_000, 20_000);
  const cases: { name: string; given: GatewayEvent[]; status: string; until: number }[] = [
    {
      name: "a half-open about the earlier opening arrives after the re-opening",
      given: [opened(T, 10_000), reopened, halfOpened(T + 10_000)],
      status: "open",
      until: T + 32_000,
    },
    {
      name: "a close decided before the re-opening arrives after it",
      given: [opened(T, 10_000), halfOpened(T + 10_000), reopened, closed(T + 11_000)],
      status: "open",
      until: T + 32_000,
    },
    {
      name: "a half-open before the open time is over is ignored",
      given: [opened(T, 10_000), halfOpened(T + 5_000)],
      status: "open",
      until: T + 10_000,
    },
    {
      name: "in order, the same events still half-open and close",
      given: [opened(T, 10_000), halfOpened(T + 10_000), closed(T + 10_500)],
      status: "closed",
      until: 0,
    },
  ];
  for (const c of cases) {
    const s = replay(d, c.given);
    assert.equal(s.breaker.status, c.status, c.name);
    assert.equal(s.breaker.until, c.until, c.name);
  }
});

Deno.test("outcomes arriving out of order count in the window as if in order", () => {
  const cfg = config({ windowMs: 3_000, minimumRequests: 100 });
  const d = createProviderDecider(cfg);
  // Buckets are 100 ms wide here: spread outcomes over several, then fold them shuffled.
  const events = [
    outcome(1, T + 0, false),
    outcome(2, T + 150, true),
    outcome(3, T + 420, false),
    outcome(4, T + 430, false),
    outcome(5, T + 990, true),
  ];
  const inOrder = replay(d, events);
  const shuffled = replay(d, [events[4], events[0], events[3], events[1], events[2]]);
  const now = T + 1_000;
  // The 503s are model m's: its window holds everything, the provider-wide one the successes.
  assert.deepEqual(failureStats(cfg.breaker, shuffled.models.m.breaker, now), {
    samples: 5,
    failureRate: 0.6,
  });
  assert.deepEqual(shuffled.models.m.breaker.window, inOrder.models.m.breaker.window);
  assert.deepEqual(failureStats(cfg.breaker, shuffled.breaker, now), {
    samples: 2,
    failureRate: 0,
  });
  assert.deepEqual(shuffled.breaker.window, inOrder.breaker.window);
  // One far older than the window counts nowhere.
  const stale = replay(d, [outcome(9, T - 10_000, false)], inOrder);
  assert.deepEqual(failureStats(cfg.breaker, stale.models.m.breaker, now).samples, 5);
});

Deno.test("a refill announced before the key's latest block, and a shorter model cooldown, are stale", () => {
  const d = createProviderDecider(config());
  const s: ProviderState = replay(d, [
    {
      type: "ratelimit.blocked",
      at: T,
      provider: P,
      key: "a",
      reason: "retry_after",
      until: T + 1_000,
    },
    {
      type: "ratelimit.blocked",
      at: T + 1_200,
      provider: P,
      key: "a",
      reason: "retry_after",
      until: T + 5_000,
    },
    { type: "ratelimit.refilled", at: T + 1_000, provider: P, key: "a" }, // about the first block
    {
      type: "model.unavailable",
      at: T + 50,
      provider: P,
      model: "m",
      until: T + 300_050,
      message: "x",
    },
    { type: "model.unavailable", at: T, provider: P, model: "m", until: T + 300_000, message: "x" },
  ]);
  assert.equal(s.limiters.a.blockedUntil, T + 5_000, "still blocked by the newer block");
  assert.equal(s.models.m.unavailableUntil, T + 300_050);
  const refilled = replay(
    d,
    [{ type: "ratelimit.refilled", at: T + 5_000, provider: P, key: "a" }],
    s,
  );
  assert.equal(refilled.limiters.a.blockedUntil, 0);
});

// ---- the lease keeper (actor shell) -------------------------------------------------------------

/** Leases answered when the test says so, with the create-if-absent rule of the real store. */
function manualLeases(me: string, store: Map<string, { holder: string; until: number }>) {
  const calls: string[] = [];
  const waiting: (() => void)[] = [];
  const leases: ProbeLeases = {
    acquire(key, ttlMs) {
      calls.push(key);
      return new Promise<LeaseGrant>((resolve) => {
        waiting.push(() => {
          const now = clock.now;
          const cur = store.get(key);
          if (cur && cur.until > now && cur.holder !== me) {
            return resolve({ won: false, until: cur.until });
          }
          const mine = cur?.holder === me && cur.until > now
            ? cur
            : { holder: me, until: now + ttlMs };
          store.set(key, mine);
          resolve({ won: true, until: mine.until });
        });
      });
    },
  };
  return {
    leases,
    calls,
    /** Lets the store answer everything asked so far. */
    async answer() {
      for (const w of waiting.splice(0)) w();
      await new Promise((r) => setTimeout(r, 0));
    },
  };
}
const clock = { now: T };

Deno.test("lease keeper: one question per opening, remembers the answer until the lease ends", async () => {
  clock.now = T;
  const store = new Map();
  const a = manualLeases("a", store);
  const b = manualLeases("b", store);
  const ka = createLeaseKeeper(P, a.leases, 30_000);
  const kb = createLeaseKeeper(P, b.leases, 30_000);
  const ep = String(T - 1);

  const first = ka.request(ep, T);
  const again = ka.request(ep, T);
  assert.equal(a.calls.length, 1, "a question in flight is not asked twice");
  assert.equal(ka.held(ep, T), false, "not held before the answer");
  await a.answer();
  assert.equal(await first, true);
  assert.equal(await again, true);
  assert.equal(ka.held(ep, T + 29_999), true);
  assert.equal(a.calls[0], leaseKey(P, ep));

  const lost = kb.request(ep, T);
  await b.answer();
  assert.equal(await lost, false);
  assert.equal(kb.held(ep, T), false);
  kb.request(ep, T + 10_000);
  assert.equal(b.calls.length, 1, "another's lease: not asked again while it runs");

  // The holder's lease ran out: the other may take it, and the old holder no longer has it.
  clock.now = T + 30_000;
  assert.equal(ka.held(ep, clock.now), false);
  const taken = kb.request(ep, clock.now);
  await b.answer();
  assert.equal(await taken, true);
  assert.equal(b.calls.length, 2);

  // A new opening is a new lease.
  const next = String(T - 1 + 50_000);
  ka.request(next, clock.now);
  assert.equal(a.calls.at(-1), leaseKey(P, next));
});

Deno.test("lease keeper: the provider's opening and a model's are two leases, held independently", async () => {
  clock.now = T;
  const store = new Map<string, { holder: string; until: number }>();
  const provider = episodeKey(T);
  const model = episodeKey(T - 2_000, "gpt-4o");
  // Another replica holds gpt-4o's opening for 10 s more.
  store.set(leaseKey(P, model), { holder: "b", until: T + 10_000 });
  const a = manualLeases("a", store);
  const ka = createLeaseKeeper(P, a.leases, 30_000);

  const wonProvider = ka.request(provider, T);
  const wonModel = ka.request(model, T);
  assert.deepEqual(a.calls, [leaseKey(P, provider), leaseKey(P, model)], "one question each");
  await a.answer();
  assert.deepEqual([await wonProvider, await wonModel], [true, false]);
  assert.deepEqual([ka.held(provider, T), ka.held(model, T)], [true, false]);
  assert.deepEqual([...ka.heldSet(T)], [provider]);
  ka.request(model, T + 9_999);
  assert.equal(a.calls.length, 2, "the other's lease: not asked again while it runs");

  // The other replica's lease ends: this one takes the model's opening too.
  clock.now = T + 10_000;
  const later = ka.request(model, clock.now);
  await a.answer();
  assert.equal(await later, true);
  assert.deepEqual(new Set(ka.heldSet(clock.now)), new Set([provider, model]));

  // The provider's lease (taken at T) ends first; the model's (taken at +10 s) still holds.
  assert.deepEqual([...ka.heldSet(T + 30_000)], [model]);
  assert.deepEqual([ka.held(provider, T + 30_000), ka.held(model, T + 30_000)], [false, true]);
  assert.deepEqual([...ka.heldSet(T + 40_000)], []);
});

Deno.test("an actor's wake-up with leases half-opens only the openings it holds", async () => {
  const store = new Map<string, { holder: string; until: number }>();
  const l = manualLeases("a", store);
  const published: GatewayEvent[] = [];
  const start = Date.now();
  clock.now = start;
  const actor = spawnProviderActor(config({ openMs: 30 }), {
    clock: { now: () => Date.now() },
    publish: (e) => published.push(e),
    leases: l.leases,
  });
  try {
    // The provider-wide breaker and model m's opened together; another replica already holds
    // the lease of the provider-wide opening.
    actor.hydrate([opened(start, 30), opened(start, 30, "m")]);
    const providerEp = episodeKey(start + 30);
    const modelEp = episodeKey(start + 30, "m");
    store.set(leaseKey(P, providerEp), { holder: "b", until: start + 60_000 });
    // Traffic since the openings: this replica asks for the leases when the open time ends.
    assert.deepEqual(types(actor.ask(admit(Date.now()))), ["attempt.skipped"]);
    const deadline = Date.now() + 2_000;
    while (l.calls.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(
      new Set(l.calls),
      new Set([leaseKey(P, providerEp), leaseKey(P, modelEp)]),
      "both openings asked for, without a request",
    );
    clock.now = Date.now();
    await l.answer();
    await new Promise((r) => setTimeout(r, 10));
    const half = published.filter((e) => e.type === "breaker.half_opened");
    assert.deepEqual(half.map((e) => "model" in e && e.model), ["m"], "m's only");
    assert.equal(actor.state().models.m.breaker.status, "half_open");
    assert.equal(actor.state().breaker.status, "open", "the provider-wide one is b's to announce");
    // While the provider-wide opening is due elsewhere, no model probes here either.
    assert.deepEqual(types(actor.ask({ ...admit(Date.now()), requestId: "r2" })), [
      "attempt.skipped",
    ]);
  } finally {
    actor.stop();
  }
});

Deno.test("two replicas' actors: only the lease holder probes; the other skips until closed arrives", async () => {
  clock.now = T;
  const store = new Map();
  const la = manualLeases("a", store);
  const lb = manualLeases("b", store);
  const published: Record<string, GatewayEvent[]> = { a: [], b: [] };
  const cfg = config();
  const now = () => clock.now;
  const a = spawnProviderActor(cfg, {
    clock: { now },
    publish: (e) => published.a.push(e),
    leases: la.leases,
  });
  const b = spawnProviderActor(cfg, {
    clock: { now },
    publish: (e) => published.b.push(e),
    leases: lb.leases,
  });
  try {
    // Replica a opened the breaker; b folds it (as from NATS).
    const open = opened(T - 10_000, 10_000);
    a.hydrate([open]);
    b.hydrate([open]);
    const req = (n: number) => ({ ...admit(clock.now), requestId: `req-${n}` });

    // Open time over: both are asked at once; neither may probe before the store answers.
    assert.deepEqual(types(a.ask(req(1))), ["attempt.skipped"]);
    assert.deepEqual(types(b.ask(req(2))), ["attempt.skipped"]);
    await la.answer(); // a asked first and wins
    await lb.answer();

    const probe = a.ask(req(3));
    assert.deepEqual(types(probe), ["breaker.half_opened", "attempt.started"]);
    b.hydrate(probe); // b sees a's half-open and probe
    for (let i = 0; i < 3; i++) assert.deepEqual(types(b.ask(req(10 + i))), ["attempt.skipped"]);
    assert.deepEqual(types(a.ask(req(4))), ["attempt.skipped"], "one probe slot, in flight");

    const done = a.ask({
      kind: "report",
      requestId: "req-3",
      attempt: 1,
      model: "m",
      now: clock.now,
      key: "a",
      probe: true,
      reservedTokens: 0,
      outcome: { type: "success", status: 200, latencyMs: 5 },
      rand: 0,
    });
    assert.deepEqual(types(done), ["attempt.succeeded", "breaker.closed"]);
    b.hydrate(done);
    assert.deepEqual(types(b.ask(req(20))), ["attempt.started"], "b serves again once closed");
    assert.equal(
      [...published.a, ...published.b].filter((e) => e.type === "attempt.started" && e.probe)
        .length,
      1,
      "one probe across both replicas",
    );
    assert.equal(published.b.some((e) => e.type.startsWith("breaker.")), false);
  } finally {
    a.stop();
    b.stop();
  }
});

Deno.test("claimProbe after a replay takes the lease silently, so the next admit probes", async () => {
  clock.now = T;
  const store = new Map();
  const l = manualLeases("b", store);
  const published: GatewayEvent[] = [];
  const actor = spawnProviderActor(config(), {
    clock: { now: () => clock.now },
    publish: (e) => published.push(e),
    leases: l.leases,
  });
  try {
    actor.hydrate([opened(T - 20_000, 10_000)]);
    const claimed = actor.claimProbe();
    await l.answer();
    assert.equal(await claimed, true);
    assert.deepEqual(published, [], "nothing published by replay or by taking the lease");
    assert.deepEqual(types(actor.ask(admit(clock.now))), [
      "breaker.half_opened",
      "attempt.started",
    ]);
    // Nothing due: nothing asked.
    const fresh = spawnProviderActor(config(), {
      clock: { now: () => clock.now },
      publish() {},
      leases: l.leases,
    });
    assert.equal(await fresh.claimProbe(), false);
    assert.equal(l.calls.length, 1);
    fresh.stop();
  } finally {
    actor.stop();
  }
});

Deno.test("a replica with traffic asks for the lease when the open time ends and announces the half-open", async () => {
  const store = new Map();
  const l = manualLeases("a", store);
  const published: GatewayEvent[] = [];
  const start = Date.now();
  clock.now = start;
  const actor = spawnProviderActor(config({ openMs: 30 }), {
    clock: { now: () => Date.now() },
    publish: (e) => published.push(e),
    leases: l.leases,
  });
  const idle = spawnProviderActor(config({ openMs: 30 }), {
    clock: { now: () => Date.now() },
    publish() {},
    leases: manualLeases("c", store).leases,
  });
  try {
    // Requests were skipped while it was open: this replica wants the provider back.
    actor.hydrate([opened(start, 30)]);
    idle.hydrate([opened(start, 30)]);
    assert.deepEqual(types(actor.ask(admit(Date.now()))), ["attempt.skipped"]);
    const deadline = Date.now() + 2_000;
    while (l.calls.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(l.calls.length, 1, "asked when the open time ended, without a request");
    clock.now = Date.now();
    await l.answer();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(types(published), ["attempt.skipped", "breaker.half_opened"]);
    assert.equal(idle.state().breaker.status, "open", "an idle replica neither asks nor announces");
  } finally {
    actor.stop();
    idle.stop();
  }
});

Deno.test("a lease taken with no request in hand is short: the replica with the traffic probes soon after", async () => {
  clock.now = T;
  const store = new Map();
  const lv = manualLeases("v", store);
  const lw = manualLeases("w", store);
  const now = () => clock.now;
  const published: GatewayEvent[] = [];
  // v took part before the opening, then its traffic went elsewhere; w has all of it now.
  const v = spawnProviderActor(config(), { clock: { now }, publish() {}, leases: lv.leases });
  const w = spawnProviderActor(config(), {
    clock: { now },
    publish: (e) => published.push(e),
    leases: lw.leases,
  });
  try {
    const open = opened(T - 20_000, 10_000);
    v.hydrate([open]);
    w.hydrate([open]);
    const claimed = v.claimProbe();
    await lv.answer();
    assert.equal(await claimed, true, "v holds the lease, ahead of any request");
    assert.equal(store.get(leaseKey(P, episodeKey(T - 10_000))).until, T + CLAIM_LEASE_MS);

    const req = (n: number) => ({ ...admit(clock.now), requestId: `w-${n}` });
    assert.deepEqual(types(w.ask(req(1))), ["attempt.skipped"], "v's to probe for now");
    await lw.answer();
    assert.deepEqual(types(w.ask(req(2))), ["attempt.skipped"]);

    // v never sends the probe; its lease ends after CLAIM_LEASE_MS, not a whole attempt's length.
    clock.now = T + CLAIM_LEASE_MS + 1;
    assert.deepEqual(types(w.ask(req(3))), ["attempt.skipped"], "w asks now");
    await lw.answer();
    assert.deepEqual(types(w.ask(req(4))), ["breaker.half_opened", "attempt.started"]);
    assert.equal(
      store.get(leaseKey(P, episodeKey(T - 10_000))).until,
      T + CLAIM_LEASE_MS + 1 + 30_000,
      "a lease asked for by a request lasts the probe's length",
    );
  } finally {
    v.stop();
    w.stop();
  }
});
