import assert from "node:assert/strict";
import type { EventOf, FailureKind, GatewayEvent } from "../../../src/events/catalogue.ts";
import {
  type Outcome,
  type ProviderActor,
  type ProviderActorConfig,
  spawnProviderActor,
} from "../../../actors/provider/mod.ts";
import {
  type AttemptInput,
  type AttemptResult,
  parseCandidate,
  type RequestInput,
  supervise,
  type SupervisorDeps,
} from "../../../actors/supervisor/mod.ts";
import type { Failure } from "../../../src/providers/classifier.ts";

const T = Date.UTC(2025, 0, 2, 3, 4, 5, 0);

function providerConfig(id: string): ProviderActorConfig {
  return {
    id,
    keys: [{ id: `${id}-key`, weight: 1 }],
    breaker: {
      failureRateThreshold: 0.5,
      minimumRequests: 2,
      windowMs: 60_000,
      openMs: 60_000,
      maxOpenMs: 600_000,
      halfOpenProbes: 1,
      probeLeaseMs: 30_000,
    },
    rateLimit: { rpm: 0, tpm: 0 },
    modelCooldownMs: 300_000,
    // The block a 429 without Retry-After gets (the real actor's default is ~0.5–1 s).
    defaultRetryAfterMs: 800,
    quotaCooldownMs: 60_000,
  };
}

/**
 * Real provider actors on a fake clock, one event log for everything published, a fake sleep
 * that moves the clock on by what it was asked to wait.
 */
function system(maxRetries = 0, extra: Partial<SupervisorDeps["config"]> = {}) {
  const published: GatewayEvent[] = [];
  let now = T;
  const clock = { now: () => now };
  const publish = (e: GatewayEvent) => published.push(e);
  const actors = new Map<string, ProviderActor>(
    ["openai", "anthropic", "groq"].map((
      id,
    ) => [id, spawnProviderActor(providerConfig(id), { clock, publish })]),
  );
  const sleeps: number[] = [];
  const deps: SupervisorDeps = {
    config: { maxRetries, backoffBaseMs: 100, backoffMaxMs: 1_000, ...extra },
    provider: (id) => actors.get(id),
    publish,
    clock,
    random: () => 0.5,
    sleep(ms, signal) {
      sleeps.push(ms);
      now += ms;
      return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve();
    },
  };
  return {
    deps,
    published,
    sleeps,
    /** Moves the fake clock on (an attempt that took time). */
    advance(ms: number) {
      now += ms;
    },
    actor: (id: string) => actors.get(id)!,
    [Symbol.dispose]() {
      for (const a of actors.values()) a.stop();
    },
  };
}

function request(candidates: string[], signal = new AbortController().signal): RequestInput {
  return {
    requestId: "req-1",
    model: candidates[0],
    candidates: candidates.map(parseCandidate),
    stream: false,
    estTokens: 100,
    signal,
  };
}

/** A fake upstream: one scripted result per call, recording who was called. */
function upstream(script: Record<string, (a: AttemptInput) => AttemptResult<string>>) {
  const calls: string[] = [];
  const run = (a: AttemptInput): Promise<AttemptResult<string>> => {
    calls.push(`${a.candidate.provider}#${a.attempt}`);
    return Promise.resolve(script[a.candidate.provider](a));
  };
  return { run, calls };
}
const ok = (value: string): AttemptResult<string> => ({
  type: "success",
  status: 200,
  latencyMs: 40,
  value,
});
const failure = (kind: FailureKind, status = 503): AttemptResult<string> => ({
  type: "failure",
  failure: { kind, status, message: `${kind} upstream` },
  latencyMs: 30,
});
const trace = (events: GatewayEvent[]) =>
  events.map((e) => `${e.type}${"provider" in e ? ` ${e.provider}` : ""}`);
/** `id`'s breaker (or its `model`'s) opened a second ago, until `until`. */
const openBreaker = (id: string, until = T + 59_000, model?: string): GatewayEvent => ({
  type: "breaker.opened",
  at: T - 1_000,
  provider: id,
  ...(model !== undefined && { model }),
  reason: "failure_rate",
  openMs: until - T + 1_000,
  until,
  failureRate: 1,
  samples: 10,
  reopenCount: 0,
});

Deno.test("falls over in candidate order and answers from the first that works", async () => {
  using sys = system();
  const up = upstream({
    openai: () => failure("transient"),
    anthropic: (a) => ok(`hello from ${a.key}`),
    groq: () => ok("never"),
  });
  const res = await supervise(
    sys.deps,
    request(["openai/gpt-4o", "anthropic/claude", "groq/llama"]),
    up.run,
  );
  assert.ok(res.ok);
  assert.equal(res.value, "hello from anthropic-key");
  assert.deepEqual(res.candidate, { provider: "anthropic", model: "claude" });
  assert.deepEqual(up.calls, ["openai#1", "anthropic#2"]);
  assert.deepEqual(trace(sys.published), [
    "request.started",
    "attempt.started openai",
    "attempt.failed openai",
    "fallback.taken anthropic",
    "attempt.started anthropic",
    "attempt.succeeded anthropic",
    "request.completed anthropic",
  ]);
  const done = sys.published.at(-1) as EventOf<"request.completed">;
  assert.deepEqual([done.fallbackIndex, done.attempts], [1, 2]);
  assert.equal(res.state().phase, "done");
});

Deno.test("retries the same provider after the backoff, then succeeds", async () => {
  using sys = system(1);
  let n = 0;
  const up = upstream({
    openai: () => (n++ === 0 ? failure("transient", 503) : ok("second time")),
  });
  const res = await supervise(sys.deps, request(["openai/gpt-4o"]), up.run);
  assert.ok(res.ok);
  assert.deepEqual(up.calls, ["openai#1", "openai#2"]);
  assert.deepEqual(sys.sleeps, [50], "rand 0.5 × base 100");
  assert.deepEqual(trace(sys.published), [
    "request.started",
    "attempt.started openai",
    "attempt.failed openai",
    "attempt.retrying openai",
    "attempt.started openai",
    "attempt.succeeded openai",
    "request.completed openai",
  ]);
});

Deno.test("an open breaker is skipped without calling the upstream", async () => {
  using sys = system();
  sys.actor("openai").hydrate([openBreaker("openai")]);
  const up = upstream({ openai: () => ok("must not run"), anthropic: () => ok("from anthropic") });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(res.ok);
  assert.equal(res.value, "from anthropic");
  assert.deepEqual(up.calls, ["anthropic#2"]);
  assert.deepEqual(trace(sys.published), [
    "request.started",
    "attempt.skipped openai",
    "fallback.taken anthropic",
    "attempt.started anthropic",
    "attempt.succeeded anthropic",
    "request.completed anthropic",
  ]);
  const skip = sys.published[1] as EventOf<"attempt.skipped">;
  assert.deepEqual([skip.reason, skip.retryAfterMs], ["circuit_open", 59_000]);
});

Deno.test("nobody available → 503 at once with the soonest Retry-After, no upstream call", async () => {
  using sys = system();
  sys.actor("openai").hydrate([openBreaker("openai")]);
  sys.actor("anthropic").hydrate([openBreaker("anthropic", T + 20_000)]);
  const up = upstream({});
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(!res.ok);
  assert.deepEqual([res.failure.status, res.failure.retryAfterMs], [503, 20_000]);
  assert.deepEqual(up.calls, []);
});

Deno.test("several failures open a model's breaker; the next request skips that model only", async () => {
  using sys = system();
  const up = upstream({
    openai: (a) => a.candidate.model === "x" ? failure("transient") : ok("openai z"),
    anthropic: () => ok("b"),
  });
  for (let i = 0; i < 2; i++) {
    const res = await supervise(sys.deps, {
      ...request(["openai/x", "anthropic/y"]),
      requestId: `r${i}`,
    }, up.run);
    assert.ok(res.ok);
  }
  const opened = sys.published.find((e) => e.type === "breaker.opened");
  assert.ok(opened?.type === "breaker.opened" && opened.provider === "openai");
  assert.equal(opened.model, "x", "openai/x's breaker, not openai's");
  up.calls.length = 0;
  await supervise(sys.deps, { ...request(["openai/x", "anthropic/y"]), requestId: "r3" }, up.run);
  assert.deepEqual(up.calls, ["anthropic#2"], "openai/x not called while its breaker is open");
  up.calls.length = 0;
  const z = await supervise(sys.deps, { ...request(["openai/z"]), requestId: "r4" }, up.run);
  assert.ok(z.ok);
  assert.deepEqual(up.calls, ["openai#1"], "openai's other model is still called");
});

Deno.test("a model's open breaker falls over to the same provider's next model", async () => {
  using sys = system();
  sys.actor("openai").hydrate([openBreaker("openai", T + 59_000, "gpt-4o")]);
  const up = upstream({ openai: (a) => ok(`from ${a.candidate.model}`) });
  const res = await supervise(
    sys.deps,
    request(["openai/gpt-4o", "openai/gpt-4o-mini"]),
    up.run,
  );
  assert.ok(res.ok);
  assert.equal(res.value, "from gpt-4o-mini");
  assert.deepEqual(up.calls, ["openai#2"]);
  const skip = sys.published[1] as EventOf<"attempt.skipped">;
  assert.deepEqual([skip.type, skip.model, skip.reason, skip.retryAfterMs], [
    "attempt.skipped",
    "gpt-4o",
    "circuit_open",
    59_000,
  ]);
});

Deno.test("a caller fault stops at once with the upstream status, no fallback", async () => {
  using sys = system(2);
  const up = upstream({ openai: () => failure("caller_fault", 413), anthropic: () => ok("no") });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(!res.ok);
  assert.deepEqual([res.failure.status, res.failure.errorType], [413, "caller_fault"]);
  assert.deepEqual(up.calls, ["openai#1"]);
  assert.equal(sys.actor("openai").state().breaker.window.length, 0, "not held against openai");
});

Deno.test("a pending stream is completed by settle(success), exactly once", async () => {
  using sys = system();
  const up = upstream({
    openai: () => ({ type: "success", pending: true, value: "stream", status: 200, latencyMs: 15 }),
  });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(res.ok);
  assert.equal(res.value, "stream");
  assert.deepEqual(
    trace(sys.published),
    ["request.started", "attempt.started openai"],
    "still open",
  );
  assert.equal(res.state().phase, "running");
  const end: Outcome = {
    type: "success",
    status: 200,
    latencyMs: 900,
    usage: { promptTokens: 5, completionTokens: 7 },
  };
  res.settle(end);
  res.settle(end);
  res.settle({ type: "failure", failure: { kind: "transient", message: "late" }, latencyMs: 1 });
  assert.deepEqual(trace(sys.published), [
    "request.started",
    "attempt.started openai",
    "attempt.succeeded openai",
    "request.completed openai",
  ]);
  assert.equal((sys.published.at(-1) as EventOf<"request.completed">).upstreamLatencyMs, 900);
  assert.equal(res.state().phase, "done");
});

Deno.test("a pending stream that fails after reaching the client ends in 502, no fallback", async () => {
  using sys = system(2);
  const up = upstream({
    openai: () => ({ type: "success", pending: true, value: "stream", status: 200, latencyMs: 15 }),
    anthropic: () => ok("never"),
  });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(res.ok);
  res.settle({
    type: "failure",
    failure: { kind: "transient", status: 502, message: "reset" },
    latencyMs: 400,
  });
  res.settle({ type: "success", status: 200, latencyMs: 1 });
  assert.deepEqual(trace(sys.published).slice(2), ["attempt.failed openai", "request.failed"]);
  const failed = sys.published.at(-1) as EventOf<"request.failed">;
  assert.equal(failed.status, 502);
  assert.deepEqual(up.calls, ["openai#1"]);
  assert.equal(res.state().phase, "failed");
  const state = sys.actor("openai").state();
  assert.equal(
    state.models["gpt-4o"].breaker.window[0]?.failed,
    1,
    "counted against openai/gpt-4o",
  );
  assert.equal(state.breaker.window.length, 0, "a model's 502: nothing provider-wide");
});

Deno.test("a run() that throws still reports (probe released) and the error reaches the caller", async () => {
  using sys = system();
  // openai/gpt-4o's open time is over: this request is its half-open probe.
  sys.actor("openai").hydrate([openBreaker("openai", T, "gpt-4o")]);
  const boom = new Error("adapter bug");
  const run = () => Promise.reject(boom);
  await assert.rejects(
    supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), run),
    boom,
  );
  const openai = sys.actor("openai").state().models["gpt-4o"].breaker;
  assert.deepEqual(openai.probes, {}, "probe slot released");
  assert.deepEqual(
    [openai.status, openai.reopenCount],
    ["open", 1],
    "the crash counted as a failed probe",
  );
  const failed = sys.published.find((e) => e.type === "attempt.failed") as EventOf<
    "attempt.failed"
  >;
  assert.deepEqual([failed.errorType, failed.message, failed.probe], [
    "unknown",
    "attempt crashed",
    true,
  ]);
});

Deno.test("an aborted probe frees its slot: the next request may probe at once", async () => {
  using sys = system();
  sys.actor("openai").hydrate([openBreaker("openai", T)]);
  const first = await supervise(
    sys.deps,
    request(["openai/gpt-4o"]),
    () => Promise.resolve({ type: "aborted", latencyMs: 3 }),
  );
  assert.ok(!first.ok);
  assert.equal(first.failure.status, 499);
  assert.equal(sys.actor("openai").state().breaker.status, "half_open");
  const up = upstream({ openai: () => ok("probe ok") });
  const second = await supervise(
    sys.deps,
    { ...request(["openai/gpt-4o"]), requestId: "req-2" },
    up.run,
  );
  assert.ok(second.ok);
  assert.deepEqual(up.calls, ["openai#1"]);
  assert.ok(sys.published.some((e) => e.type === "breaker.closed"), "the second probe closed it");
});

Deno.test("a client abort between attempts stops with 499 and calls nobody else", async () => {
  for (const maxRetries of [0, 2]) {
    using sys = system(maxRetries);
    const ctl = new AbortController();
    const up = upstream({
      openai: () => {
        ctl.abort();
        return failure("transient");
      },
      anthropic: () => ok("never"),
    });
    const res = await supervise(
      sys.deps,
      request(["openai/gpt-4o", "anthropic/claude"], ctl.signal),
      up.run,
    );
    assert.ok(!res.ok);
    assert.deepEqual([res.failure.status, res.failure.errorType], [499, "client_abort"]);
    assert.deepEqual(up.calls, ["openai#1"], `maxRetries ${maxRetries}`);
    const last = trace(sys.published).slice(-2);
    assert.deepEqual(
      last,
      [maxRetries ? "attempt.retrying openai" : "fallback.taken anthropic", "request.failed"],
      `maxRetries ${maxRetries}`,
    );
  }
});

Deno.test("a result carrying `stop` ends the chain: the provider hears the real failure, nobody else is called", async () => {
  using sys = system(2);
  const up = upstream({
    openai: () => ({
      ...failure("transient", 503),
      stop: {
        plugin: "one_shot",
        reason: "no fallback wanted",
        status: 503,
        errorType: "plugin_stopped",
      },
    }),
    anthropic: () => ok("never"),
  });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(!res.ok);
  assert.deepEqual([res.failure.status, res.failure.message], [503, "no fallback wanted"]);
  assert.deepEqual(up.calls, ["openai#1"], "no retry and no fallback");
  assert.deepEqual(trace(sys.published), [
    "request.started",
    "attempt.started openai",
    "attempt.failed openai",
    "plugin.stopped openai",
    "request.failed",
  ]);
  const window = sys.actor("openai").state().models["gpt-4o"].breaker.window;
  assert.equal(
    window.reduce((n, b) => n + b.failed, 0),
    1,
    "the 503 still counts against openai/gpt-4o",
  );
});

Deno.test("a timeout falls over at once, even with retries left: a silent route is not retried", async () => {
  using sys = system(2);
  const up = upstream({ openai: () => failure("timeout", 504), anthropic: () => ok("b") });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(res.ok);
  assert.deepEqual(up.calls, ["openai#1", "anthropic#2"]);
  assert.deepEqual(sys.sleeps, []);
});

Deno.test("a 429 with a short Retry-After is retried once after it, on the same model", async () => {
  using sys = system(0);
  let n = 0;
  const up = upstream({
    openai: () =>
      n++ === 0
        ? {
          type: "failure",
          failure: { kind: "rate_limit", status: 429, message: "slow down", retryAfterMs: 1_200 },
          latencyMs: 30,
        }
        : ok("after the wait"),
    anthropic: () => ok("never"),
  });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(res.ok);
  assert.equal(res.value, "after the wait");
  assert.deepEqual(up.calls, ["openai#1", "openai#2"]);
  assert.deepEqual(sys.sleeps, [1_200], "exactly the Retry-After, not sooner");
  assert.ok(trace(sys.published).includes("ratelimit.blocked openai"));
});

Deno.test("a 429 asking for a long wait falls over at once", async () => {
  using sys = system(2);
  const up = upstream({
    openai: () => ({
      type: "failure",
      failure: { kind: "rate_limit", status: 429, message: "slow down", retryAfterMs: 30_000 },
      latencyMs: 30,
    }),
    anthropic: () => ok("b"),
  });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(res.ok);
  assert.deepEqual(up.calls, ["openai#1", "anthropic#2"]);
  assert.deepEqual(sys.sleeps, []);
});

Deno.test("429s without Retry-After back off, never before the block, and stop at 3 calls", async () => {
  using sys = system(0);
  const up = upstream({
    openai: () => ({
      type: "failure",
      failure: { kind: "rate_limit", status: 429, message: "slow down" },
      latencyMs: 30,
    }),
    anthropic: () => ok("b"),
  });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(res.ok);
  assert.deepEqual(up.calls, ["openai#1", "openai#2", "openai#3", "anthropic#4"]);
  // Without a Retry-After the actor blocks (key, model) for its default jittered down to half
  // (800 ms × (0.5 + 0.5 / 2) = 600 ms with this draw); the request's waits are never shorter
  // than that block (the backoff alone would be 75 and 150).
  assert.deepEqual(sys.sleeps, [600, 600]);
});

Deno.test("capability at every candidate → the provider's 400; each model tried once", async () => {
  using sys = system(2);
  const capability = (message: string): AttemptResult<string> => {
    // As execute.ts hands it over: a classifier Failure (FailureFacts plus code and scope).
    const f: Failure = {
      kind: "capability",
      status: 400,
      message,
      code: "context_length_exceeded",
    };
    return { type: "failure", failure: f, latencyMs: 20 };
  };
  const up = upstream({
    openai: () => capability("maximum context length is 128000 tokens"),
    anthropic: () => capability("prompt is too long: 250000 tokens > 200000 maximum"),
  });
  const res = await supervise(sys.deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.ok(!res.ok);
  assert.deepEqual(up.calls, ["openai#1", "anthropic#2"]);
  assert.deepEqual([res.failure.status, res.failure.errorType, res.failure.message], [
    400,
    "capability",
    "prompt is too long: 250000 tokens > 200000 maximum",
  ]);
  assert.equal(sys.actor("openai").state().breaker.window.length, 0, "not held against openai");
});

Deno.test("the failure reaches the provider actor as execute classified it: scope and code too", async () => {
  using sys = system();
  const reports: unknown[] = [];
  const real = sys.deps.provider;
  const deps: SupervisorDeps = {
    ...sys.deps,
    provider(id) {
      const actor = real(id)!;
      return {
        ...actor,
        ask(c) {
          if (c.kind === "report") reports.push(c.outcome);
          return actor.ask(c);
        },
      };
    },
  };
  const f: Failure = {
    kind: "transient",
    message: "fetch failed: tcp connect error: Connection refused",
    scope: "provider",
    code: "ECONNREFUSED",
  };
  const refused: AttemptResult<string> = { type: "failure", failure: f, latencyMs: 2 };
  const up = upstream({ openai: () => refused, anthropic: () => ok("b") });
  await supervise(deps, request(["openai/gpt-4o", "anthropic/claude"]), up.run);
  assert.deepEqual(reports[0], {
    type: "failure",
    failure: {
      kind: "transient",
      message: "fetch failed: tcp connect error: Connection refused",
      scope: "provider",
      code: "ECONNREFUSED",
    },
    latencyMs: 2,
  });
});

Deno.test("the request budget: attempts get its deadline; out of time with candidates left → 504", async () => {
  using sys = system(2, { requestMs: 5_000 });
  const deadlines: (number | undefined)[] = [];
  const run = (a: AttemptInput): Promise<AttemptResult<string>> => {
    deadlines.push(a.deadlineAt);
    sys.advance(5_000); // the attempt used up the whole budget
    return Promise.resolve(failure("timeout", 504));
  };
  const res = await supervise(
    sys.deps,
    request(["openai/gpt-4o", "anthropic/claude", "groq/llama"]),
    run,
  );
  assert.ok(!res.ok);
  assert.deepEqual(deadlines, [T + 5_000], "nobody else was called");
  assert.deepEqual([res.failure.status, res.failure.errorType], [504, "timeout"]);
  assert.match(res.failure.message, /timeouts\.requestMs = 5000 ms/);
});
