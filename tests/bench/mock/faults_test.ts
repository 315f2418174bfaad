// The mock's fault model: strict validation of fault JSON, and the queues that pick a request's
// fault by target, model and last turn. The HTTP side of per-model faults is checked at the end.
import assert from "node:assert/strict";
import { FAULT_KINDS, type MockUpstream, parseFaults } from "../../../bench/mock/mod.ts";
import { FaultQueues } from "../../../bench/mock/faults.ts";
import { withMock } from "./formats/_helpers.ts";

Deno.test("parseFaults: every kind with its fields, model scope and times", () => {
  const faults = [
    { kind: "stall", afterChunks: 2, model: "gpt-4o" },
    { kind: "slow_first_token", ms: 15000 },
    { kind: "malformed_chunk", afterChunks: 0, times: 1 },
    { kind: "no_done" },
    { kind: "reset", model: "m" },
    { kind: "context_length" },
    { kind: "content_filter", times: 3 },
    { kind: "reject_prefill", model: "claude" },
    { kind: "status", status: 503, model: "gpt-4o", type: "server_error", code: "x" },
  ];
  assert.deepEqual(parseFaults(faults), faults);
  assert.equal(FAULT_KINDS.length, 15);
});

Deno.test("parseFaults: clear errors for bad kinds, fields and values", () => {
  const bad: [unknown, RegExp][] = [
    [{ kind: "explode" }, /fault 0: kind must be one of status, .*reject_prefill/],
    [{ kind: "slow_first_token" }, /fault 0: ms must be a number >= 0/],
    [{ kind: "slow_first_token", ms: -1 }, /ms must be a number >= 0/],
    [{ kind: "stall", afterChunks: 1.5 }, /afterChunks must be an integer >= 0/],
    [{ kind: "malformed_chunk", afterChunks: -1 }, /afterChunks must be an integer >= 0/],
    [{ kind: "no_done", model: "" }, /model must be a non-empty string/],
    [{ kind: "reset", model: 4 }, /model must be a non-empty string/],
    [{ kind: "context_length", times: 0 }, /times must be a positive integer/],
    // A field of another kind is a typo, not something to ignore.
    [{ kind: "stall", ms: 10 }, /stall takes no ms \(fields: model, times, afterChunks\)/],
    [{ kind: "reject_prefill", status: 400 }, /reject_prefill takes no status/],
    [{ kind: "rate_limit", retryAfterSec: -1 }, /retryAfterSec must be a number >= 0/],
    [{ kind: "status", status: 500, message: 5 }, /message must be a string/],
    [[{ kind: "no_done" }, "x"], /fault 1: expected an object/],
  ];
  for (const [value, message] of bad) {
    assert.throws(() => parseFaults(value), message, JSON.stringify(value));
  }
});

Deno.test("FaultQueues: a model-scoped fault is invisible to other models and not used up by them", () => {
  const q = new FaultQueues();
  q.set("a", [
    { kind: "status", status: 503, model: "gpt-4o", times: 2 },
    { kind: "no_done", times: 1 },
  ]);
  const mini = { model: "gpt-4o-mini", prefill: false };
  const big = { model: "gpt-4o", prefill: false };
  // The mini skips the 503s and gets the unscoped fault behind them.
  assert.equal(q.take("a", mini)?.kind, "no_done");
  assert.equal(q.take("a", mini), undefined);
  assert.equal(q.take("a", big)?.kind, "status");
  assert.equal(q.take("a", big)?.kind, "status");
  assert.equal(q.take("a", big), undefined);
  assert.equal(q.take("b", big), undefined, "queues are per target");
});

Deno.test("FaultQueues: reject_prefill applies to prefills only and waits for them", () => {
  const q = new FaultQueues();
  q.set("b", [{ kind: "reject_prefill", times: 1 }]);
  assert.equal(q.take("b", { model: "c", prefill: false }), undefined);
  assert.equal(q.take("b", { model: "c", prefill: false }), undefined);
  assert.equal(q.take("b", { model: "c", prefill: true })?.kind, "reject_prefill");
  assert.equal(q.take("b", { model: "c", prefill: true }), undefined, "times: 1 used up");
  q.set("b", [{ kind: "reject_prefill" }]);
  q.clear("b");
  assert.equal(q.take("b", { model: "c", prefill: true }), undefined);
});

const chat = async (mock: MockUpstream, model: string, messages?: unknown[]) => {
  const res = await fetch(`${mock.url}/a/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify({ model, messages: messages ?? [{ role: "user", content: "hi" }] }),
  });
  await res.body?.cancel();
  return res.status;
};

Deno.test("per-model faults over HTTP: two models on one target fail differently; the call log", async () => {
  await withMock(async (mock) => {
    mock.setFaults("a", [
      { kind: "status", status: 503, model: "gpt-4o" },
      { kind: "reject_prefill", model: "gpt-4o-mini" },
    ]);
    const prefill = [{ role: "user", content: "hi" }, { role: "assistant", content: "Hel" }];
    assert.deepEqual(
      [
        await chat(mock, "gpt-4o"),
        await chat(mock, "gpt-4o-mini"),
        await chat(mock, "gpt-4o-mini", prefill),
        await chat(mock, "gpt-4o", prefill),
      ],
      [503, 200, 400, 503],
    );
    assert.equal(mock.hits("a"), 4);
    const calls = mock.calls().map(({ at, ...c }) => (assert.ok(at > 0), c));
    assert.deepEqual(calls, [
      { target: "a", model: "gpt-4o", stream: false, prefill: false, fault: "status" },
      { target: "a", model: "gpt-4o-mini", stream: false, prefill: false },
      { target: "a", model: "gpt-4o-mini", stream: false, prefill: true, fault: "reject_prefill" },
      { target: "a", model: "gpt-4o", stream: false, prefill: true, fault: "status" },
    ]);
    const log = await (await fetch(`${mock.url}/_mock/calls`)).json();
    assert.equal(log.length, 4);
    mock.reset();
    assert.deepEqual(mock.calls(), []);
  });
});

Deno.test("per-model faults: a scoped header fault passes other models by", async () => {
  await withMock(async (mock) => {
    const res = await fetch(`${mock.url}/a/v1/chat/completions`, {
      method: "POST",
      headers: { "x-mock-fault": '{"kind":"status","status":500,"model":"other"}' },
      body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal(mock.calls()[0].fault, undefined);
  });
});
