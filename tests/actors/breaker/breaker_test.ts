import assert from "node:assert/strict";
import type { EventOf, GatewayEvent } from "../../../src/events/catalogue.ts";
import {
  attemptKey,
  type BreakerConfig,
  type BreakerEvent,
  type BreakerState,
  evolveBreaker,
  failureStats,
  gate,
  initialBreaker,
  judge,
  type Judgement,
  nextOpenMs,
  tick,
} from "../../../actors/breaker/mod.ts";

const P = "openai";
const cfg: BreakerConfig = {
  failureRateThreshold: 0.5,
  minimumRequests: 4,
  windowMs: 10_000,
  openMs: 1_000,
  maxOpenMs: 5_000,
  halfOpenProbes: 2,
  probeLeaseMs: 500,
};

// ---- given: events that build a breaker state -------------------------------------------------

const att = (n: number, at: number, probe: boolean) => ({
  at,
  requestId: "req",
  attempt: n,
  provider: P,
  model: "gpt-4o",
  key: "k1",
  probe,
  latencyMs: 10,
});
const started = (n: number, at: number, probe = false): GatewayEvent => ({
  type: "attempt.started",
  ...att(n, at, probe),
  reservedTokens: 0,
});
const ok = (n: number, at: number, probe = false): GatewayEvent => ({
  type: "attempt.succeeded",
  ...att(n, at, probe),
  status: 200,
  reservedTokens: 0,
});
const failed = (n: number, at: number, probe = false, counted = true): GatewayEvent => ({
  type: "attempt.failed",
  ...att(n, at, probe),
  status: counted ? 503 : 400,
  errorType: counted ? "transient" : "caller_fault",
  message: "x",
  counted,
});
const aborted = (n: number, at: number, probe = false): GatewayEvent => ({
  type: "attempt.aborted",
  ...att(n, at, probe),
});
const opened = (at: number, openMs: number, reopenCount = 0): GatewayEvent => ({
  type: "breaker.opened",
  at,
  provider: P,
  reason: "failure_rate",
  openMs,
  until: at + openMs,
  failureRate: 1,
  samples: 4,
  reopenCount,
});
const halfOpened = (at: number): GatewayEvent => ({
  type: "breaker.half_opened",
  at,
  provider: P,
  probes: cfg.halfOpenProbes,
});

const given = (events: GatewayEvent[], from: BreakerState = initialBreaker) =>
  events.reduce((s, e) => evolveBreaker(cfg, s, e), from);

// ---- when: one input, summarised so the table stays readable ----------------------------------

type Input =
  | "gate"
  | "tick"
  | "success"
  | "probe success"
  | "failure"
  | "probe failure"
  | "probe neutral";

function summarise(events: BreakerEvent[]): string {
  return events.map((e) =>
    e.type === "breaker.opened"
      ? `opened ${e.reason} ${e.openMs}ms x${e.reopenCount}`
      : e.type.slice("breaker.".length)
  ).join(", ");
}

/** The report inputs fold the attempt's outcome first, as the provider decider does. */
function when(s: BreakerState, input: Input, now: number, rand = 0.5): string {
  if (input === "gate") {
    const g = gate(cfg, s, P, now);
    if (!g.ok) return `wait ${g.retryAfterMs}`;
    return (g.probe ? "probe" : "pass") + (g.transition ? ` + ${summarise([g.transition])}` : "");
  }
  if (input === "tick") return summarise(tick(cfg, s, P, now));
  const probe = input.startsWith("probe");
  const outcome = input.endsWith("success")
    ? ok(1, now, probe)
    : input.endsWith("neutral")
    ? failed(1, now, probe, false)
    : failed(1, now, probe);
  const verdict = input.endsWith("success")
    ? "success"
    : input.endsWith("neutral")
    ? "neutral"
    : "failure";
  const j: Judgement = { now, verdict, probe, rand };
  return summarise(judge(cfg, given([outcome], s), P, j));
}

// States. Probes #1 and #2 are leased at 1000 (lease until 1500); the breaker opened at 0 for 1 s.
const halfOpen = [opened(0, 1_000), halfOpened(1_000)];
const STATES: Record<string, { events: GatewayEvent[]; now: number }> = {
  "closed": { events: [], now: 1_000 },
  "closed, 3 failures": {
    events: [failed(7, 100), failed(8, 200), failed(9, 300)],
    now: 1_000,
  },
  "open, before until": { events: [opened(0, 1_000)], now: 400 },
  "open, at until": { events: [opened(0, 1_000)], now: 1_000 },
  "half_open, free slots": { events: halfOpen, now: 1_100 },
  "half_open, slots full": {
    events: [...halfOpen, started(1, 1_000, true), started(2, 1_000, true)],
    now: 1_100,
  },
  "half_open, leases expired": {
    events: [...halfOpen, started(1, 1_000, true), started(2, 1_000, true)],
    now: 1_500,
  },
  "half_open, 1 probe ok": {
    events: [...halfOpen, started(3, 1_000, true), ok(3, 1_050, true), started(1, 1_060, true)],
    now: 1_100,
  },
};

// One row per state, one column per input. "" = no transition.
const TABLE: Record<string, Record<Input, string>> = {
  "closed": {
    "gate": "pass",
    "tick": "",
    "success": "",
    "probe success": "",
    "failure": "", // 1 sample < minimumRequests
    "probe failure": "",
    "probe neutral": "",
  },
  "closed, 3 failures": {
    "gate": "pass",
    "tick": "",
    "success": "", // 4 samples at 75 % failures, but a success never opens
    "probe success": "",
    "failure": "opened failure_rate 1000ms x0",
    "probe failure": "opened failure_rate 1000ms x0",
    "probe neutral": "", // caller faults are not samples
  },
  "open, before until": {
    "gate": "wait 600",
    "tick": "",
    "success": "",
    "probe success": "",
    "failure": "",
    "probe failure": "",
    "probe neutral": "",
  },
  "open, at until": {
    "gate": "probe + half_opened",
    "tick": "half_opened",
    "success": "",
    "probe success": "",
    "failure": "",
    "probe failure": "",
    "probe neutral": "",
  },
  "half_open, free slots": {
    "gate": "probe",
    "tick": "",
    "success": "",
    "probe success": "", // 1 of 2 probes
    "failure": "", // a straggler from before the opening decides nothing
    "probe failure": "opened probe_failed 2000ms x1",
    "probe neutral": "",
  },
  "half_open, slots full": {
    "gate": "wait 400",
    "tick": "",
    "success": "",
    "probe success": "",
    "failure": "",
    "probe failure": "opened probe_failed 2000ms x1",
    "probe neutral": "",
  },
  "half_open, leases expired": {
    "gate": "probe",
    "tick": "",
    "success": "",
    "probe success": "",
    "failure": "",
    "probe failure": "opened probe_failed 2000ms x1",
    "probe neutral": "",
  },
  "half_open, 1 probe ok": {
    "gate": "probe",
    "tick": "",
    "success": "",
    "probe success": "closed",
    "failure": "",
    "probe failure": "opened probe_failed 2000ms x1",
    "probe neutral": "",
  },
};

Deno.test("every breaker state × every input (given events / when input / then transitions)", () => {
  assert.deepEqual(Object.keys(TABLE), Object.keys(STATES), "the table covers every state");
  for (const [name, { events, now }] of Object.entries(STATES)) {
    const s = given(events);
    for (const [input, want] of Object.entries(TABLE[name])) {
      assert.equal(when(s, input as Input, now), want, `${name} × ${input}`);
    }
  }
});

Deno.test("opens on failure rate ≥ threshold only once the window holds minimumRequests samples", () => {
  const cases: { name: string; ok: number; failed: number; opens: boolean }[] = [
    { name: "3 samples, all failed: too few to judge", ok: 0, failed: 3, opens: false },
    { name: "4 samples, 2 failed: exactly at 50 %", ok: 2, failed: 2, opens: true },
    { name: "5 samples, 2 failed: 40 % < 50 %", ok: 3, failed: 2, opens: false },
    { name: "4 samples, all failed", ok: 0, failed: 4, opens: true },
    { name: "20 samples, 9 failed: 45 %", ok: 11, failed: 9, opens: false },
  ];
  for (const c of cases) {
    // Successes first, the deciding failure last.
    const events = [
      ...Array.from({ length: c.ok }, (_, i) => ok(i, 10 * i)),
      ...Array.from({ length: c.failed }, (_, i) => failed(100 + i, 500 + 10 * i)),
    ];
    const s = given(events);
    const out = judge(cfg, s, P, { now: 1_000, verdict: "failure", probe: false, rand: 0.5 });
    assert.equal(out.length === 1 && out[0].type === "breaker.opened", c.opens, c.name);
    if (c.opens) {
      const e = out[0] as EventOf<"breaker.opened">;
      assert.equal(e.samples, c.ok + c.failed, c.name);
      assert.equal(e.failureRate, c.failed / (c.ok + c.failed), c.name);
      assert.equal(e.until, 1_000 + cfg.openMs, c.name);
    }
  }
});

Deno.test("old samples fall out of the rolling window", () => {
  const old = given([failed(1, 0), failed(2, 10), failed(3, 20)]);
  assert.equal(failureStats(cfg, old, 9_000).samples, 3, "still inside the 10 s window");
  assert.deepEqual(
    failureStats(cfg, old, 11_000),
    { samples: 0, failureRate: 0 },
    "without new traffic the figures age out too (what the provider-state endpoint shows)",
  );
  // One more failure while the old ones count → 4 failures → open.
  const soon = given([failed(4, 9_000)], old);
  assert.equal(
    judge(cfg, soon, P, { now: 9_000, verdict: "failure", probe: false, rand: 0 }).length,
    1,
  );
  // The same failure long after: the window forgot the first three.
  const later = 10_000 + 1_000;
  const late = given([failed(4, later)], old);
  assert.deepEqual(failureStats(cfg, late, later), { samples: 1, failureRate: 1 });
  assert.deepEqual(
    judge(cfg, late, P, { now: later, verdict: "failure", probe: false, rand: 0 }),
    [],
  );
  assert.ok(
    late.window.length <= 1,
    "expired buckets are dropped from the state, not kept forever",
  );
});

Deno.test("the window is bounded by buckets, not by the number of requests", () => {
  const events: GatewayEvent[] = [];
  for (let i = 0; i < 5_000; i++) events.push(ok(i, i * 7)); // 35 s of steady traffic
  const s = given(events);
  assert.ok(s.window.length <= 32, `window holds ${s.window.length} buckets`);
  const stats = failureStats(cfg, s, 35_000);
  assert.ok(stats.samples > 1_300 && stats.samples < 1_500, `${stats.samples} samples ≈ last 10 s`);
});

Deno.test("half-open admits exactly halfOpenProbes probes at a time", () => {
  let s = given(halfOpen);
  const admitted: number[] = [];
  for (let n = 1; n <= 4; n++) {
    const g = gate(cfg, s, P, 1_100);
    if (!g.ok) {
      assert.equal(g.retryAfterMs, 400, "told to come back when the first lease ends");
      continue;
    }
    assert.equal(g.probe, true);
    admitted.push(n);
    s = given([started(n, 1_000, true)], s);
  }
  assert.deepEqual(admitted, [1, 2]);
});

Deno.test("probe successes close the breaker and wipe its history", () => {
  let s = given([...halfOpen, started(1, 1_000, true), started(2, 1_000, true)]);
  s = given([ok(1, 1_100, true)], s);
  assert.deepEqual(judge(cfg, s, P, { now: 1_100, verdict: "success", probe: true, rand: 0 }), []);
  s = given([ok(2, 1_200, true)], s);
  const out = judge(cfg, s, P, { now: 1_200, verdict: "success", probe: true, rand: 0 });
  assert.deepEqual(out, [{ type: "breaker.closed", at: 1_200, provider: P }]);
  assert.deepEqual(given(out, s), initialBreaker, "closed, empty window, reopenCount back to 0");
});

Deno.test("probe failure re-opens for twice as long, jittered ±20 %, capped at maxOpenMs", () => {
  const cases: { reopenCount: number; rand: number; openMs: number }[] = [
    { reopenCount: 0, rand: 0.5, openMs: 2_000 }, // 1000 × 2
    { reopenCount: 0, rand: 0, openMs: 1_600 }, // −20 %
    { reopenCount: 0, rand: 0.999_999, openMs: 2_400 }, // +20 %
    { reopenCount: 1, rand: 0.5, openMs: 4_000 }, // 1000 × 4
    { reopenCount: 2, rand: 0.5, openMs: 5_000 }, // 8000 capped
    { reopenCount: 2, rand: 0, openMs: 4_000 }, // 5000 capped, then −20 %
    { reopenCount: 9, rand: 0.999_999, openMs: 5_000 }, // never above the cap, even with +20 %
  ];
  for (const c of cases) {
    const s = given([opened(0, 1_000, c.reopenCount), halfOpened(1_000), started(1, 1_000, true)]);
    const folded = given([failed(1, 1_100, true)], s);
    const out = judge(cfg, folded, P, {
      now: 1_100,
      verdict: "failure",
      probe: true,
      rand: c.rand,
    });
    const label = `reopen ${c.reopenCount} rand ${c.rand}`;
    assert.equal(out.length, 1, label);
    const e = out[0] as EventOf<"breaker.opened">;
    assert.equal(e.reason, "probe_failed", label);
    assert.equal(e.openMs, c.openMs, label);
    assert.equal(e.until, 1_100 + c.openMs, label);
    assert.equal(e.reopenCount, c.reopenCount + 1, label);
    const after = given(out, folded);
    assert.equal(after.status, "open", label);
    assert.deepEqual(after.probes, {}, `${label}: no probe survives the re-opening`);
  }
});

Deno.test("nextOpenMs: the first opening is not jittered; later ones stay within ±20 %", () => {
  assert.equal(nextOpenMs(cfg, 0, 0), 1_000);
  assert.equal(nextOpenMs(cfg, 0, 0.99), 1_000);
  for (const rand of [0, 0.25, 0.5, 0.75, 0.99]) {
    const ms = nextOpenMs(cfg, 1, rand);
    assert.ok(ms >= 1_600 && ms <= 2_400, `rand ${rand} → ${ms}`);
  }
});

Deno.test("a neutral outcome (caller fault, abort) frees the probe slot without deciding", () => {
  const full = given([...halfOpen, started(1, 1_000, true), started(2, 1_000, true)]);
  assert.equal(gate(cfg, full, P, 1_100).ok, false);
  for (const outcome of [failed(1, 1_100, true, false), aborted(1, 1_100, true)]) {
    const s = given([outcome], full);
    assert.deepEqual(
      judge(cfg, s, P, { now: 1_100, verdict: "neutral", probe: true, rand: 0 }),
      [],
    );
    assert.equal(s.status, "half_open", outcome.type);
    assert.equal(s.probeSuccesses, 0, outcome.type);
    assert.deepEqual(Object.keys(s.probes), [attemptKey("req", 2)], outcome.type);
    assert.deepEqual(gate(cfg, s, P, 1_100), { ok: true, probe: true }, outcome.type);
  }
});

Deno.test("an expired probe lease frees its slot; its late report still only releases it", () => {
  const full = given([...halfOpen, started(1, 1_000, true), started(2, 1_200, true)]);
  assert.deepEqual(gate(cfg, full, P, 1_499), { ok: false, retryAfterMs: 1 });
  assert.deepEqual(gate(cfg, full, P, 1_500), { ok: true, probe: true }, "probe #1's lease ended");
  const s = given([started(3, 1_500, true)], full);
  assert.equal(gate(cfg, s, P, 1_600).ok, false, "#2 and #3 are live");
  const late = given([aborted(1, 1_650, true)], s);
  assert.deepEqual(Object.keys(late.probes).sort(), [attemptKey("req", 2), attemptKey("req", 3)]);
});

Deno.test("evolve is a fold: replaying every event of a full cycle rebuilds the same state", () => {
  // Drive a full closed → open → half_open → open → half_open → closed → … life by commands.
  const log: GatewayEvent[] = [];
  let s = initialBreaker;
  const apply = (events: GatewayEvent[]) => {
    for (const e of events) {
      log.push(e);
      s = evolveBreaker(cfg, s, e);
    }
  };
  let n = 0;
  const attempt = (now: number, verdict: "success" | "failure") => {
    const g = gate(cfg, s, P, now);
    if (!g.ok) return;
    if (g.transition) apply([g.transition]);
    n++;
    apply([started(n, now, g.probe)]);
    apply([verdict === "success" ? ok(n, now + 5, g.probe) : failed(n, now + 5, g.probe)]);
    apply(judge(cfg, s, P, { now: now + 5, verdict, probe: g.probe, rand: 0.3 }));
  };
  for (let t = 0; t < 40_000; t += 250) {
    attempt(t, t % 1_000 === 0 || t > 20_000 ? "success" : "failure");
  }
  const types = log.filter((e) => e.type.startsWith("breaker.")).map((e) => e.type);
  assert.ok(types.includes("breaker.opened"));
  assert.ok(types.includes("breaker.half_opened"));
  assert.equal(types.at(-1), "breaker.closed", "recovers once the upstream does");
  assert.deepEqual(given(log), s);
  assert.deepEqual(given(log.slice(0, 40)), given(log.slice(20, 40), given(log.slice(0, 20))));
});

Deno.test("evolve ignores events that do not concern the breaker", () => {
  const s = given([failed(1, 0)]);
  const other: GatewayEvent[] = [
    { type: "ratelimit.refilled", at: 1, provider: P, key: "k1" },
    {
      type: "attempt.skipped",
      at: 1,
      requestId: "r",
      attempt: 1,
      provider: P,
      model: "m",
      reason: "rate_limited",
      retryAfterMs: 5,
    },
    started(9, 1, false), // a non-probe start takes no slot
  ];
  for (const e of other) assert.equal(evolveBreaker(cfg, s, e), s, e.type);
});

Deno.test("evolve by kind: a model's breaker and the provider-wide one count different failures", () => {
  const scoped = (n: number, scope?: "provider" | "model"): GatewayEvent => ({
    ...(failed(n, 100) as EventOf<"attempt.failed">),
    ...(scope && { scope }),
  });
  const tally = (s: BreakerState) => {
    const { samples, failureRate } = failureStats(cfg, s, 200);
    return [samples, Math.round(samples * failureRate)];
  };
  const cases: { name: string; event: GatewayEvent; model: number[]; provider: number[] }[] = [
    { name: "success: both", event: ok(1, 100), model: [1, 0], provider: [1, 0] },
    {
      name: "scope model: the model's",
      event: scoped(1, "model"),
      model: [1, 1],
      provider: [0, 0],
    },
    {
      name: "scope provider: the provider-wide",
      event: scoped(1, "provider"),
      model: [0, 0],
      provider: [1, 1],
    },
    { name: "no scope: the model's", event: scoped(1), model: [1, 1], provider: [0, 0] },
    {
      name: "not counted: neither",
      event: failed(1, 100, false, false),
      model: [0, 0],
      provider: [0, 0],
    },
    { name: "aborted: neither", event: aborted(1, 100), model: [0, 0], provider: [0, 0] },
  ];
  for (const c of cases) {
    assert.deepEqual(tally(evolveBreaker(cfg, initialBreaker, c.event, "model")), c.model, c.name);
    assert.deepEqual(
      tally(evolveBreaker(cfg, initialBreaker, c.event, "provider")),
      c.provider,
      c.name,
    );
  }
  assert.deepEqual(
    tally(evolveBreaker(cfg, initialBreaker, scoped(1, "model"))),
    [1, 1],
    "default",
  );
});

Deno.test("a probe takes a slot only in a half-open breaker; its outcome counts only where held", () => {
  // The same probe attempt seen by a closed breaker (the other scope's probe) and a half-open one.
  const closed = given([ok(0, 900)]);
  const half = given(halfOpen);
  assert.equal(given([started(1, 1_000, true)], closed), closed, "closed: no slot taken");
  const probing = given([started(1, 1_000, true)], half);
  assert.deepEqual(Object.keys(probing.probes), [attemptKey("req", 1)]);
  // Its success: a probe success here, an ordinary sample in the closed one.
  assert.equal(given([ok(1, 1_100, true)], probing).probeSuccesses, 1);
  assert.deepEqual(failureStats(cfg, given([ok(1, 1_100, true)], closed), 1_200).samples, 2);
  // A probe this breaker never held (another breaker's slot) counts no probe success here.
  assert.equal(given([ok(7, 1_100, true)], probing).probeSuccesses, 0);
  assert.deepEqual(Object.keys(given([ok(7, 1_100, true)], probing).probes), [
    attemptKey("req", 1),
  ]);
});
