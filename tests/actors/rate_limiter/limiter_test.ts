import assert from "node:assert/strict";
import type { GatewayEvent } from "../../../src/events/catalogue.ts";
import {
  evolveLimiter,
  initialLimiter,
  type LimiterConfig,
  limiterGate,
  type LimiterState,
  limiterTick,
  refill,
} from "../../../actors/rate_limiter/mod.ts";

const ids = { provider: "groq", key: "k1" };
const T0 = 1_700_000_000_000; // a real epoch, as the system clock gives

const started = (at: number, reservedTokens = 0): GatewayEvent => ({
  type: "attempt.started",
  at,
  requestId: "r",
  attempt: 1,
  ...ids,
  model: "llama",
  probe: false,
  reservedTokens,
});
const succeeded = (
  at: number,
  reservedTokens: number,
  usage?: { promptTokens: number; completionTokens: number },
): GatewayEvent => ({
  type: "attempt.succeeded",
  at,
  requestId: "r",
  attempt: 1,
  ...ids,
  model: "llama",
  probe: false,
  status: 200,
  latencyMs: 5,
  reservedTokens,
  usage,
});
const blocked = (at: number, until: number): GatewayEvent => ({
  type: "ratelimit.blocked",
  at,
  ...ids,
  reason: "retry_after",
  until,
});

const given = (cfg: LimiterConfig, events: GatewayEvent[], from = initialLimiter(cfg)) =>
  events.reduce((s, e) => evolveLimiter(cfg, s, e), from);

/** Admits (gate + fold, as the provider does) until refused; returns how many got through. */
function drain(cfg: LimiterConfig, s: LimiterState, now: number, cost: number, max = 10_000) {
  let n = 0;
  while (n < max && limiterGate(cfg, s, ids, now, cost).ok) {
    s = given(cfg, [started(now, cfg.tpm > 0 ? cost : 0)], s);
    n++;
  }
  return { n, state: s };
}

Deno.test("a fresh key has full buckets; the rpm bucket empties after rpm requests", () => {
  const cfg = { rpm: 60, tpm: 0 };
  const { n, state } = drain(cfg, initialLimiter(cfg), T0, 100);
  assert.equal(n, 60);
  const g = limiterGate(cfg, state, ids, T0, 100);
  assert.equal(g.ok, false);
  assert.deepEqual(g.transitions, [
    { type: "ratelimit.blocked", at: T0, ...ids, reason: "rpm", until: T0 + 1_000 },
  ]);
  assert.equal(!g.ok && g.retryAfterMs, 1_000, "one request per second comes back after 1 s");
});

Deno.test("buckets refill continuously and never above capacity", () => {
  const cfg = { rpm: 60, tpm: 6_000 };
  const empty = given(cfg, [started(T0, 6_000)], { ...initialLimiter(cfg), requests: 1, at: T0 });
  const cases: { after: number; requests: number; tokens: number }[] = [
    { after: 0, requests: 0, tokens: 0 },
    { after: 1_000, requests: 1, tokens: 100 },
    { after: 30_000, requests: 30, tokens: 3_000 },
    { after: 60_000, requests: 60, tokens: 6_000 },
    { after: 3_600_000, requests: 60, tokens: 6_000 }, // an idle hour does not bank credit
  ];
  for (const c of cases) {
    const r = refill(cfg, empty, T0 + c.after);
    assert.ok(
      Math.abs(r.requests - c.requests) < 1e-9,
      `requests after ${c.after} ms: ${r.requests}`,
    );
    assert.ok(Math.abs(r.tokens - c.tokens) < 1e-6, `tokens after ${c.after} ms: ${r.tokens}`);
  }
  const { n } = drain(cfg, empty, T0 + 3_600_000, 1);
  assert.equal(n, 60, "after a long idle spell, only one bucket's worth goes through at once");
});

Deno.test("blocked is announced once; `until` is the first moment a request fits again", () => {
  const cases: { name: string; cfg: LimiterConfig; cost: number; reason: "rpm" | "tpm" }[] = [
    { name: "rpm 7", cfg: { rpm: 7, tpm: 0 }, cost: 1, reason: "rpm" },
    { name: "rpm 600", cfg: { rpm: 600, tpm: 0 }, cost: 1, reason: "rpm" },
    { name: "tpm 1000, cost 300", cfg: { rpm: 0, tpm: 1_000 }, cost: 300, reason: "tpm" },
    { name: "tpm 90k, cost 7k", cfg: { rpm: 1_000, tpm: 90_000 }, cost: 7_000, reason: "tpm" },
  ];
  for (const c of cases) {
    const { state } = drain(c.cfg, initialLimiter(c.cfg), T0, c.cost);
    const g = limiterGate(c.cfg, state, ids, T0, c.cost);
    assert.equal(g.ok, false, c.name);
    assert.equal(g.transitions.length, 1, c.name);
    const ev = g.transitions[0];
    assert.ok(ev.type === "ratelimit.blocked" && ev.reason === c.reason, c.name);
    const until = ev.until;
    assert.equal(until, T0 + (g.ok ? 0 : g.retryAfterMs), c.name);
    // Without the block folded, the bucket itself says: not a millisecond earlier…
    assert.equal(limiterGate(c.cfg, state, ids, until - 1, c.cost).ok, false, `${c.name}: until-1`);
    // … and once folded, asking again while blocked is answered without a second announcement.
    const blockedState = given(c.cfg, g.transitions, state);
    const again = limiterGate(c.cfg, blockedState, ids, T0 + 10, c.cost);
    assert.deepEqual(again, { ok: false, retryAfterMs: until - T0 - 10, transitions: [] }, c.name);
    // At `until` the request fits, and the refill is announced with it.
    const after = limiterGate(c.cfg, blockedState, ids, until, c.cost);
    assert.deepEqual(after, {
      ok: true,
      transitions: [{ type: "ratelimit.refilled", at: until, ...ids }],
    }, c.name);
    const refilled = given(c.cfg, after.transitions, blockedState);
    assert.equal(refilled.blockedUntil, 0, c.name);
  }
});

Deno.test("tick announces the refill once the block has passed, not before, and only once", () => {
  const cfg = { rpm: 60, tpm: 0 };
  const s = given(cfg, [blocked(T0, T0 + 5_000)]);
  assert.deepEqual(limiterTick(s, ids, T0 + 4_999), []);
  const events = limiterTick(s, ids, T0 + 5_000);
  assert.deepEqual(events, [{ type: "ratelimit.refilled", at: T0 + 5_000, ...ids }]);
  assert.deepEqual(limiterTick(given(cfg, events, s), ids, T0 + 6_000), []);
  assert.deepEqual(limiterTick(initialLimiter(cfg), ids, T0), [], "never blocked: nothing to say");
});

Deno.test("an upstream Retry-After blocks even a full bucket, and a later block never shortens it", () => {
  const cfg = { rpm: 60, tpm: 0 };
  let s = given(cfg, [blocked(T0, T0 + 20_000)]);
  assert.deepEqual(limiterGate(cfg, s, ids, T0 + 1, 1), {
    ok: false,
    retryAfterMs: 19_999,
    transitions: [],
  });
  s = given(cfg, [blocked(T0 + 2, T0 + 5_000)], s);
  assert.equal(s.blockedUntil, T0 + 20_000);
  assert.equal(limiterGate(cfg, s, ids, T0 + 19_999, 1).ok, false);
  assert.equal(limiterGate(cfg, s, ids, T0 + 20_000, 1).ok, true);
});

Deno.test("a request bigger than the whole tpm bucket waits for a full bucket, not forever", () => {
  const cfg = { rpm: 0, tpm: 1_000 };
  // A full bucket lets it through…
  assert.equal(limiterGate(cfg, initialLimiter(cfg), ids, T0, 5_000).ok, true);
  const s = given(cfg, [started(T0, 5_000)]);
  // … and the next one gets a finite `until` after which it goes through.
  const g = limiterGate(cfg, s, ids, T0, 5_000);
  assert.equal(g.ok, false);
  const until = g.transitions.find((e) => e.type === "ratelimit.blocked")?.until;
  assert.ok(until !== undefined && Number.isFinite(until) && until > T0);
  assert.ok(until - T0 <= 5 * 60_000, `waits ${until - T0} ms: one overdraft plus one bucket`);
  const later = given(cfg, g.transitions, s);
  assert.equal(limiterGate(cfg, later, ids, until, 5_000).ok, true);
});

Deno.test("attempt.succeeded corrects the token reservation with the reported usage", () => {
  const cfg = { rpm: 0, tpm: 1_000 };
  const s = given(cfg, [started(T0, 600)]);
  assert.equal(Math.round(s.tokens), 400);
  const cases: {
    name: string;
    usage?: { promptTokens: number; completionTokens: number };
    tokens: number;
  }[] = [
    {
      name: "used less than reserved: refund",
      usage: { promptTokens: 100, completionTokens: 50 },
      tokens: 850,
    },
    {
      name: "used more: charge the rest",
      usage: { promptTokens: 500, completionTokens: 400 },
      tokens: 100,
    },
    { name: "no usage reported: keep the estimate", tokens: 400 },
    {
      name: "refund never overflows the bucket",
      usage: { promptTokens: 0, completionTokens: 0 },
      tokens: 1_000,
    },
  ];
  for (const c of cases) {
    const from = c.name.startsWith("refund never") ? { ...s, tokens: 900 } : s;
    const after = given(cfg, [succeeded(T0 + 1, 600, c.usage)], from);
    assert.equal(Math.round(after.tokens), c.tokens, c.name);
  }
});

Deno.test("a refund lets a request through that would have been blocked", () => {
  const cfg = { rpm: 0, tpm: 1_000 };
  const s = given(cfg, [started(T0, 900)]);
  assert.equal(limiterGate(cfg, s, ids, T0, 500).ok, false);
  const refunded = given(cfg, [succeeded(T0, 900, { promptTokens: 50, completionTokens: 50 })], s);
  assert.equal(limiterGate(cfg, refunded, ids, T0, 500).ok, true);
});

Deno.test("0 means unlimited: never blocks, however many requests and tokens", () => {
  const cases: LimiterConfig[] = [{ rpm: 0, tpm: 0 }, { rpm: 0, tpm: 100 }, { rpm: 100, tpm: 0 }];
  for (const cfg of cases) {
    const { n } = drain(cfg, initialLimiter(cfg), T0, 50, 5_000);
    const limit = cfg.rpm > 0 ? cfg.rpm : cfg.tpm > 0 ? Math.floor(cfg.tpm / 50) : 5_000;
    assert.equal(n, limit, `rpm ${cfg.rpm} tpm ${cfg.tpm}`);
  }
  const cfg = { rpm: 0, tpm: 0 };
  const s = given(cfg, Array.from({ length: 1_000 }, () => started(T0, 10_000)));
  assert.deepEqual(limiterGate(cfg, s, ids, T0, 1e9), { ok: true, transitions: [] });
});

Deno.test("a (key, model) limiter names its model in what it announces; a key's names none", () => {
  const cfg = { rpm: 1, tpm: 0 };
  const spent = given(cfg, [started(T0)]);
  for (const who of [ids, { ...ids, model: "llama" }]) {
    const g = limiterGate(cfg, spent, who, T0, 0);
    assert.ok(!g.ok);
    assert.deepEqual(g.transitions, [
      { type: "ratelimit.blocked", at: T0, ...who, reason: "rpm", until: T0 + 60_000 },
    ]);
    assert.equal("model" in g.transitions[0], "model" in who);
    const s = given(cfg, g.transitions, spent);
    assert.deepEqual(limiterTick(s, who, T0 + 60_000), [
      { type: "ratelimit.refilled", at: T0 + 60_000, ...who },
    ]);
  }
});
