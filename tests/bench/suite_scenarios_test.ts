// The suite's own checks, against canned answers and events instead of a gateway: a gateway that
// does what is promised passes them, one that does not is named. (The suite runs against the real
// gateway in suite_same_test.ts and suite_split_test.ts.)
import assert from "node:assert/strict";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { completionPieces, completionText, type MockCallRecord } from "../../bench/mock/mod.ts";
import type { Answer } from "../../bench/faults/suite_client.ts";
import {
  CONFIGS,
  MOCK_BYTES,
  MOCK_CHUNKS,
  SUITE_SCENARIOS,
  type SuiteConfig,
  type SuiteContext,
} from "../../bench/faults/suite_scenarios.ts";

/** An event without its time (each member of the union on its own). */
type Timeless<E> = E extends unknown ? Omit<E, "at"> : never;

interface Canned {
  answers: Partial<Answer>[];
  events?: Timeless<GatewayEvent>[];
  calls?: Partial<MockCallRecord>[];
}

/** Runs a scenario's checks against canned answers; returns its failures and notes. */
async function check(name: string, config: SuiteConfig, canned: Canned) {
  const failures: string[] = [];
  const notes: string[] = [];
  let i = 0;
  const next = () =>
    Promise.resolve({ id: `x.${i}`, status: 200, latencyMs: 5, ...canned.answers[i++] } as Answer);
  const ctx: SuiteContext = {
    config,
    long: false,
    inject: () => Promise.resolve(),
    json: next,
    stream: next,
    events: () =>
      Promise.resolve((canned.events ?? []).map((e) => ({ at: 1, ...e }) as GatewayEvent)),
    calls: () => Promise.resolve((canned.calls ?? []) as MockCallRecord[]),
    expect: (ok, what) => void (ok || failures.push(what)),
    note: (n) => void notes.push(n),
    sleep: () => Promise.resolve(),
  };
  await SUITE_SCENARIOS.find((s) => s.name === name)!.run(ctx);
  return { failures, notes };
}

const { primary, fallback } = CONFIGS.split;
const head = completionPieces(primary.target, MOCK_BYTES, MOCK_CHUNKS).slice(0, 2).join("");
const tail = completionText(fallback.target, MOCK_BYTES);
const served = (r: typeof primary) => ({ provider: r.provider, model: r.model });
const stream = (text: string, done = 1, errorEvents = 0): Partial<Answer> => ({
  stream: true,
  text,
  sse: { frames: [], chunks: [], done, errorEvents, garbage: 0 },
});
const continuedEvent = {
  type: "stream.continued",
  requestId: "x.0",
  attempt: 2,
  ...served(fallback),
  fromProvider: primary.provider,
  fromModel: primary.model,
  mode: "prefill",
  sentChars: head.length,
  reason: "transient",
} as const;

Deno.test("stream_cut passes one continued answer and names each way of getting it wrong", async () => {
  const good = await check("stream_cut", CONFIGS.split, {
    answers: [{ ...served(primary), ...stream(head + tail) }],
    events: [continuedEvent],
  });
  assert.deepEqual(good.failures, []);

  const ended = await check("stream_cut", CONFIGS.split, {
    answers: [{ ...served(primary), ...stream(head, 0, 1) }],
  });
  assert.equal(ended.failures.length, 3, ended.failures.join("\n"));
  assert.match(ended.failures[0], /one whole stream .* 0×\[DONE\], 1 error event/);
  assert.match(ended.failures[1], /continued by the fallback's text/);
  assert.match(ended.failures[2], /stream\.continued event .* got none/);

  const twice = await check("stream_cut", CONFIGS.split, {
    answers: [{ ...served(primary), ...stream(head + tail, 2) }],
    events: [continuedEvent],
  });
  assert.match(twice.failures.join(), /2×\[DONE\]/);
});

Deno.test("no_done and malformed_chunk pass the primary's whole answer, nothing else", async () => {
  const whole = { ...served(primary), ...stream(completionText(primary.target, MOCK_BYTES)) };
  assert.deepEqual((await check("no_done", CONFIGS.same, { answers: [whole] })).failures, []);
  assert.deepEqual(
    (await check("malformed_chunk", CONFIGS.same, { answers: [whole] })).failures,
    [],
  );
  const failed = await check("no_done", CONFIGS.same, {
    answers: [whole],
    events: [{
      type: "attempt.failed",
      requestId: "x.0",
      attempt: 1,
      ...served(primary),
      key: "a-0",
      probe: false,
      errorType: "transient",
      message: "cut",
      latencyMs: 1,
      counted: true,
    }],
  });
  assert.deepEqual(failed.failures, ["expected no attempt.failed, got transient: cut"]);
  const called = await check("malformed_chunk", CONFIGS.same, {
    answers: [whole],
    calls: [{ target: "a", model: CONFIGS.same.fallback.model }],
  });
  assert.deepEqual(called.failures, ["a/gpt-4o-mini was called 1×"]);
});

Deno.test("rate_limit_retry_after: a model-scoped block passes, a whole-key block and a refused fallback do not", async () => {
  const { primary: p, fallback: f } = CONFIGS.same;
  const block = (model?: string) => ({
    type: "ratelimit.blocked" as const,
    provider: "a",
    key: "a-0",
    model,
    reason: "retry_after" as const,
    until: 2,
  });
  const answers = [served(p), served(f), served(f), served(f)];
  assert.deepEqual(
    (await check("rate_limit_retry_after", CONFIGS.same, { answers, events: [block(p.model)] }))
      .failures,
    [],
  );
  const key = await check("rate_limit_retry_after", CONFIGS.same, {
    answers: [
      { status: 429, error: { message: "limited", type: "rate_limit", code: null, param: null } },
      served(f),
      served(f),
      served(f),
    ],
    events: [block(undefined), {
      type: "attempt.skipped",
      requestId: "x.0",
      attempt: 2,
      ...served(f),
      reason: "rate_limited",
      retryAfterMs: 1000,
    }],
  });
  assert.deepEqual(key.failures, [
    "x.0: expected 200 from either model, got 429",
    "a/gpt-4o-mini skipped without a call 1× (rate_limited)",
    "expected ratelimit.blocked naming model gpt-4o (not the whole key), got whole key",
  ]);
});

Deno.test("prefill_rejected notes whether a prefill reached the fallback", async () => {
  const r = await check("prefill_rejected", CONFIGS.split, {
    answers: [{ ...served(primary), ...stream(head + tail) }],
    calls: [{ target: "b", model: fallback.model, prefill: true }],
  });
  assert.deepEqual(r.failures, []);
  assert.deepEqual(r.notes, ["a prefill was sent to b/claude-3-5-haiku-latest 1× and rejected"]);
});
