import assert from "node:assert/strict";
import { type Decider, DomainError, replay } from "../../../actors/runtime/mod.ts";

// A ledger that keeps the order of what happened, so a fold that reorders or drops shows up.
type Cmd = { kind: "add"; n: number };
type Ev = { type: "added"; n: number };
const ledger: Decider<number[], Cmd, Ev> = {
  initialState: [],
  decide: (_s, c) => [{ type: "added", n: c.n }],
  evolve: (s, e) => [...s, e.n],
};
const added = (...ns: number[]): Ev[] => ns.map((n) => ({ type: "added", n }));

Deno.test("replay folds events in order from the decider's initial state", () => {
  const cases: { name: string; events: Ev[]; from?: number[]; want: number[] }[] = [
    { name: "no events → the initial state", events: [], want: [] },
    { name: "events in stream order", events: added(3, 1, 2), want: [3, 1, 2] },
    {
      name: "from a snapshot, then the tail",
      events: added(4, 5),
      from: [1, 2, 3],
      want: [1, 2, 3, 4, 5],
    },
  ];
  for (const c of cases) {
    assert.deepEqual(replay(ledger, c.events, c.from), c.want, c.name);
  }
  assert.deepEqual(ledger.initialState, [], "replay never mutates the initial state");
});

Deno.test("replay accepts any iterable, such as a generator reading a stream", () => {
  function* stream() {
    yield* added(7, 8);
  }
  assert.deepEqual(replay(ledger, stream()), [7, 8]);
});

Deno.test("replaying what decide produced rebuilds the state decide saw", () => {
  let state = ledger.initialState;
  const log: Ev[] = [];
  for (const n of [5, 6, 7]) {
    const events = ledger.decide(state, { kind: "add", n });
    log.push(...events);
    state = replay(ledger, events, state);
  }
  assert.deepEqual(replay(ledger, log), state);
});

Deno.test("DomainError carries a machine-readable code and is an Error", () => {
  const e = new DomainError("actor a is stopped", "actor_stopped");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "DomainError");
  assert.equal(e.code, "actor_stopped");
  assert.equal(e.message, "actor a is stopped");
});
