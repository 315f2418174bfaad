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
  quotaCooldownMs: 60_000,
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
const blocked = (key: string, until: number, model?: string): GatewayEvent => ({
  type: "ratelimit.blocked",
  at: T,
  provider: "groq",
  key,
  ...(model !== undefined && { model }),
  reason: "retry_after",
  until,
});
/** `model`'s own breaker opened at T for 10 s. */
const modelOpened = (model: string): GatewayEvent => ({ ...opened, model } as GatewayEvent);
const startedOn = (key: string, model: string, at = T): GatewayEvent => ({
  type: "attempt.started",
  at,
  requestId: `r-${key}-${model}-${at}`,
  attempt: 1,
  provider: "groq",
  model,
  key,
  probe: false,
  reservedTokens: 0,
});
/** One request per minute per (key, model) for "llama". */
const perModel: ProviderActorConfig = {
  ...cfg,
  rateLimit: { rpm: 0, tpm: 0, models: { llama: { rpm: 1, tpm: 0 } } },
};

/** What the real decider's admit answers, as an Availability (which availability must equal). */
const admits = (c: ProviderActorConfig, given: GatewayEvent[], model: string, now: number) => {
  const d = createProviderDecider(c);
  const last = d.decide(replay(d, given), {
    kind: "admit",
    now,
    requestId: "r",
    attempt: 1,
    model,
    estTokens: 0,
    rand: 0,
  }).at(-1);
  if (last?.type === "attempt.started") return { ok: true };
  assert.ok(last?.type === "attempt.skipped" && last.reason !== "unsupported");
  return { ok: false, reason: last.reason, retryAfterMs: last.retryAfterMs };
};

const table: {
  name: string;
  cfg?: ProviderActorConfig;
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
  {
    name: "the model's breaker open",
    given: [modelOpened("llama")],
    now: T + 4_000,
    want: { ok: false, reason: "circuit_open", retryAfterMs: 6_000 },
  },
  {
    name: "another model's breaker open: this one fine",
    given: [modelOpened("mixtral")],
    now: T + 4_000,
    want: { ok: true },
  },
  {
    name: "the provider-wide breaker open: a model never seen refused too",
    given: [opened],
    model: "never-seen",
    now: T + 4_000,
    want: { ok: false, reason: "circuit_open", retryAfterMs: 6_000 },
  },
  {
    name: "the model's open time over: a probe may go",
    given: [modelOpened("llama")],
    now: T + 10_000,
    want: { ok: true },
  },
  {
    name: "the model half-open with its probe slot taken: until the probe's lease ends",
    given: [
      modelOpened("llama"),
      { type: "breaker.half_opened", at: T + 10_000, provider: "groq", model: "llama", probes: 1 },
      { ...startedOn("a", "llama", T + 10_000), probe: true } as GatewayEvent,
    ],
    now: T + 10_500,
    want: { ok: false, reason: "circuit_open", retryAfterMs: 29_500 },
  },
  {
    name: "another model while one's probe slot is taken",
    given: [
      modelOpened("llama"),
      { type: "breaker.half_opened", at: T + 10_000, provider: "groq", model: "llama", probes: 1 },
      { ...startedOn("a", "llama", T + 10_000), probe: true } as GatewayEvent,
    ],
    model: "mixtral",
    now: T + 10_500,
    want: { ok: true },
  },
  {
    name: "(a, model) blocked, b open",
    given: [blocked("a", T + 3_000, "llama")],
    now: T,
    want: { ok: true },
  },
  {
    name: "(a, model) and (b, model) blocked: the soonest",
    given: [blocked("a", T + 3_000, "llama"), blocked("b", T + 5_000, "llama")],
    now: T,
    want: { ok: false, reason: "rate_limited", retryAfterMs: 3_000 },
  },
  {
    name: "both keys blocked for another model: this one fine",
    given: [blocked("a", T + 3_000, "mixtral"), blocked("b", T + 5_000, "mixtral")],
    now: T,
    want: { ok: true },
  },
  {
    name: "a blocked for every model (quota), b for this model: the later of a key's two",
    given: [
      blocked("a", T + 8_000),
      blocked("a", T + 2_000, "llama"),
      blocked("b", T + 9_000, "llama"),
    ],
    now: T,
    want: { ok: false, reason: "rate_limited", retryAfterMs: 8_000 },
  },
  {
    name: "per-model rpm spent on both keys",
    cfg: perModel,
    given: [startedOn("a", "llama"), startedOn("b", "llama")],
    now: T + 15_000,
    want: { ok: false, reason: "rate_limited", retryAfterMs: 45_000 },
  },
  {
    name: "per-model rpm spent on a: b still has its own",
    cfg: perModel,
    given: [startedOn("a", "llama")],
    now: T + 15_000,
    want: { ok: true },
  },
  {
    name: "per-model rpm spent for llama: mixtral unlimited",
    cfg: perModel,
    given: [startedOn("a", "llama"), startedOn("b", "llama")],
    model: "mixtral",
    now: T + 15_000,
    want: { ok: true },
  },
];

for (const c of table) {
  Deno.test(`availability: ${c.name}`, () => {
    const model = c.model ?? "llama";
    const config = c.cfg ?? cfg;
    const d = createProviderDecider(config);
    const state = replay(d, c.given);
    const got = availability(config, state, model, c.now);
    assert.deepEqual(got, c.want);
    assert.deepEqual(got, admits(config, c.given, model, c.now), "agrees with what admit does");
  });
}

Deno.test("availability changes nothing: the same state admits afterwards", () => {
  for (const given of [[opened], [modelOpened("llama"), blocked("a", T + 3_000, "llama")]]) {
    const state = replay(decider, given);
    const before = structuredClone(state);
    availability(cfg, state, "llama", T + 20_000);
    assert.deepEqual(state, before);
  }
});
