import assert from "node:assert/strict";
import type { EventOf, FailureKind, GatewayEvent } from "../../../src/events/catalogue.ts";
import { replay } from "../../../actors/runtime/mod.ts";
import {
  createProviderDecider,
  type FailureFacts,
  nextWakeAt,
  type Outcome,
  pickWeighted,
  type ProviderActorConfig,
  type ProviderCommand,
  type ProviderState,
} from "../../../actors/provider/mod.ts";

const T = 1_700_000_000_000;
const P = "openai";

function config(over: Partial<ProviderActorConfig> = {}): ProviderActorConfig {
  return {
    id: P,
    keys: [{ id: "a", weight: 3 }, { id: "b", weight: 1 }],
    breaker: {
      failureRateThreshold: 0.5,
      minimumRequests: 4,
      windowMs: 60_000,
      openMs: 10_000,
      maxOpenMs: 60_000,
      halfOpenProbes: 1,
      probeLeaseMs: 30_000,
    },
    rateLimit: { rpm: 0, tpm: 0 },
    modelCooldownMs: 300_000,
    defaultRetryAfterMs: 7_000,
    ...over,
  };
}

/** A provider under test: given events → state; commands are decided and folded, the log kept. */
function world(cfg = config(), given: GatewayEvent[] = []) {
  const decider = createProviderDecider(cfg);
  let state: ProviderState = replay(decider, given);
  const log: GatewayEvent[] = [...given];
  const run = (c: ProviderCommand) => {
    const events = decider.decide(state, c);
    state = replay(decider, events, state);
    log.push(...events);
    return events;
  };
  return {
    decider,
    log,
    get state() {
      return state;
    },
    admit: (
      n: number,
      now: number,
      o: { model?: string; rand?: number; estTokens?: number } = {},
    ) =>
      run({
        kind: "admit",
        requestId: `req-${n}`,
        attempt: 1,
        model: o.model ?? "gpt-4o",
        now,
        estTokens: o.estTokens ?? 100,
        rand: o.rand ?? 0,
      }),
    /** Reports on the attempt that `admit(n)` started. */
    report(n: number, now: number, outcome: Outcome, rand = 0.5) {
      const s = [...log].reverse().find((e): e is EventOf<"attempt.started"> =>
        e.type === "attempt.started" && e.requestId === `req-${n}`
      );
      assert.ok(s, `attempt req-${n} was started`);
      return run({
        kind: "report",
        requestId: s.requestId,
        attempt: s.attempt,
        model: s.model,
        now,
        key: s.key,
        probe: s.probe,
        reservedTokens: s.reservedTokens,
        outcome,
        rand,
      });
    },
    tick: (now: number) => run({ kind: "tick", now }),
  };
}

const types = (events: GatewayEvent[]) => events.map((e) => e.type);
const success: Outcome = { type: "success", status: 200, latencyMs: 120 };
const failure = (kind: FailureKind, f: Partial<FailureFacts> = {}): Outcome => ({
  type: "failure",
  failure: { kind, status: 500, message: `upstream said ${kind}`, ...f },
  latencyMs: 80,
});
const abort: Outcome = { type: "aborted", latencyMs: 30 };
const opened = (at: number, openMs = 10_000): GatewayEvent => ({
  type: "breaker.opened",
  at,
  provider: P,
  reason: "failure_rate",
  openMs,
  until: at + openMs,
  failureRate: 1,
  samples: 4,
  reopenCount: 0,
});
const keyBlocked = (key: string, until: number): GatewayEvent => ({
  type: "ratelimit.blocked",
  at: T,
  provider: P,
  key,
  reason: "retry_after",
  until,
});

Deno.test("admit starts an attempt on a key chosen by weight with the injected draw", () => {
  const cases: { rand: number; key: string }[] = [
    { rand: 0, key: "a" },
    { rand: 0.5, key: "a" },
    { rand: 0.749, key: "a" }, // a has 3 of 4 weight units
    { rand: 0.75, key: "b" },
    { rand: 0.999, key: "b" },
  ];
  for (const c of cases) {
    const w = world();
    const events = w.admit(1, T, { rand: c.rand });
    assert.deepEqual(events, [{
      type: "attempt.started",
      at: T,
      requestId: "req-1",
      attempt: 1,
      provider: P,
      model: "gpt-4o",
      key: c.key,
      probe: false,
      reservedTokens: 0, // tpm unlimited: nothing to reserve
    }], `rand ${c.rand}`);
  }
  const tpm = world(config({ rateLimit: { rpm: 0, tpm: 10_000 } }));
  const [e] = tpm.admit(1, T, { estTokens: 1_234 });
  assert.equal(
    e.type === "attempt.started" && e.reservedTokens,
    1_234,
    "tpm on: estimate reserved",
  );
});

Deno.test("pickWeighted spreads draws in proportion to weight; zero weights are never picked", () => {
  const items = [{ id: "a", weight: 3 }, { id: "z", weight: 0 }, { id: "b", weight: 1 }];
  const counts: Record<string, number> = { a: 0, b: 0, z: 0 };
  for (let i = 0; i < 1_000; i++) counts[pickWeighted(items, i / 1_000).id]++;
  assert.deepEqual(counts, { a: 750, b: 250, z: 0 });
  const allZero = [{ id: "x", weight: 0 }, { id: "y", weight: 0 }];
  assert.equal(pickWeighted(allZero, 0.2).id, "x", "all zero: uniform");
  assert.equal(pickWeighted(allZero, 0.7).id, "y");
});

Deno.test("a blocked key is passed over whatever the draw says", () => {
  for (const rand of [0, 0.5, 0.99]) {
    const w = world(config(), [keyBlocked("a", T + 5_000)]);
    const [e] = w.admit(1, T + 1_000, { rand });
    assert.equal(e.type === "attempt.started" && e.key, "b", `rand ${rand}`);
  }
});

Deno.test("every key blocked → attempt.skipped rate_limited with the soonest recovery", () => {
  for (const [a, b] of [[5_000, 3_000], [3_000, 5_000]]) {
    const w = world(config(), [keyBlocked("a", T + a), keyBlocked("b", T + b)]);
    assert.deepEqual(w.admit(1, T + 1_000), [{
      type: "attempt.skipped",
      at: T + 1_000,
      requestId: "req-1",
      attempt: 1,
      provider: P,
      model: "gpt-4o",
      reason: "rate_limited",
      retryAfterMs: 2_000,
    }], `a until +${a}, b until +${b}`);
  }
});

Deno.test("rpm exhausted on every key: each key's block is announced once, then the skip", () => {
  const w = world(config({ rateLimit: { rpm: 1, tpm: 0 } }));
  assert.deepEqual(w.admit(1, T, { rand: 0 }).map((e) => "key" in e && e.key), ["a"]);
  const second = w.admit(2, T, { rand: 0 });
  assert.deepEqual(types(second), ["ratelimit.blocked", "attempt.started"], "a is spent");
  assert.equal((second[1] as EventOf<"attempt.started">).key, "b");
  const third = w.admit(3, T + 30_000);
  // a's block was announced with admit 2; now b's, then the skip with the soonest refill.
  assert.deepEqual(types(third), ["ratelimit.blocked", "attempt.skipped"]);
  assert.equal((third[0] as EventOf<"ratelimit.blocked">).key, "b");
  assert.deepEqual(third.at(-1), {
    type: "attempt.skipped",
    at: T + 30_000,
    requestId: "req-3",
    attempt: 1,
    provider: P,
    model: "gpt-4o",
    reason: "rate_limited",
    retryAfterMs: 30_000,
  });
  assert.deepEqual(types(w.admit(4, T + 40_000)), ["attempt.skipped"], "no second announcement");
  const back = w.admit(5, T + 60_000);
  assert.deepEqual(types(back), ["ratelimit.refilled", "ratelimit.refilled", "attempt.started"]);
});

Deno.test("an open breaker skips the attempt (circuit_open) without starting anything", () => {
  const w = world(config(), [opened(T)]);
  const events = w.admit(1, T + 4_000);
  assert.deepEqual(events, [{
    type: "attempt.skipped",
    at: T + 4_000,
    requestId: "req-1",
    attempt: 1,
    provider: P,
    model: "gpt-4o",
    reason: "circuit_open",
    retryAfterMs: 6_000,
  }]);
});

Deno.test("report: what each failure kind records, blocks, trips and counts", () => {
  const cases: {
    name: string;
    outcome: Outcome;
    then: string[];
    counted?: boolean;
    check?(events: GatewayEvent[], now: number): void;
  }[] = [
    { name: "success", outcome: success, then: ["attempt.succeeded"] },
    { name: "aborted", outcome: abort, then: ["attempt.aborted"] },
    ...(["transient", "timeout", "unknown", "auth"] as const).map((kind) => ({
      name: kind,
      outcome: failure(kind),
      then: ["attempt.failed"],
      counted: true,
    })),
    {
      name: "caller_fault",
      outcome: failure("caller_fault", { status: 400 }),
      then: ["attempt.failed"],
      counted: false,
    },
    {
      name: "rate_limit with Retry-After",
      outcome: failure("rate_limit", { status: 429, retryAfterMs: 20_000 }),
      then: ["attempt.failed", "ratelimit.blocked"],
      counted: false,
      check: (ev, now) =>
        assert.deepEqual(ev[1], {
          type: "ratelimit.blocked",
          at: now,
          provider: P,
          key: "a",
          reason: "retry_after",
          until: now + 20_000,
        }),
    },
    {
      name: "rate_limit without Retry-After",
      outcome: failure("rate_limit", { status: 429 }),
      then: ["attempt.failed", "ratelimit.blocked"],
      counted: false,
      check: (ev, now) => assert.equal((ev[1] as EventOf<"ratelimit.blocked">).until, now + 7_000),
    },
    {
      name: "quota with Retry-After",
      outcome: failure("quota", { status: 429, retryAfterMs: 45_000 }),
      then: ["attempt.failed", "breaker.opened"],
      counted: false,
      check: (ev, now) => {
        const o = ev[1] as EventOf<"breaker.opened">;
        assert.deepEqual([o.reason, o.openMs, o.until], ["quota", 45_000, now + 45_000]);
      },
    },
    {
      name: "quota without Retry-After",
      outcome: failure("quota", { status: 402 }),
      then: ["attempt.failed", "breaker.opened"],
      counted: false,
      check: (ev) => assert.equal((ev[1] as EventOf<"breaker.opened">).openMs, 10_000),
    },
    {
      name: "model_unavailable",
      outcome: failure("model_unavailable", { status: 404 }),
      then: ["attempt.failed", "model.unavailable"],
      counted: false,
      check: (ev, now) =>
        assert.deepEqual(ev[1], {
          type: "model.unavailable",
          at: now,
          provider: P,
          model: "gpt-4o",
          until: now + 300_000,
          message: "upstream said model_unavailable",
        }),
    },
  ];
  for (const c of cases) {
    const w = world();
    w.admit(1, T);
    const now = T + 500;
    const events = w.report(1, now, c.outcome);
    assert.deepEqual(types(events), c.then, c.name);
    const first = events[0];
    assert.equal(first.type !== "attempt.started" && "key" in first && first.key, "a", c.name);
    if (first.type === "attempt.failed") {
      assert.equal(first.counted, c.counted, `${c.name}: counted`);
      assert.equal(first.errorType, (c.outcome as { failure: FailureFacts }).failure.kind);
      assert.equal(first.latencyMs, 80);
    }
    c.check?.(events, now);
  }
});

Deno.test("counted failures open the breaker once the window has enough samples", () => {
  for (const kind of ["transient", "timeout", "unknown", "auth"] as const) {
    const w = world();
    const seen: string[][] = [];
    for (let n = 1; n <= 4; n++) {
      w.admit(n, T + n);
      seen.push(types(w.report(n, T + n + 1, failure(kind))));
    }
    assert.deepEqual(seen.slice(0, 3), [["attempt.failed"], ["attempt.failed"], [
      "attempt.failed",
    ]]);
    assert.deepEqual(seen[3], ["attempt.failed", "breaker.opened"], kind);
    assert.equal(w.state.breaker.status, "open", kind);
  }
});

Deno.test("caller faults and aborts never count, never open the breaker, however many", () => {
  for (const outcome of [failure("caller_fault", { status: 400 }), abort]) {
    const w = world();
    for (let n = 1; n <= 200; n++) {
      w.admit(n, T + n * 10);
      const events = w.report(n, T + n * 10 + 5, outcome);
      assert.ok(!types(events).includes("breaker.opened"), `${outcome.type} #${n}`);
    }
    assert.equal(w.state.breaker.status, "closed");
    assert.equal(w.state.breaker.window.length, 0, "not even recorded as samples");
    // A real failure afterwards is judged on its own: 1 sample, no opening.
    w.admit(999, T + 5_000);
    assert.deepEqual(types(w.report(999, T + 5_001, failure("transient"))), ["attempt.failed"]);
  }
});

Deno.test("a 429 blocks only that key until now + Retry-After; the other key carries on", () => {
  const w = world();
  w.admit(1, T, { rand: 0 }); // key a
  w.report(1, T + 100, failure("rate_limit", { status: 429, retryAfterMs: 20_000 }));
  for (const [n, at] of [[2, T + 1_000], [3, T + 20_099]]) {
    const [e] = w.admit(n, at, { rand: 0 });
    assert.equal(e.type === "attempt.started" && e.key, "b", `at +${at - T}`);
  }
  const back = w.admit(4, T + 20_100, { rand: 0 });
  assert.deepEqual(types(back), ["ratelimit.refilled", "attempt.started"]);
  assert.equal((back[1] as EventOf<"attempt.started">).key, "a");
  assert.equal(w.state.breaker.window.length, 0, "a 429 says nothing about the provider's health");
});

Deno.test("quota trips the breaker at once, even on the first request", () => {
  const w = world();
  w.admit(1, T);
  w.report(1, T + 100, failure("quota", { status: 429, retryAfterMs: 45_000 }));
  const events = w.admit(2, T + 45_099);
  assert.deepEqual(events.map((e) => [e.type, "reason" in e ? e.reason : ""]), [
    ["attempt.skipped", "circuit_open"],
  ]);
  assert.equal((events[0] as EventOf<"attempt.skipped">).retryAfterMs, 1);
  assert.deepEqual(types(w.admit(3, T + 45_100)), ["breaker.half_opened", "attempt.started"]);
});

Deno.test("model_unavailable marks that model only: it is skipped, other models still go", () => {
  const w = world();
  w.admit(1, T, { model: "gpt-5" });
  w.report(1, T + 10, failure("model_unavailable", { status: 404 }));
  // Later requests for that model are skipped before any call reaches the upstream.
  for (let n = 2; n <= 10; n++) {
    assert.deepEqual(types(w.admit(n, T + n * 100, { model: "gpt-5" })), ["attempt.skipped"]);
  }
  const skipped = w.admit(11, T + 60_000, { model: "gpt-5" });
  assert.deepEqual(skipped, [{
    type: "attempt.skipped",
    at: T + 60_000,
    requestId: "req-11",
    attempt: 1,
    provider: P,
    model: "gpt-5",
    reason: "model_unavailable",
    retryAfterMs: 300_000 + 10 - 60_000,
  }]);
  assert.equal(w.state.breaker.status, "closed");
  assert.equal(w.state.breaker.window.length, 0, "the 404 is not a sample against the provider");
  assert.deepEqual(types(w.admit(12, T + 60_000, { model: "gpt-4o" })), ["attempt.started"]);
  assert.deepEqual(types(w.admit(13, T + 300_010, { model: "gpt-5" })), ["attempt.started"]);
});

Deno.test("full cycle: failures open → skipped while open → half-open after openMs → probe closes", () => {
  const w = world();
  for (let n = 1; n <= 4; n++) {
    w.admit(n, T + n);
    w.report(n, T + n, failure("transient", { status: 503 }));
  }
  const opening = w.log.find((e) => e.type === "breaker.opened") as EventOf<"breaker.opened">;
  assert.deepEqual(
    [opening.reason, opening.openMs, opening.until, opening.samples, opening.failureRate],
    ["failure_rate", 10_000, T + 4 + 10_000, 4, 1],
  );
  assert.deepEqual(types(w.admit(5, T + 5_000)), ["attempt.skipped"]);
  assert.deepEqual(w.tick(T + 9_000), [], "tick before the open time is over: nothing");
  assert.deepEqual(w.tick(T + 10_004), [{
    type: "breaker.half_opened",
    at: T + 10_004,
    provider: P,
    probes: 1,
  }]);
  const probe = w.admit(6, T + 10_010);
  assert.deepEqual(types(probe), ["attempt.started"]);
  assert.equal((probe[0] as EventOf<"attempt.started">).probe, true);
  assert.deepEqual(
    types(w.admit(7, T + 10_020)),
    ["attempt.skipped"],
    "only one probe at a time",
  );
  assert.deepEqual(types(w.report(6, T + 10_500, success)), [
    "attempt.succeeded",
    "breaker.closed",
  ]);
  const after = w.admit(8, T + 10_600);
  assert.equal((after[0] as EventOf<"attempt.started">).probe, false, "closed: ordinary traffic");
  assert.deepEqual(replay(w.decider, w.log), w.state, "the log rebuilds the state");
});

Deno.test("admit after openMs half-opens by itself (no tick needed) and takes the probe slot", () => {
  const w = world(config(), [opened(T)]);
  const events = w.admit(1, T + 10_000);
  assert.deepEqual(types(events), ["breaker.half_opened", "attempt.started"]);
  assert.equal((events[1] as EventOf<"attempt.started">).probe, true);
  w.report(1, T + 10_100, failure("timeout", { status: 504 }));
  const reopened = w.log.at(-1) as EventOf<"breaker.opened">;
  assert.equal(reopened.type, "breaker.opened");
  assert.deepEqual([reopened.reason, reopened.reopenCount], ["probe_failed", 1]);
  assert.ok(reopened.openMs >= 16_000 && reopened.openMs <= 24_000, `${reopened.openMs} ms`);
});

Deno.test("a half-open probe slot is released by every outcome", () => {
  const cases: { name: string; outcome: Outcome; breaker: string }[] = [
    { name: "success", outcome: success, breaker: "closed" },
    { name: "transient", outcome: failure("transient"), breaker: "open" },
    { name: "timeout", outcome: failure("timeout"), breaker: "open" },
    { name: "unknown", outcome: failure("unknown"), breaker: "open" },
    { name: "auth", outcome: failure("auth", { status: 401 }), breaker: "open" },
    { name: "quota", outcome: failure("quota", { status: 429 }), breaker: "open" },
    {
      name: "caller_fault",
      outcome: failure("caller_fault", { status: 400 }),
      breaker: "half_open",
    },
    { name: "aborted", outcome: abort, breaker: "half_open" },
    { name: "rate_limit", outcome: failure("rate_limit", { status: 429 }), breaker: "half_open" },
    {
      name: "model_unavailable",
      outcome: failure("model_unavailable", { status: 404 }),
      breaker: "half_open",
    },
  ];
  for (const c of cases) {
    const w = world(config(), [opened(T)]);
    w.admit(1, T + 10_000);
    assert.equal(Object.keys(w.state.breaker.probes).length, 1);
    w.report(1, T + 10_100, c.outcome);
    assert.deepEqual(w.state.breaker.probes, {}, `${c.name}: slot released`);
    assert.equal(w.state.breaker.status, c.breaker, c.name);
    if (c.breaker === "half_open") {
      // Undecided: the next request may probe at once (on another model/key if those were hit).
      const next = w.admit(2, T + 10_200, { model: "other", rand: 0.9 });
      assert.equal(next.at(-1)?.type, "attempt.started", c.name);
      assert.equal((next.at(-1) as EventOf<"attempt.started">).probe, true, c.name);
    }
  }
});

Deno.test("tick: half-opens an expired breaker and announces refilled keys", () => {
  const w = world(config(), [opened(T), keyBlocked("a", T + 3_000), keyBlocked("b", T + 20_000)]);
  assert.deepEqual(w.tick(T + 2_999), []);
  assert.deepEqual(w.tick(T + 3_000), [{
    type: "ratelimit.refilled",
    at: T + 3_000,
    provider: P,
    key: "a",
  }]);
  assert.deepEqual(types(w.tick(T + 20_000)), ["breaker.half_opened", "ratelimit.refilled"]);
  assert.deepEqual(w.tick(T + 30_000), [], "nothing left to announce");
});

Deno.test("nextWakeAt: the soonest moment a tick could change something", () => {
  const d = createProviderDecider(config());
  const cases: { name: string; given: GatewayEvent[]; want: number | undefined }[] = [
    { name: "fresh", given: [], want: undefined },
    { name: "open", given: [opened(T)], want: T + 10_000 },
    { name: "key blocked", given: [keyBlocked("b", T + 3_000)], want: T + 3_000 },
    { name: "both, key sooner", given: [opened(T), keyBlocked("a", T + 3_000)], want: T + 3_000 },
    {
      name: "both, breaker sooner",
      given: [opened(T), keyBlocked("a", T + 13_000)],
      want: T + 10_000,
    },
    {
      name: "half-open and refilled",
      given: [
        opened(T),
        { type: "breaker.half_opened", at: T + 10_000, provider: P, probes: 1 },
        keyBlocked("a", T + 3_000),
        { type: "ratelimit.refilled", at: T + 3_000, provider: P, key: "a" },
      ],
      want: undefined,
    },
  ];
  for (const c of cases) assert.equal(nextWakeAt(replay(d, c.given)), c.want, c.name);
});

Deno.test("events about another provider leave this one untouched", () => {
  const d = createProviderDecider(config());
  const foreign: GatewayEvent[] = [
    { ...opened(T), provider: "anthropic" } as GatewayEvent,
    { ...keyBlocked("a", T + 9_000), provider: "anthropic" } as GatewayEvent,
    {
      type: "model.unavailable",
      at: T,
      provider: "anthropic",
      model: "gpt-4o",
      until: T + 1e6,
      message: "gone",
    },
  ];
  assert.equal(replay(d, foreign), d.initialState);
});
