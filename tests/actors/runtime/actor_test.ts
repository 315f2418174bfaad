import assert from "node:assert/strict";
import { type Decider, DomainError, spawn } from "../../../actors/runtime/mod.ts";

// A tiny account: `log` keeps the order commands were handled in.
interface State {
  balance: number;
  log: string[];
}
type Cmd =
  | { kind: "deposit"; n: number; tag?: string }
  | { kind: "withdraw"; n: number }
  | { kind: "bug" }
  | { kind: "bug_in_evolve" };
type Ev =
  | { type: "deposited"; n: number; tag: string }
  | { type: "withdrawn"; n: number }
  | { type: "poison" };

const account: Decider<State, Cmd, Ev> = {
  initialState: { balance: 0, log: [] },
  decide(s, c) {
    switch (c.kind) {
      case "deposit":
        return [{ type: "deposited", n: c.n, tag: c.tag ?? String(c.n) }];
      case "withdraw":
        if (c.n > s.balance) throw new DomainError("insufficient funds", "insufficient");
        return [{ type: "withdrawn", n: c.n }];
      case "bug":
        throw new TypeError("decide blew up");
      case "bug_in_evolve":
        // The first event folds fine, the second does not: nothing may be kept.
        return [{ type: "deposited", n: 100, tag: "half" }, { type: "poison" }];
    }
  },
  evolve(s, e) {
    switch (e.type) {
      case "deposited":
        return { balance: s.balance + e.n, log: [...s.log, e.tag] };
      case "withdrawn":
        return { balance: s.balance - e.n, log: [...s.log, `-${e.n}`] };
      case "poison":
        throw new Error("evolve blew up");
    }
  },
};

function harness(initial?: State) {
  const published: Ev[] = [];
  const crashes: { error: unknown; id: string }[] = [];
  const ref = spawn("acct-1", account, {
    publish: (e) => published.push(e),
    onCrash: (error, id) => crashes.push({ error, id }),
  }, initial);
  return { ref, published, crashes };
}

/** Lets the mailbox drain (it runs in a microtask queued by tell). */
const drained = () => Promise.resolve();

Deno.test("ask handles the command now, folds its events and returns them", () => {
  const { ref, published } = harness();
  const events = ref.ask({ kind: "deposit", n: 5 });
  assert.deepEqual(events, [{ type: "deposited", n: 5, tag: "5" }]);
  assert.deepEqual(ref.state(), { balance: 5, log: ["5"] });
  assert.deepEqual(published, events);
  assert.equal(ref.id, "acct-1");
});

Deno.test("tell queues: nothing happens synchronously, then commands run in the order told", async () => {
  const { ref, published } = harness();
  ref.tell({ kind: "deposit", n: 1, tag: "a" });
  ref.tell({ kind: "deposit", n: 2, tag: "b" });
  ref.tell({ kind: "withdraw", n: 3 });
  assert.deepEqual(ref.state(), { balance: 0, log: [] }, "fire and forget: not handled yet");
  assert.equal(published.length, 0);
  await drained();
  assert.deepEqual(ref.state().log, ["a", "b", "-3"], "FIFO: the withdraw saw both deposits");
  assert.equal(ref.state().balance, 0);
  assert.deepEqual(published.map((e) => e.type), ["deposited", "deposited", "withdrawn"]);
});

Deno.test("a command told while the mailbox drains is handled after those already queued", async () => {
  const published: Ev[] = [];
  const ref = spawn("acct", account, {
    publish(e) {
      published.push(e);
      if (e.type === "deposited" && e.tag === "a") {
        ref.tell({ kind: "deposit", n: 1, tag: "from-listener" });
      }
    },
  });
  ref.tell({ kind: "deposit", n: 1, tag: "a" });
  ref.tell({ kind: "deposit", n: 1, tag: "b" });
  await drained();
  await drained();
  assert.deepEqual(ref.state().log, ["a", "b", "from-listener"]);
  assert.equal(published.length, 3, "each command handled exactly once");
});

Deno.test("events are published after the fold: a listener that re-enters sees the new state", () => {
  const seen: number[] = [];
  const ref = spawn("acct", account, {
    publish(e) {
      seen.push(ref.state().balance);
      // Re-entering from a listener (a subscriber reacting to an event) must work on new state.
      if (e.type === "deposited" && e.tag === "first") ref.ask({ kind: "withdraw", n: 10 });
    },
  });
  ref.ask({ kind: "deposit", n: 10, tag: "first" });
  assert.deepEqual(seen, [10, 0], "the listener saw 10, and its withdraw was not refused");
  assert.deepEqual(ref.state(), { balance: 0, log: ["first", "-10"] });
});

Deno.test("a DomainError reaches the caller; the actor stays healthy with its state unchanged", () => {
  const { ref, published, crashes } = harness();
  ref.ask({ kind: "deposit", n: 5 });
  const before = ref.state();
  assert.throws(
    () => ref.ask({ kind: "withdraw", n: 50 }),
    (e: unknown) => e instanceof DomainError && e.code === "insufficient",
  );
  assert.equal(ref.state(), before, "same state object: nothing folded");
  assert.equal(ref.restarts, 0, "a refused command is not a crash");
  assert.deepEqual(crashes, []);
  assert.equal(published.length, 1, "nothing published for the refused command");
  ref.ask({ kind: "withdraw", n: 5 });
  assert.equal(ref.state().balance, 0, "still serving commands");
});

Deno.test("an unexpected error in decide: onCrash told, restarts counted, state kept, caller gets it", () => {
  const { ref, published, crashes } = harness();
  ref.ask({ kind: "deposit", n: 7 });
  const before = ref.state();
  assert.throws(() => ref.ask({ kind: "bug" }), TypeError);
  assert.equal(ref.restarts, 1);
  assert.equal(crashes.length, 1);
  assert.equal(crashes[0].id, "acct-1");
  assert.match(String(crashes[0].error), /decide blew up/);
  assert.equal(ref.state(), before);
  assert.equal(published.length, 1);
  ref.ask({ kind: "deposit", n: 1 });
  assert.equal(ref.state().balance, 8, "the restarted actor goes on from the last good state");
});

Deno.test("an error while folding keeps none of the command's events (no half-applied state)", () => {
  const { ref, published, crashes } = harness();
  ref.ask({ kind: "deposit", n: 1 });
  assert.throws(() => ref.ask({ kind: "bug_in_evolve" }), /evolve blew up/);
  assert.deepEqual(ref.state(), { balance: 1, log: ["1"] }, "the first event was not kept either");
  assert.equal(published.length, 1, "nothing from the failed command was published");
  assert.equal(ref.restarts, 1);
  assert.equal(crashes.length, 1);
});

Deno.test("a crash in a told command does not stop the mailbox", async () => {
  const { ref, crashes } = harness();
  ref.tell({ kind: "deposit", n: 1, tag: "a" });
  ref.tell({ kind: "bug" });
  ref.tell({ kind: "withdraw", n: 99 }); // refused: DomainError, no caller to tell
  ref.tell({ kind: "deposit", n: 2, tag: "b" });
  await drained();
  assert.deepEqual(ref.state(), { balance: 3, log: ["a", "b"] });
  assert.equal(ref.restarts, 1, "only the unexpected error counts as a restart");
  assert.equal(crashes.length, 1);
});

Deno.test("hydrate folds events decided elsewhere without publishing them", () => {
  const { ref, published } = harness();
  ref.hydrate([{ type: "deposited", n: 4, tag: "x" }, { type: "withdrawn", n: 1 }]);
  assert.deepEqual(ref.state(), { balance: 3, log: ["x", "-1"] });
  assert.deepEqual(published, [], "replayed history is not announced again");
  ref.ask({ kind: "withdraw", n: 3 });
  assert.equal(ref.state().balance, 0, "commands after hydrate decide on the hydrated state");
});

Deno.test("spawn can start from a given state (a snapshot)", () => {
  const { ref } = harness({ balance: 10, log: ["snap"] });
  ref.ask({ kind: "withdraw", n: 4 });
  assert.deepEqual(ref.state(), { balance: 6, log: ["snap", "-4"] });
});

Deno.test("stop: asks are refused, tells dropped, queued commands discarded", async () => {
  const { ref, published } = harness();
  ref.tell({ kind: "deposit", n: 1 });
  ref.stop();
  ref.tell({ kind: "deposit", n: 2 });
  await drained();
  assert.throws(
    () => ref.ask({ kind: "deposit", n: 3 }),
    (e: unknown) => e instanceof DomainError && e.code === "actor_stopped",
  );
  assert.deepEqual(ref.state(), { balance: 0, log: [] });
  assert.deepEqual(published, []);
});
