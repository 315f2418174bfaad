// The fault matrix: one scenario per way an upstream, a client or NATS can misbehave, each with
// what a user must still see. Shared by `deno task bench:faults` (long, 100 RPS) and
// tests/bench/faults_test.ts (short, CI). Every scenario sends `primary/gpt-4o-mini` with the
// healthy `b/claude-3-5-haiku-latest` (Anthropic format) as fallback, so any answer other than a
// success is a failure to fail over; the harness adds the common invariants (no gateway errors,
// no crash, exactly one request.completed / request.failed per request in JetStream).
import type { Fault } from "../mock/mod.ts";
import type { NatsServer } from "../../tests/_support/nats_server.ts";
import { count, type GatewayConfig, type RunOptions, type ScenarioResult } from "./harness.ts";
import type { MockControl } from "./procs.ts";

export interface ScenarioContext {
  mock: MockControl;
  nats: NatsServer;
  gatewayUrl: string;
  rate: number;
  seconds: number;
  /** Aborted when the load has ended. */
  signal: AbortSignal;
  /** Sleeps, or returns early when the load ends. */
  sleep(ms: number): Promise<void>;
  /** Facts a scenario observed while running, for its own checks and the report. */
  notes: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  /** One line for the report. */
  about: string;
  /** The provider named in `model`; the fallback is always `b`. */
  primary: "a" | "dead";
  stream?: boolean;
  client?: { abortAfterMs?: number; abortAfterFirstChunk?: boolean };
  config?(base: GatewayConfig): GatewayConfig;
  /** Before the load: set the mock's faults. */
  setup?(ctx: ScenarioContext): Promise<void>;
  /** Runs alongside the load (until ctx.signal): flapping faults, killing NATS … */
  during?(ctx: ScenarioContext): Promise<void>;
  teardown?(ctx: ScenarioContext): Promise<void>;
  /** What a user would notice if the gateway got it wrong; empty = as expected. */
  expect(r: ScenarioResult, opts: RunOptions): string[];
}

// --- expectation helpers: each returns a violation message or nothing ---

type Check = string | undefined;

const only = (r: ScenarioResult, allowed: string[]): Check => {
  const bad = Object.keys(r.outcomes).filter((k) => !allowed.includes(k));
  return bad.length
    ? `answers other than ${allowed.join(", ")}: ${bad.map((k) => `${k}×${r.outcomes[k]}`)}`
    : undefined;
};
const eq = (what: string, got: number, want: number): Check =>
  got === want ? undefined : `${what}: ${got}, expected ${want}`;
const atLeast = (what: string, got: number, min: number): Check =>
  got >= min ? undefined : `${what}: ${got}, expected at least ${min}`;
const below = (what: string, got: number, max: number): Check =>
  got < max ? undefined : `${what}: ${got}, expected below ${max}`;
const checks = (...cs: Check[]): string[] => cs.filter((c): c is string => c !== undefined);

const count499 = (r: ScenarioResult) =>
  count(r, "request.failed", "_", (d) => d.status === 499 && d.errorType === "client_abort");

/** The same fault for every request to a target (no `times`: until cleared). */
const always = (fault: Fault): Fault[] => [fault];

/** Tighter timeouts on `a`, for the scenarios where it never answers. */
const withTimeouts = (firstTokenMs: number, totalMs: number) => (c: GatewayConfig) => ({
  ...c,
  providers: { ...c.providers, a: { ...c.providers.a, timeouts: { firstTokenMs, totalMs } } },
});

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "baseline",
    about: "no fault: the control row",
    primary: "a",
    expect: (r) =>
      checks(
        only(r, ["200"]),
        eq("served by a", r.servedBy.a ?? 0, r.sent),
        eq("fallbacks", r.fallbacks, 0),
        eq("breaker transitions", r.breaker.opened + r.breaker.closed, 0),
      ),
  },
  {
    name: "rate_limit_storm",
    about: "every call to a gets 429 + Retry-After: 1",
    primary: "a",
    setup: (ctx) => ctx.mock.setFaults("a", always({ kind: "rate_limit", retryAfterSec: 1 })),
    expect: (r) =>
      checks(
        only(r, ["200"]),
        eq("fallbacks", r.fallbacks, r.sent),
        atLeast("ratelimit.blocked on a", count(r, "ratelimit.blocked", "a"), 1),
        // The limiter honours Retry-After: a is asked about once a second, not once a request.
        below("upstream calls to a", r.hits.a ?? 0, Math.max(8, r.sent / 4)),
        eq("breaker opened (429 is not a provider failure)", r.breaker.opened, 0),
      ),
  },
  {
    name: "errors_30pct",
    about: "30 % of calls to a fail with 500 (3 in every 10), one retry",
    primary: "a",
    config: (c) => ({ ...c, retries: { max: 1, baseMs: 5, maxMs: 20 } }),
    setup: (ctx) => {
      // Enough of the pattern for every call, retries included: ok ok 500 ok ok 500 ok ok ok 500.
      const ok: Fault = { kind: "latency", ms: 0, times: 1 };
      const err: Fault = { kind: "status", status: 500, times: 1 };
      const block = [ok, ok, err, ok, ok, err, ok, ok, ok, err];
      const blocks = Math.ceil((ctx.rate * ctx.seconds * 2) / block.length) + 5;
      return ctx.mock.setFaults("a", Array.from({ length: blocks }, () => block).flat());
    },
    expect: (r) => {
      const failed = count(r, "attempt.failed", "a");
      const retried = count(r, "attempt.retrying", "a");
      return checks(
        only(r, ["200"]),
        atLeast("failed attempts on a", failed, 1),
        // Every failure was handled: retried on a, or fallen over to b.
        eq("retries + fallbacks", retried + r.fallbacks, failed),
        eq("breaker opened (30 % is under the 50 % threshold)", r.breaker.opened, 0),
        atLeast("served by a", r.servedBy.a ?? 0, Math.ceil(r.sent / 2)),
      );
    },
  },
  {
    name: "connection_refused",
    about: "primary points at a closed port",
    primary: "dead",
    expect: (r) =>
      checks(
        only(r, ["200"]),
        eq("fallbacks", r.fallbacks, r.sent),
        atLeast("breaker opened on dead", count(r, "breaker.opened", "dead"), 1),
        // The open breaker skips dead without a call.
        below("attempts on dead", count(r, "attempt.started", "dead"), r.sent),
      ),
  },
  {
    name: "hang_before_headers",
    about: "a never sends headers; 500 ms total timeout",
    primary: "a",
    config: withTimeouts(500, 500),
    setup: (ctx) => ctx.mock.setFaults("a", always({ kind: "hang" })),
    expect: (r) =>
      checks(
        only(r, ["200"]),
        eq("fallbacks", r.fallbacks, r.sent),
        atLeast(
          "timeouts on a",
          count(r, "attempt.failed", "a", (d) => d.errorType === "timeout"),
          1,
        ),
        atLeast("breaker opened on a", count(r, "breaker.opened", "a"), 1),
      ),
  },
  {
    name: "stream_cut",
    about: "a's streams break: before any content, or after 2 pieces",
    primary: "a",
    stream: true,
    setup: (ctx) => {
      const early: Fault = { kind: "cut", afterChunks: 0, times: 1 };
      const late: Fault = { kind: "cut", afterChunks: 2, times: 1 };
      const n = Math.ceil(ctx.rate * ctx.seconds) + 5;
      return ctx.mock.setFaults("a", Array.from({ length: n }, () => [early, late]).flat());
    },
    expect: (r) =>
      checks(
        // Cut before content: fall over, a whole stream from b. Cut after content: b continues
        // the same answer, so the client still gets one whole stream with its [DONE].
        only(r, ["200"]),
        atLeast("fallbacks", r.fallbacks, 1),
        atLeast("streams continued", count(r, "stream.continued", "b"), 1),
        atLeast("breaker opened on a", count(r, "breaker.opened", "a"), 1),
      ),
  },
  {
    name: "malformed_json",
    about: "a answers 200 with broken JSON",
    primary: "a",
    setup: (ctx) => ctx.mock.setFaults("a", always({ kind: "malformed" })),
    expect: (r) =>
      checks(
        only(r, ["200"]),
        eq("fallbacks", r.fallbacks, r.sent),
        atLeast(
          "malformed answers classified transient",
          count(r, "attempt.failed", "a", (d) => d.errorType === "transient"),
          1,
        ),
        atLeast("breaker opened on a", count(r, "breaker.opened", "a"), 1),
      ),
  },
  {
    name: "client_abort_request",
    about: "clients hang up 100 ms into a 300 ms upstream call",
    primary: "a",
    client: { abortAfterMs: 100 },
    setup: (ctx) => ctx.mock.setFaults("a", always({ kind: "latency", ms: 300 })),
    expect: (r) =>
      checks(
        only(r, ["client abort"]),
        // Every request the gateway started ends as a 499 (one whose client left before its
        // body was read never starts).
        atLeast("requests started", count(r, "request.started"), Math.floor(r.sent * 0.9)),
        eq("requests failed with 499", count499(r), count(r, "request.started")),
        // A client leaving is not the provider's fault: no failure, no breaker, no fallback.
        eq("failed attempts", count(r, "attempt.failed"), 0),
        eq("attempts aborted", count(r, "attempt.aborted", "a"), count(r, "attempt.started", "a")),
        eq("fallbacks", r.fallbacks, 0),
        eq("breaker opened", r.breaker.opened, 0),
        eq("upstream calls to b", r.hits.b ?? 0, 0),
      ),
  },
  {
    name: "client_abort_stream",
    about: "clients hang up after the first piece of a slow stream",
    primary: "a",
    stream: true,
    client: { abortAfterFirstChunk: true },
    setup: (ctx) => ctx.mock.setFaults("a", always({ kind: "latency", ms: 0, chunkMs: 100 })),
    expect: (r) =>
      checks(
        only(r, ["client abort"]),
        // They left mid-stream, so every one had started.
        eq("requests failed with 499", count499(r), r.sent),
        eq("failed attempts", count(r, "attempt.failed"), 0),
        eq("attempts aborted", count(r, "attempt.aborted", "a"), r.sent),
        eq("fallbacks", r.fallbacks, 0),
        eq("breaker opened", r.breaker.opened, 0),
      ),
  },
  {
    name: "nats_restart",
    about: "nats-server SIGKILLed at 30 %, restarted at 60 % of the run",
    primary: "a",
    during: async (ctx) => {
      const ms = ctx.seconds * 1000;
      await ctx.sleep(ms * 0.3);
      await ctx.nats.kill();
      // While it is down the gateway must keep answering and hold its events.
      const seen = { connected: true, buffered: 0 };
      const end = Date.now() + ms * 0.3;
      while (Date.now() < end) {
        const e = (await (await fetch(`${ctx.gatewayUrl}/readyz`)).json()).events;
        seen.connected &&= e.connected;
        seen.buffered = Math.max(seen.buffered, e.buffered);
        await new Promise((r) => setTimeout(r, 100));
      }
      ctx.notes.outage = seen;
      await ctx.nats.restart();
      const t0 = Date.now();
      while (Date.now() - t0 < 20_000) {
        const e = (await (await fetch(`${ctx.gatewayUrl}/readyz`)).json()).events;
        if (e.connected) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      ctx.notes.reconnectMs = Date.now() - t0;
    },
    expect: (r) => {
      const outage = r.notes.outage as { connected: boolean; buffered: number } | undefined;
      return checks(
        only(r, ["200"]),
        eq("fallbacks", r.fallbacks, 0),
        outage ? undefined : "nats-server was not killed",
        outage && outage.connected ? "the gateway never noticed NATS was down" : undefined,
        atLeast("events buffered during the outage", outage?.buffered ?? 0, 1),
      );
    },
  },
  {
    name: "flapping",
    about: "a toggles between 503s and health every second",
    primary: "a",
    config: (c) => ({
      ...c,
      providers: {
        ...c.providers,
        a: {
          ...c.providers.a,
          breaker: {
            failureRateThreshold: 0.5,
            minimumRequests: 5,
            windowMs: 1_000,
            openMs: 300,
            maxOpenMs: 1_000,
            halfOpenProbes: 1,
          },
        },
      },
    }),
    during: async (ctx) => {
      let broken = false;
      let flips = 0;
      while (!ctx.signal.aborted) {
        await ctx.sleep(1_000);
        if (ctx.signal.aborted) break;
        broken = !broken;
        flips++;
        if (broken) await ctx.mock.setFaults("a", always({ kind: "status", status: 503 }));
        else await ctx.mock.clearFaults("a");
      }
      ctx.notes.flips = flips;
    },
    teardown: (ctx) => ctx.mock.clearFaults("a"),
    expect: (r, opts) =>
      checks(
        only(r, ["200"]),
        atLeast("served by a", r.servedBy.a ?? 0, 1),
        atLeast("served by b", r.servedBy.b ?? 0, 1),
        atLeast("breaker opened on a", count(r, "breaker.opened", "a"), 1),
        // Long enough for a healthy second after the first broken one: a comes back.
        opts.seconds >= 4
          ? atLeast("breaker closed on a", count(r, "breaker.closed", "a"), 1)
          : undefined,
      ),
  },
];
