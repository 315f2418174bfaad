import assert from "node:assert/strict";
import type { GatewayEvent } from "../../../src/events/catalogue.ts";
import { replay } from "../../../actors/runtime/mod.ts";
import {
  availability,
  createProviderDecider,
  type ProviderActorConfig,
} from "../../../actors/provider/mod.ts";

const T = 1_700_000_000_000;
const cfg: ProviderActorConfig = {
  id: "groq",
  keys: [{ id: "a", weight: 1 }, { id: "b", weight: 1 }],
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
};
const decider = createProviderDecider(cfg);
const opened: GatewayEvent = {
  type: "breaker.opened",
  at: T,
  provider: "groq",
  reason: "failure_rate",
  openMs: 10_000,
  until: T + 10_000,
  failureRate: 1,
  samples: 4,
  reopenCount: 0,
};
const blocked = (key: string, until: number): GatewayEvent => ({
  type: "ratelimit.blocked",
  at: T,
  provider: "groq",
  key,
  reason: "retry_after",
  until,
});

/** Whether the real decider would start an attempt (the answer availability must agree with). */
const admits = (given: GatewayEvent[], model: string, now: number) =>
  decider.decide(replay(decider, given), {
    kind: "admit",
    now,
    requestId: "r",
    attempt: 1,
    model,
    estTokens: 0,
    rand: 0,
  }).some((e) => e.type === "attempt.started");

const table: {
  name: string;
  given: GatewayEvent[];
  model?: string;
  now: number;
  want: ReturnType<typeof availability>;
}[] = [
  { name: "fresh provider", given: [], now: T, want: { ok: true } },
  {
    name: "breaker open",
    given: [opened],
    now: T + 4_000,
    want: { ok: false, reason: "circuit_open", retryAfterMs: 6_000 },
  },
  { name: "open time over: a probe may go", given: [opened], now: T + 10_000, want: { ok: true } },
  {
    name: "every key blocked: the soonest unblock",
    given: [blocked("a", T + 3_000), blocked("b", T + 2_000)],
    now: T,
    want: { ok: false, reason: "rate_limited", retryAfterMs: 2_000 },
  },
  { name: "one key still open", given: [blocked("a", T + 3_000)], now: T, want: { ok: true } },
  {
    name: "model cooled down, other models fine",
    given: [{
      type: "model.unavailable",
      at: T,
      provider: "groq",
      model: "old",
      until: T + 60_000,
      message: "gone",
    }],
    model: "old",
    now: T + 1,
    want: { ok: false, reason: "model_unavailable", retryAfterMs: 59_999 },
  },
];

for (const c of table) {
  Deno.test(`availability: ${c.name}`, () => {
    const model = c.model ?? "llama";
    const state = replay(decider, c.given);
    const got = availability(cfg, state, model, c.now);
    assert.deepEqual(got, c.want);
    assert.equal(got.ok, admits(c.given, model, c.now), "agrees with what admit would do");
  });
}

Deno.test("availability changes nothing: the same state admits afterwards", () => {
  const state = replay(decider, [opened]);
  const before = structuredClone(state);
  availability(cfg, state, "llama", T + 20_000);
  assert.deepEqual(state, before);
});
