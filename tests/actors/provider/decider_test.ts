import assert from "node:assert/strict";
import type { EventOf, FailureKind, GatewayEvent } from "../../../src/events/catalogue.ts";
import { replay } from "../../../actors/runtime/mod.ts";
import { failureStats } from "../../../actors/breaker/mod.ts";
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
    quotaCooldownMs: 60_000,
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
    tick: (now: number, probeLease?: boolean | ReadonlySet<string>) =>
      run({ kind: "tick", now, probeLease }),
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
/** A failure that breaks every model of the provider (the classifier's scope "provider"). */
const refused: Outcome = failure("transient", {
  status: undefined,
  message: "connection refused",
  scope: "provider",
});
const M = "gpt-4o";
const MINI = "gpt-4o-mini";
/** The provider-wide breaker opened at `at`, or `model`'s breaker when one is named. */
const opened = (at: number, openMs = 10_000, model?: string): EventOf<"breaker.opened"> => ({
  type: "breaker.opened",
  at,
  provider: P,
  ...(model !== undefined && { model }),
  reason: "failure_rate",
  openMs,
  until: at + openMs,
  failureRate: 1,
  samples: 4,
  reopenCount: 0,
});
/** A 429 block of a key, or of one (key, model) when a model is named. */
const keyBlocked = (key: string, until: number, model?: string): EventOf<"ratelimit.blocked"> => ({
  type: "ratelimit.blocked",
  at: T,
  provider: P,
  key,
  ...(model !== undefined && { model }),
  reason: "retry_after",
  until,
});
/** `[type, reason]` of each event, for compact expectations. */
const reasons = (events: GatewayEvent[]) =>
  events.map((e) => [e.type, "reason" in e ? e.reason : ""]);
const started = (events: GatewayEvent[]) =>
  events.find((e): e is EventOf<"attempt.started"> => e.type === "attempt.started");

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

Deno.test("a model's open breaker refuses that model only; the provider-wide one every model", () => {
  const cases: {
    name: string;
    given: GatewayEvent[];
    model: string;
    then: (string | number)[][];
  }[] = [
    {
      name: "gpt-4o's open: gpt-4o refused",
      given: [opened(T, 10_000, M)],
      model: M,
      then: [["attempt.skipped", "circuit_open", 6_000]],
    },
    {
      name: "gpt-4o's open: gpt-4o-mini admitted, not as a probe",
      given: [opened(T, 10_000, M)],
      model: MINI,
      then: [["attempt.started", "", "no probe"]],
    },
    ...[M, MINI, "o3 (never seen)"].map((model) => ({
      name: `provider-wide open: ${model} refused`,
      given: [opened(T)],
      model,
      then: [["attempt.skipped", "circuit_open", 6_000]],
    })),
    {
      name: "gpt-4o's open, the provider-wide one due a probe: gpt-4o still refused",
      given: [opened(T - 10_000), opened(T, 10_000, M)],
      model: M,
      then: [["attempt.skipped", "circuit_open", 6_000]],
    },
    {
      name: "gpt-4o's open, the provider-wide one due a probe: gpt-4o-mini probes the provider",
      given: [opened(T - 10_000), opened(T, 10_000, M)],
      model: MINI,
      then: [["breaker.half_opened", "", "provider"], ["attempt.started", "", "probe"]],
    },
    {
      name: "gpt-4o's due a probe, the provider-wide one open: gpt-4o refused",
      given: [opened(T), opened(T - 10_000, 10_000, M)],
      model: M,
      then: [["attempt.skipped", "circuit_open", 6_000]],
    },
  ];
  for (const c of cases) {
    const w = world(config(), c.given);
    const events = w.admit(1, T + 4_000, { model: c.model });
    const got = events.map((e) => {
      const row: (string | number)[] = [e.type, "reason" in e ? e.reason : ""];
      if (e.type === "attempt.skipped") row.push(e.retryAfterMs);
      if (e.type === "attempt.started") row.push(e.probe ? "probe" : "no probe");
      if (e.type === "breaker.half_opened") row.push(e.model ?? "provider");
      return row;
    });
    assert.deepEqual(got, c.then, c.name);
  }
});

Deno.test("report: what each failure kind records, blocks and counts, and against which breaker", () => {
  const cases: {
    name: string;
    outcome: Outcome;
    then: string[];
    counted?: boolean;
    /** Which breaker a counted failure goes to (`attempt.failed.scope`). */
    scope?: "provider" | "model";
    code?: string;
    check?(events: GatewayEvent[], now: number): void;
  }[] = [
    { name: "success", outcome: success, then: ["attempt.succeeded"] },
    { name: "aborted", outcome: abort, then: ["attempt.aborted"] },
    ...(["transient", "timeout", "unknown"] as const).map((kind) => ({
      name: kind,
      outcome: failure(kind),
      then: ["attempt.failed"],
      counted: true,
      scope: "model" as const,
    })),
    {
      name: "auth (a rejected key breaks every model)",
      outcome: failure("auth", { status: 401 }),
      then: ["attempt.failed"],
      counted: true,
      scope: "provider",
    },
    {
      name: "auth the classifier scoped to the model is still provider-wide",
      outcome: failure("auth", { status: 403, scope: "model" }),
      then: ["attempt.failed"],
      counted: true,
      scope: "provider",
    },
    {
      name: "transient scoped provider (connection refused)",
      outcome: refused,
      then: ["attempt.failed"],
      counted: true,
      scope: "provider",
    },
    {
      name: "transient with the upstream's error code",
      outcome: failure("transient", { status: 529, code: "overloaded_error" }),
      then: ["attempt.failed"],
      counted: true,
      scope: "model",
      code: "overloaded_error",
    },
    {
      name: "caller_fault",
      outcome: failure("caller_fault", { status: 400, code: "invalid_request_error" }),
      then: ["attempt.failed"],
      counted: false,
      code: "invalid_request_error",
    },
    {
      name: "rate_limit with Retry-After: blocks the (key, model)",
      outcome: failure("rate_limit", { status: 429, retryAfterMs: 20_000 }),
      then: ["attempt.failed", "ratelimit.blocked"],
      counted: false,
      check: (ev, now) =>
        assert.deepEqual(ev[1], {
          type: "ratelimit.blocked",
          at: now,
          provider: P,
          key: "a",
          model: M,
          reason: "retry_after",
          until: now + 20_000,
        }),
    },
    {
      name: "rate_limit without Retry-After: the default, jittered (rand 0.5 → ×0.75)",
      outcome: failure("rate_limit", { status: 429 }),
      then: ["attempt.failed", "ratelimit.blocked"],
      counted: false,
      check: (ev, now) => assert.equal((ev[1] as EventOf<"ratelimit.blocked">).until, now + 5_250),
    },
    {
      name: "quota with Retry-After: blocks the whole key, no breaker",
      outcome: failure("quota", { status: 429, retryAfterMs: 45_000 }),
      then: ["attempt.failed", "ratelimit.blocked"],
      counted: false,
      check: (ev, now) =>
        assert.deepEqual(ev[1], {
          type: "ratelimit.blocked",
          at: now,
          provider: P,
          key: "a",
          reason: "quota",
          until: now + 45_000,
        }),
    },
    {
      name: "quota without Retry-After: quotaCooldownMs",
      outcome: failure("quota", { status: 402 }),
      then: ["attempt.failed", "ratelimit.blocked"],
      counted: false,
      check: (ev, now) => {
        const b = ev[1] as EventOf<"ratelimit.blocked">;
        assert.deepEqual([b.reason, b.until, "model" in b], ["quota", now + 60_000, false]);
      },
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
          model: M,
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
      assert.equal(first.scope, c.scope, `${c.name}: scope`);
      assert.equal("scope" in first, c.scope !== undefined, `${c.name}: scope only when counted`);
      assert.equal(first.code, c.code, `${c.name}: code`);
      assert.equal("code" in first, c.code !== undefined, `${c.name}: code only when sent`);
      assert.equal(first.errorType, (c.outcome as { failure: FailureFacts }).failure.kind);
      assert.equal(first.latencyMs, 80);
    }
    c.check?.(events, now);
    assert.equal(w.state.breaker.status, "closed", `${c.name}: one outcome opens nothing`);
  }
});

Deno.test("counted failures open the breaker of their scope once its window has enough samples", () => {
  const cases: { name: string; outcome: Outcome; scope: "model" | "provider" }[] = [
    { name: "transient", outcome: failure("transient", { status: 503 }), scope: "model" },
    { name: "timeout", outcome: failure("timeout", { status: 504 }), scope: "model" },
    { name: "unknown", outcome: failure("unknown"), scope: "model" },
    { name: "auth", outcome: failure("auth", { status: 401 }), scope: "provider" },
    { name: "connection refused", outcome: refused, scope: "provider" },
  ];
  for (const c of cases) {
    const w = world();
    const seen: GatewayEvent[][] = [];
    for (let n = 1; n <= 4; n++) {
      w.admit(n, T + n);
      seen.push(w.report(n, T + n + 1, c.outcome));
    }
    assert.deepEqual(seen.slice(0, 3).map(types), [
      ["attempt.failed"],
      ["attempt.failed"],
      ["attempt.failed"],
    ], c.name);
    assert.deepEqual(types(seen[3]), ["attempt.failed", "breaker.opened"], c.name);
    const o = seen[3][1] as EventOf<"breaker.opened">;
    assert.deepEqual(
      [o.reason, o.samples, o.failureRate, o.until],
      ["failure_rate", 4, 1, T + 5 + 10_000],
      c.name,
    );
    if (c.scope === "model") {
      assert.equal(o.model, M, `${c.name}: the model's breaker`);
      assert.equal(w.state.models[M].breaker.status, "open", c.name);
      assert.equal(w.state.breaker.status, "closed", `${c.name}: the provider stays closed`);
      assert.deepEqual(reasons(w.admit(5, T + 100)), [["attempt.skipped", "circuit_open"]]);
      assert.deepEqual(
        types(w.admit(6, T + 100, { model: MINI })),
        ["attempt.started"],
        `${c.name}: the same provider's other model is still admitted`,
      );
    } else {
      assert.equal("model" in o, false, `${c.name}: the provider-wide breaker has no model`);
      assert.equal(w.state.breaker.status, "open", c.name);
      assert.equal(w.state.models[M].breaker.status, "closed", c.name);
      for (const model of [M, MINI]) {
        assert.deepEqual(
          reasons(w.admit(5, T + 100, { model })),
          [["attempt.skipped", "circuit_open"]],
          `${c.name}: ${model} refused too`,
        );
      }
    }
  }
});

Deno.test("model-scoped failures of two models never add up; successes count in both windows", () => {
  // Two failures on each of two models: 4 counted failures on the provider, 2 per model.
  const w = world();
  let n = 0;
  for (const model of [M, MINI, M, MINI]) {
    n++;
    w.admit(n, T + n, { model });
    assert.deepEqual(types(w.report(n, T + n, failure("transient"))), ["attempt.failed"], model);
  }
  assert.equal(w.state.breaker.window.length, 0, "nothing against the provider");
  for (const model of [M, MINI]) {
    const s = failureStats(config().breaker, w.state.models[model].breaker, T + 10);
    assert.deepEqual(s, { samples: 2, failureRate: 1 }, model);
  }
  // Two successes on gpt-4o count for gpt-4o and the provider; two refused connections (on
  // gpt-4o-mini) only for the provider: 2 of 4 provider samples failed, the threshold.
  const v = world();
  for (const [i, model, outcome] of [[1, M, success], [2, M, success]] as const) {
    v.admit(i, T + i, { model });
    v.report(i, T + i, outcome);
  }
  v.admit(3, T + 3, { model: MINI });
  assert.deepEqual(types(v.report(3, T + 3, refused)), ["attempt.failed"]);
  v.admit(4, T + 4, { model: MINI });
  const last = v.report(4, T + 4, refused);
  assert.deepEqual(types(last), ["attempt.failed", "breaker.opened"]);
  assert.equal("model" in last[1], false, "the provider-wide breaker");
  assert.deepEqual(failureStats(config().breaker, v.state.models[M].breaker, T + 10), {
    samples: 2, // gpt-4o's own window: its two successes
    failureRate: 0,
  });
  assert.equal(v.state.models[M].breaker.status, "closed");
  assert.deepEqual(failureStats(config().breaker, v.state.models[MINI].breaker, T + 10), {
    samples: 0,
    failureRate: 0,
  }, "refused connections say nothing about gpt-4o-mini itself");
});

Deno.test("caller faults and aborts never count, never open a breaker, however many", () => {
  for (const outcome of [failure("caller_fault", { status: 400 }), abort]) {
    const w = world();
    for (let n = 1; n <= 200; n++) {
      w.admit(n, T + n * 10);
      const events = w.report(n, T + n * 10 + 5, outcome);
      assert.ok(!types(events).includes("breaker.opened"), `${outcome.type} #${n}`);
    }
    assert.equal(w.state.breaker.status, "closed");
    assert.equal(w.state.breaker.window.length, 0, "not even recorded as samples");
    assert.equal(w.state.models[M].breaker.window.length, 0, "nor against the model");
    // A real failure afterwards is judged on its own: 1 sample, no opening.
    w.admit(999, T + 5_000);
    assert.deepEqual(types(w.report(999, T + 5_001, failure("transient"))), ["attempt.failed"]);
  }
});

Deno.test("a timeout the gateway's own stall caused never counts, however many; a real one does", () => {
  // The gateway was too busy to read the answer in time (scope "gateway", src/providers/execute.ts):
  // nothing about the provider. 2,000 of them in a burst must not open the model's breaker.
  const stalled = failure("timeout", {
    status: undefined,
    message: "no first token (the gateway itself was stalled)",
    scope: "gateway",
  });
  const w = world();
  for (let n = 1; n <= 2_000; n++) {
    w.admit(n, T + n);
    const events = w.report(n, T + n + 1, stalled);
    const failed = events.find((e) => e.type === "attempt.failed");
    assert.ok(failed?.type === "attempt.failed" && failed.counted === false, `#${n} not counted`);
    assert.ok(!("scope" in failed), "no breaker named");
    assert.ok(!types(events).includes("breaker.opened"), `#${n}`);
  }
  assert.equal(w.state.breaker.window.length, 0);
  assert.equal(w.state.models[M]?.breaker.window.length ?? 0, 0);
  assert.equal(started(w.admit(5_000, T + 3_000))?.type, "attempt.started", "still admitted");
  // The same timeout with the gateway responsive is the upstream's: counted against the model.
  const real = failure("timeout", { status: undefined, message: "no first token after 10000 ms" });
  w.admit(5_001, T + 3_001);
  const failed = w.report(5_001, T + 3_002, real).find((e) => e.type === "attempt.failed");
  assert.ok(failed?.type === "attempt.failed" && failed.counted && failed.scope === "model");
});

Deno.test("a 429 blocks only that (key, model) until now + Retry-After", () => {
  const w = world();
  w.admit(1, T, { rand: 0 }); // key a
  w.report(1, T + 100, failure("rate_limit", { status: 429, retryAfterMs: 20_000 }));
  for (const [n, at] of [[2, T + 1_000], [3, T + 20_099]]) {
    const e = w.admit(n, at, { rand: 0 });
    assert.equal(started(e)?.key, "b", `gpt-4o at +${at - T}: key b`);
    assert.deepEqual(types(e), ["attempt.started"]);
  }
  const mini = w.admit(4, T + 1_000, { model: MINI, rand: 0 });
  assert.deepEqual(types(mini), ["attempt.started"]);
  assert.equal(started(mini)?.key, "a", "the key's other models are still admitted on it");
  const back = w.admit(5, T + 20_100, { rand: 0 });
  assert.deepEqual(back[0], {
    type: "ratelimit.refilled",
    at: T + 20_100,
    provider: P,
    key: "a",
    model: M,
  });
  assert.equal(started(back)?.key, "a");
  assert.equal(w.state.breaker.window.length, 0, "a 429 says nothing about the provider's health");
  assert.equal(w.state.models[M].breaker.window.length, 0, "nor about the model's");
});

Deno.test("a (key, model) block: where each model goes, and the tick that lifts it", () => {
  const given = [keyBlocked("a", T + 20_000, M)];
  const cases: {
    name: string;
    given: GatewayEvent[];
    model: string;
    now: number;
    then: [string, string][];
    key?: string;
  }[] = [
    { name: "gpt-4o goes to b", given, model: M, now: T + 1_000, then: [], key: "b" },
    { name: "gpt-4o-mini stays on a", given, model: MINI, now: T + 1_000, then: [], key: "a" },
    {
      name: "b blocked for gpt-4o too: skipped with the soonest recovery",
      given: [...given, keyBlocked("b", T + 30_000, M)],
      model: M,
      now: T + 1_000,
      then: [["attempt.skipped", "rate_limited"]],
    },
    {
      name: "both blocked for gpt-4o: gpt-4o-mini still goes",
      given: [...given, keyBlocked("b", T + 30_000, M)],
      model: MINI,
      now: T + 1_000,
      then: [],
      key: "a",
    },
    {
      name: "a blocked for the other model only: gpt-4o on a",
      given: [keyBlocked("a", T + 20_000, MINI)],
      model: M,
      now: T + 1_000,
      then: [],
      key: "a",
    },
  ];
  for (const c of cases) {
    const w = world(config(), c.given);
    const events = w.admit(1, c.now, { model: c.model, rand: 0 });
    if (c.key) {
      assert.deepEqual(types(events), ["attempt.started"], c.name);
      assert.equal(started(events)?.key, c.key, c.name);
    } else {
      assert.deepEqual(reasons(events), c.then, c.name);
      assert.equal((events[0] as EventOf<"attempt.skipped">).retryAfterMs, 19_000, c.name);
    }
  }
  // Without traffic the tick lifts it at `until`, announcing the (key, model).
  const w = world(config(), given);
  assert.deepEqual(w.tick(T + 19_999), []);
  assert.deepEqual(w.tick(T + 20_000), [{
    type: "ratelimit.refilled",
    at: T + 20_000,
    provider: P,
    key: "a",
    model: M,
  }]);
  assert.deepEqual(w.state.modelLimiters.a ?? {}, {}, "an unlimited model keeps no limiter");
  assert.deepEqual(w.tick(T + 30_000), [], "announced once");
  assert.equal(started(w.admit(2, T + 30_000, { rand: 0 }))?.key, "a");
});

Deno.test("quota blocks the whole key for every model, without touching any breaker", () => {
  for (
    const [name, facts, until] of [
      ["with Retry-After", { status: 429, retryAfterMs: 45_000 }, T + 100 + 45_000],
      ["without: quotaCooldownMs", { status: 402 }, T + 100 + 60_000],
    ] as const
  ) {
    const w = world();
    w.admit(1, T, { rand: 0 }); // key a
    w.report(1, T + 100, failure("quota", facts));
    for (const model of [M, MINI, "o3"]) {
      const e = w.admit(2, T + 1_000, { model, rand: 0 });
      assert.deepEqual(types(e), ["attempt.started"], `${name}: ${model}`);
      assert.equal(started(e)?.key, "b", `${name}: ${model} passes key a over`);
    }
    assert.equal(w.state.breaker.status, "closed", name);
    assert.equal(w.state.models[M].breaker.status, "closed", name);
    assert.equal(w.state.limiters.a.blockedUntil, until, name);
    assert.deepEqual(w.tick(until - 1), [], name);
    assert.deepEqual(w.tick(until), [{
      type: "ratelimit.refilled",
      at: until,
      provider: P,
      key: "a",
    }]);
    assert.equal(started(w.admit(3, until, { model: MINI, rand: 0 }))?.key, "a", name);
  }
  // A provider with one key: every model is refused until the quota block ends.
  const one = world(config({ keys: [{ id: "a", weight: 1 }] }));
  one.admit(1, T);
  one.report(1, T, failure("quota", { status: 429, retryAfterMs: 45_000 }));
  for (const model of [M, MINI]) {
    const e = one.admit(2, T + 45_000 - 1, { model });
    assert.deepEqual(reasons(e), [["attempt.skipped", "rate_limited"]], model);
    assert.equal((e[0] as EventOf<"attempt.skipped">).retryAfterMs, 1, model);
  }
  assert.equal(one.log.some((e) => e.type.startsWith("breaker.")), false, "no breaker trip");
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
  assert.equal(w.state.models["gpt-5"].breaker.window.length, 0, "nor against the model");
  assert.equal(w.state.models["gpt-5"].unavailableUntil, T + 300_010);
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
    [opening.model, opening.reason, opening.openMs, opening.until, opening.samples],
    [M, "failure_rate", 10_000, T + 4 + 10_000, 4],
  );
  assert.equal(opening.failureRate, 1);
  assert.deepEqual(types(w.admit(5, T + 5_000)), ["attempt.skipped"]);
  assert.deepEqual(types(w.admit(50, T + 5_000, { model: MINI })), ["attempt.started"]);
  assert.deepEqual(w.tick(T + 9_000), [], "tick before the open time is over: nothing");
  assert.deepEqual(w.tick(T + 10_004), [{
    type: "breaker.half_opened",
    at: T + 10_004,
    provider: P,
    model: M,
    probes: 1,
  }]);
  const probe = w.admit(6, T + 10_010);
  assert.deepEqual(types(probe), ["attempt.started"]);
  assert.equal(started(probe)?.probe, true);
  assert.deepEqual(
    types(w.admit(7, T + 10_020)),
    ["attempt.skipped"],
    "only one probe at a time",
  );
  const mini = w.admit(51, T + 10_020, { model: MINI });
  assert.equal(started(mini)?.probe, false, "gpt-4o-mini is not part of gpt-4o's recovery");
  assert.deepEqual(w.report(6, T + 10_500, success).slice(1), [{
    type: "breaker.closed",
    at: T + 10_500,
    provider: P,
    model: M,
  }]);
  const after = w.admit(8, T + 10_600);
  assert.equal(started(after)?.probe, false, "closed: ordinary traffic");
  assert.equal(w.log.some((e) => e.type.startsWith("breaker.") && !("model" in e)), false);
  assert.deepEqual(replay(w.decider, w.log), w.state, "the log rebuilds the state");
});

Deno.test("admit after openMs half-opens by itself (no tick needed) and takes the probe slot", () => {
  const cases: { name: string; given: GatewayEvent; outcome: Outcome; model?: string }[] = [
    {
      name: "gpt-4o's breaker, a 504",
      given: opened(T, 10_000, M),
      outcome: failure("timeout"),
      model: M,
    },
    { name: "the provider-wide breaker, refused", given: opened(T), outcome: refused },
  ];
  for (const c of cases) {
    const w = world(config(), [c.given]);
    const events = w.admit(1, T + 10_000);
    assert.deepEqual(types(events), ["breaker.half_opened", "attempt.started"], c.name);
    assert.equal((events[0] as EventOf<"breaker.half_opened">).model, c.model, c.name);
    assert.equal(started(events)?.probe, true, c.name);
    w.report(1, T + 10_100, c.outcome);
    const reopened = w.log.at(-1) as EventOf<"breaker.opened">;
    assert.equal(reopened.type, "breaker.opened", c.name);
    assert.deepEqual(
      [reopened.model, reopened.reason, reopened.reopenCount],
      [c.model, "probe_failed", 1],
      c.name,
    );
    assert.ok(reopened.openMs >= 16_000 && reopened.openMs <= 24_000, `${reopened.openMs} ms`);
  }
});

Deno.test("a half-open probe slot is released by every outcome (a model's breaker)", () => {
  // gpt-4o's breaker is the half-open one: model-scoped failures re-open it; provider-scoped
  // ones go to the provider-wide window and leave gpt-4o's recovery undecided.
  const cases: { name: string; outcome: Outcome; breaker: string; next?: string }[] = [
    { name: "success", outcome: success, breaker: "closed" },
    { name: "transient", outcome: failure("transient"), breaker: "open" },
    { name: "timeout", outcome: failure("timeout"), breaker: "open" },
    { name: "unknown", outcome: failure("unknown"), breaker: "open" },
    { name: "auth", outcome: failure("auth", { status: 401 }), breaker: "half_open" },
    { name: "refused", outcome: refused, breaker: "half_open" },
    { name: "quota", outcome: failure("quota", { status: 429 }), breaker: "half_open" },
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
      next: "attempt.skipped", // gpt-4o is cooling down now
    },
  ];
  for (const c of cases) {
    const w = world(config(), [opened(T, 10_000, M)]);
    w.admit(1, T + 10_000);
    assert.equal(Object.keys(w.state.models[M].breaker.probes).length, 1);
    assert.deepEqual(w.state.breaker.probes, {}, "the closed provider-wide breaker holds no slot");
    w.report(1, T + 10_100, c.outcome);
    assert.deepEqual(w.state.models[M].breaker.probes, {}, `${c.name}: slot released`);
    assert.equal(w.state.models[M].breaker.status, c.breaker, c.name);
    assert.equal(w.state.breaker.status, "closed", c.name);
    if (c.breaker === "half_open") {
      // Undecided: the next request for gpt-4o may probe at once (on key b after a 429 on a).
      const next = w.admit(2, T + 10_200, { rand: 0 });
      assert.equal(next.at(-1)?.type, c.next ?? "attempt.started", c.name);
      if (!c.next) assert.equal(started(next)?.probe, true, c.name);
    }
  }
});

Deno.test("a half-open probe slot is released by every outcome (the provider-wide breaker)", () => {
  // The provider-wide breaker judges only provider-scoped failures; a model's 5xx is neutral
  // to it: the slot is freed and the next request (any model) probes again.
  const cases: { name: string; outcome: Outcome; breaker: string }[] = [
    { name: "success", outcome: success, breaker: "closed" },
    { name: "auth", outcome: failure("auth", { status: 401 }), breaker: "open" },
    { name: "refused", outcome: refused, breaker: "open" },
    { name: "transient (model-scoped)", outcome: failure("transient"), breaker: "half_open" },
    { name: "timeout (model-scoped)", outcome: failure("timeout"), breaker: "half_open" },
    { name: "quota", outcome: failure("quota", { status: 429 }), breaker: "half_open" },
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
    assert.equal(w.state.models[M].breaker.status, "closed", `${c.name}: gpt-4o's stays closed`);
    if (c.breaker === "half_open") {
      // Undecided: the next request may probe at once (on another model/key if those were hit).
      const next = w.admit(2, T + 10_200, { model: "other", rand: 0.9 });
      assert.equal(next.at(-1)?.type, "attempt.started", c.name);
      assert.equal(started(next)?.probe, true, c.name);
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

Deno.test("tick: half-opens each due breaker and lifts each block, each with its scope", () => {
  const w = world(config(), [
    opened(T, 10_000),
    opened(T, 5_000, M),
    opened(T, 20_000, MINI),
    keyBlocked("a", T + 3_000, M),
    keyBlocked("b", T + 3_000),
  ]);
  const scoped = (events: GatewayEvent[]) =>
    events.map((e) =>
      `${e.type}${"key" in e ? ` ${e.key}` : ""}${"model" in e ? ` ${e.model}` : ""}`
    );
  assert.deepEqual(w.tick(T + 2_999), []);
  assert.deepEqual(scoped(w.tick(T + 3_000)), [
    "ratelimit.refilled b",
    `ratelimit.refilled a ${M}`,
  ]);
  assert.deepEqual(scoped(w.tick(T + 5_000)), [`breaker.half_opened ${M}`]);
  assert.deepEqual(scoped(w.tick(T + 10_000)), ["breaker.half_opened"]);
  assert.deepEqual(scoped(w.tick(T + 20_000)), [`breaker.half_opened ${MINI}`]);
  assert.deepEqual(w.tick(T + 30_000), [], "nothing left to announce");
  assert.deepEqual(
    [w.state.breaker.status, w.state.models[M].breaker.status, w.state.models[MINI].breaker.status],
    ["half_open", "half_open", "half_open"],
  );
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
    { name: "a model's breaker open", given: [opened(T, 10_000, M)], want: T + 10_000 },
    {
      name: "a model's breaker sooner than the provider's",
      given: [opened(T, 20_000), opened(T, 5_000, M)],
      want: T + 5_000,
    },
    {
      name: "the provider's sooner than a model's",
      given: [opened(T, 5_000), opened(T, 20_000, M)],
      want: T + 5_000,
    },
    { name: "a (key, model) blocked", given: [keyBlocked("a", T + 3_000, M)], want: T + 3_000 },
    {
      name: "a (key, model) block sooner than the key's",
      given: [keyBlocked("a", T + 9_000), keyBlocked("b", T + 4_000, MINI)],
      want: T + 4_000,
    },
    {
      name: "a model's breaker half-open and its (key, model) block refilled",
      given: [
        opened(T, 10_000, M),
        { type: "breaker.half_opened", at: T + 10_000, provider: P, model: M, probes: 1 },
        keyBlocked("a", T + 3_000, M),
        { type: "ratelimit.refilled", at: T + 3_000, provider: P, key: "a", model: M },
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
    { ...opened(T, 10_000, M), provider: "anthropic" } as GatewayEvent,
    { ...keyBlocked("a", T + 9_000, M), provider: "anthropic" } as GatewayEvent,
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

Deno.test("per-model rpm: each (key, model) has its own bucket; other models are not counted", () => {
  const w = world(config({ rateLimit: { rpm: 0, tpm: 0, models: { [M]: { rpm: 2, tpm: 0 } } } }));
  const scoped = (events: GatewayEvent[]) =>
    events.map((e) => {
      if (e.type === "ratelimit.blocked") {
        return `blocked ${e.key} ${e.model} ${e.reason} +${e.until - T}`;
      }
      if (e.type === "ratelimit.refilled") return `refilled ${e.key} ${e.model}`;
      if (e.type === "attempt.started") return `started ${e.key}`;
      if (e.type === "attempt.skipped") return `skipped ${e.reason} ${e.retryAfterMs}`;
      return e.type;
    });
  const steps: { when: [number, string]; then: string[] }[] = [
    { when: [T, M], then: ["started a"] },
    { when: [T, M], then: ["started a"] },
    { when: [T, MINI], then: ["started a"] }, // unlimited, and not counted against gpt-4o
    { when: [T, M], then: [`blocked a ${M} rpm +30000`, "started b"] },
    { when: [T, M], then: ["started b"] },
    { when: [T, M], then: [`blocked b ${M} rpm +30000`, "skipped rate_limited 30000"] },
    { when: [T + 10_000, MINI], then: ["started a"] },
    { when: [T + 30_000, M], then: [`refilled a ${M}`, `refilled b ${M}`, "started a"] },
  ];
  steps.forEach(({ when: [now, model], then }, i) =>
    assert.deepEqual(scoped(w.admit(i + 1, now, { model, rand: 0 })), then, `step ${i + 1}`)
  );
  assert.equal(w.state.limiters.a.blockedUntil, 0, "the key itself was never blocked");
  assert.equal(w.state.modelLimiters.a[MINI], undefined, "an unlimited model keeps no limiter");
  assert.equal(w.state.modelLimiters.a[M].blockedUntil, 0, "a limited model keeps its buckets");
  assert.deepEqual(replay(w.decider, w.log), w.state);

  // Per-model tpm: the estimate is reserved for the limited model only.
  const t = world(
    config({ rateLimit: { rpm: 0, tpm: 0, models: { [M]: { rpm: 0, tpm: 1_000 } } } }),
  );
  assert.equal(started(t.admit(1, T, { estTokens: 600, rand: 0 }))?.reservedTokens, 600);
  const second = t.admit(2, T, { estTokens: 600, rand: 0 });
  assert.deepEqual(scoped(second), [`blocked a ${M} tpm +12000`, "started b"]);
  assert.equal(started(t.admit(3, T, { model: MINI, estTokens: 600 }))?.reservedTokens, 0);
  // The upstream used less than reserved: the refund lets the next one through on a.
  t.report(1, T, { ...success, usage: { promptTokens: 50, completionTokens: 50 } });
  assert.deepEqual(scoped(t.admit(4, T + 12_000, { estTokens: 600, rand: 0 })), [
    `refilled a ${M}`,
    "started a",
  ]);
});

Deno.test("a model's half-open probe: recovery closes only that model's breaker", () => {
  const w = world(config(), [opened(T, 10_000, M), opened(T, 20_000, MINI)]);
  const probe = w.admit(1, T + 10_000);
  assert.deepEqual(types(probe), ["breaker.half_opened", "attempt.started"]);
  assert.equal(started(probe)?.probe, true);
  assert.deepEqual(w.report(1, T + 10_200, success), [
    {
      type: "attempt.succeeded",
      at: T + 10_200,
      requestId: "req-1",
      attempt: 1,
      provider: P,
      model: M,
      key: "a",
      probe: true,
      latencyMs: 120,
      status: 200,
      reservedTokens: 0,
      usage: undefined,
    },
    { type: "breaker.closed", at: T + 10_200, provider: P, model: M },
  ]);
  assert.equal(w.state.models[M].breaker.status, "closed");
  assert.equal(w.state.models[MINI].breaker.status, "open", "gpt-4o-mini's stays open");
  assert.equal(w.state.breaker.status, "closed");
  assert.deepEqual(reasons(w.admit(2, T + 10_500, { model: MINI })), [[
    "attempt.skipped",
    "circuit_open",
  ]]);
  assert.equal(started(w.admit(3, T + 10_500))?.probe, false, "gpt-4o: ordinary traffic");

  // With two probe slots it takes two probe successes; a third request waits meanwhile.
  const two = world(config({ breaker: { ...config().breaker, halfOpenProbes: 2 } }), [
    opened(T, 10_000, M),
  ]);
  assert.equal(started(two.admit(1, T + 10_000))?.probe, true);
  assert.equal(started(two.admit(2, T + 10_000))?.probe, true);
  assert.deepEqual(reasons(two.admit(3, T + 10_000)), [["attempt.skipped", "circuit_open"]]);
  assert.deepEqual(types(two.report(1, T + 10_100, success)), ["attempt.succeeded"]);
  assert.deepEqual(types(two.report(2, T + 10_200, success)), [
    "attempt.succeeded",
    "breaker.closed",
  ]);
});

Deno.test("a model's failed probes re-open it for longer and longer, capped at maxOpenMs", () => {
  // openMs 10 s, maxOpenMs 60 s: ×2 per re-open, jitter ×(0.8 + 0.4·rand), then the cap.
  const cases: { rand: number; openMs: number[] }[] = [
    { rand: 0.5, openMs: [20_000, 40_000, 60_000, 60_000, 60_000] },
    { rand: 0.99, openMs: [23_920, 47_840, 60_000, 60_000, 60_000] },
    { rand: 0, openMs: [16_000, 32_000, 48_000, 48_000, 48_000] },
  ];
  for (const c of cases) {
    const w = world(config(), [opened(T, 10_000, M)]);
    let now = T + 10_000;
    const got: number[] = [];
    for (let n = 1; n <= c.openMs.length; n++) {
      const admitted = w.admit(n, now);
      assert.deepEqual(types(admitted), ["breaker.half_opened", "attempt.started"], `#${n}`);
      assert.equal(started(admitted)?.probe, true);
      const e = w.report(n, now + 100, failure("transient", { status: 503 }), c.rand);
      const o = e.at(-1) as EventOf<"breaker.opened">;
      assert.deepEqual([o.type, o.model, o.reason, o.reopenCount], [
        "breaker.opened",
        M,
        "probe_failed",
        n,
      ]);
      got.push(o.openMs);
      // Meanwhile the provider's other model is served as usual.
      assert.equal(started(w.admit(100 + n, now + 200, { model: MINI }))?.probe, false);
      now = o.until;
    }
    assert.deepEqual(got, c.openMs, `rand ${c.rand}`);
    assert.equal(w.state.breaker.status, "closed", "the provider-wide breaker never moved");
    // Recovered: the next probe closes it and the count starts over.
    w.admit(99, now);
    w.report(99, now + 100, success);
    assert.deepEqual(
      [w.state.models[M].breaker.status, w.state.models[M].breaker.reopenCount],
      ["closed", 0],
    );
  }
});

Deno.test("a probe while both breakers are half-open is judged by each with its own verdict", () => {
  const cases: {
    name: string;
    outcome: Outcome;
    then: string[];
    provider: string;
    model: string;
  }[] = [
    {
      name: "success closes both",
      outcome: success,
      then: ["attempt.succeeded", "breaker.closed", `breaker.closed ${M}`],
      provider: "closed",
      model: "closed",
    },
    {
      name: "a 503 re-opens the model's only",
      outcome: failure("transient", { status: 503 }),
      then: ["attempt.failed", `breaker.opened ${M}`],
      provider: "half_open",
      model: "open",
    },
    {
      name: "refused re-opens the provider's only",
      outcome: refused,
      then: ["attempt.failed", "breaker.opened"],
      provider: "open",
      model: "half_open",
    },
    {
      name: "auth re-opens the provider's only",
      outcome: failure("auth", { status: 401 }),
      then: ["attempt.failed", "breaker.opened"],
      provider: "open",
      model: "half_open",
    },
    {
      name: "an abort decides nothing",
      outcome: abort,
      then: ["attempt.aborted"],
      provider: "half_open",
      model: "half_open",
    },
  ];
  for (const c of cases) {
    const w = world(config(), [opened(T), opened(T, 10_000, M)]);
    const admitted = w.admit(1, T + 10_000);
    assert.deepEqual(
      admitted.map((e) =>
        `${e.type}${"model" in e && e.type.startsWith("breaker") ? ` ${e.model}` : ""}`
      ),
      ["breaker.half_opened", `breaker.half_opened ${M}`, "attempt.started"],
    );
    assert.equal(Object.keys(w.state.breaker.probes).length, 1, "a slot in each");
    assert.equal(Object.keys(w.state.models[M].breaker.probes).length, 1);
    const events = w.report(1, T + 10_100, c.outcome);
    assert.deepEqual(
      events.map((e) =>
        `${e.type}${e.type.startsWith("breaker") && "model" in e ? ` ${e.model}` : ""}`
      ),
      c.then,
      c.name,
    );
    assert.equal(w.state.breaker.status, c.provider, c.name);
    assert.equal(w.state.models[M].breaker.status, c.model, c.name);
    assert.deepEqual(w.state.breaker.probes, {}, `${c.name}: slots released`);
    assert.deepEqual(w.state.models[M].breaker.probes, {}, c.name);
  }
});

Deno.test("replaying the log of scoped events rebuilds the same state", () => {
  const cfg = config({ rateLimit: { rpm: 0, tpm: 0, models: { [MINI]: { rpm: 1, tpm: 0 } } } });
  const w = world(cfg);
  let n = 0;
  const go = (now: number, model: string, outcome: Outcome, rand = 0) => {
    n++;
    const e = w.admit(n, now, { model, rand });
    if (started(e)) w.report(n, now + 50, outcome);
  };
  go(T, MINI, failure("rate_limit", { status: 429, retryAfterMs: 20_000 })); // (a, mini) blocked
  go(T + 100, MINI, { ...success, usage: { promptTokens: 5, completionTokens: 5 } }); // on b
  go(T + 200, "gpt-5", failure("model_unavailable", { status: 404 })); // gpt-5 cooled down
  for (let i = 0; i < 4; i++) go(T + 300 + i, M, failure("transient", { status: 503 })); // opens
  go(T + 400, "o3", failure("quota", { status: 402 })); // key a blocked for every model
  for (let i = 0; i < 4; i++) go(T + 500 + i, "o3", refused); // provider-wide opens (on key b)
  w.tick(T + 10_353); // gpt-4o half-opens (it opened on the report at +353)
  const s = w.state;
  assert.deepEqual(
    {
      provider: s.breaker.status,
      gpt4o: s.models[M].breaker.status,
      gpt5: s.models["gpt-5"].unavailableUntil,
      keyA: s.limiters.a.blockedUntil,
      miniOnA: s.modelLimiters.a[MINI].blockedUntil,
      miniOnB: s.modelLimiters.b[MINI].requests,
    },
    {
      provider: "open",
      gpt4o: "half_open",
      gpt5: T + 250 + 300_000,
      keyA: T + 450 + 60_000,
      miniOnA: T + 50 + 20_000,
      miniOnB: 0,
    },
  );
  assert.deepEqual(replay(w.decider, w.log), s, "the whole log");
  for (const at of [3, 9, w.log.length - 2]) {
    const hydrated = replay(w.decider, w.log.slice(0, at));
    assert.deepEqual(replay(w.decider, w.log.slice(at), hydrated), s, `split at ${at}`);
  }
});

Deno.test("evolve: each scoped event changes only its own scope (given events / then state)", () => {
  const d = createProviderDecider(config());
  const failed = (scope: "model" | "provider"): GatewayEvent => ({
    type: "attempt.failed",
    at: T,
    requestId: "r",
    attempt: 1,
    provider: P,
    model: M,
    key: "a",
    probe: false,
    status: 503,
    errorType: "transient",
    message: "x",
    latencyMs: 5,
    counted: true,
    scope,
  });
  const fails = (b: { window: readonly { failed: number }[] }) =>
    b.window.reduce((sum, x) => sum + x.failed, 0);
  const cases: {
    name: string;
    given: GatewayEvent[];
    then(s: ProviderState): unknown[];
    want: unknown[];
  }[] = [
    {
      name: "a model's opening",
      given: [opened(T, 10_000, M)],
      want: ["open", T + 10_000, "closed"],
      then: (s) => [s.models[M].breaker.status, s.models[M].breaker.until, s.breaker.status],
    },
    {
      name: "a model's close leaves the provider-wide opening",
      given: [opened(T), opened(T, 10_000, M), {
        type: "breaker.closed",
        at: T + 10_500,
        provider: P,
        model: M,
      }],
      want: ["closed", "open"],
      then: (s) => [s.models[M].breaker.status, s.breaker.status],
    },
    {
      name: "a (key, model) block",
      given: [keyBlocked("a", T + 5_000, M)],
      want: [T + 5_000, 0],
      then: (s) => [s.modelLimiters.a[M].blockedUntil, s.limiters.a.blockedUntil],
    },
    {
      name: "a (key, model) refill announced before its latest block is stale",
      given: [
        keyBlocked("a", T + 5_000, M),
        { ...keyBlocked("a", T + 9_000, M), at: T + 4_000 },
        { type: "ratelimit.refilled", at: T + 5_000, provider: P, key: "a", model: M },
      ],
      want: [T + 9_000],
      then: (s) => [s.modelLimiters.a[M].blockedUntil],
    },
    {
      name: "a quota block (no model)",
      given: [{ ...keyBlocked("b", T + 60_000), reason: "quota" }],
      want: [T + 60_000, {}],
      then: (s) => [s.limiters.b.blockedUntil, s.modelLimiters],
    },
    {
      name: "a model-scoped failure",
      given: [failed("model")],
      want: [1, 0],
      then: (s) => [fails(s.models[M].breaker), fails(s.breaker)],
    },
    {
      name: "a provider-scoped failure",
      given: [failed("provider")],
      want: [0, 1],
      then: (s) => [fails(s.models[M].breaker), fails(s.breaker)],
    },
  ];
  for (const c of cases) assert.deepEqual(c.then(replay(d, c.given)), c.want, c.name);
});

Deno.test("both breakers open: Retry-After is the later of the two, when the model is back", () => {
  const provider: GatewayEvent = { ...opened(T, 10_000) };
  const model: GatewayEvent = { ...opened(T, 30_000), model: "gpt-4o" };
  for (const given of [[provider, model], [model, provider]]) {
    const w = world(config(), given);
    const [skip] = w.admit(1, T + 4_000);
    assert.equal(skip.type, "attempt.skipped");
    assert.equal((skip as EventOf<"attempt.skipped">).retryAfterMs, 26_000);
  }
});
