// The response store's shared surface: the whole conversation a stored response ends, and the
// error that turns an unreachable store into a 503.
import assert from "node:assert/strict";
import {
  conversationOf,
  ResponseStoreUnavailable,
  type StoredResponse,
} from "../../src/responses/store.ts";

const msg = (id: string, role: string, content: string) => ({
  type: "message",
  id,
  role,
  content,
});

Deno.test("conversationOf: history, then this turn's input, then its output, in order", () => {
  const r: StoredResponse = {
    id: "resp_2",
    history: [msg("m1", "user", "hi"), msg("m2", "assistant", "hello")],
    input: [msg("m3", "user", "weather?")],
    response: {
      id: "resp_2",
      object: "response",
      output: [
        { type: "function_call", id: "fc1", call_id: "c1", name: "weather", arguments: "{}" },
        msg("m4", "assistant", "sunny"),
      ],
    },
  };
  assert.deepEqual(conversationOf(r).map((i) => i.id), ["m1", "m2", "m3", "fc1", "m4"]);
});

Deno.test("conversationOf: a first turn with no output is just its input", () => {
  const r: StoredResponse = {
    id: "resp_1",
    history: [],
    input: [msg("m1", "user", "hi")],
    response: { id: "resp_1", output: [] },
  };
  assert.deepEqual(conversationOf(r), [msg("m1", "user", "hi")]);
});

Deno.test("conversationOf: a new array; the stored response is not changed", () => {
  const r: StoredResponse = {
    id: "resp_1",
    history: [msg("m1", "user", "a")],
    input: [msg("m2", "user", "b")],
    response: { id: "resp_1", output: [msg("m3", "assistant", "c")] },
  };
  const all = conversationOf(r);
  all.push(msg("m4", "user", "d"));
  assert.equal(r.history.length, 1);
  assert.equal(r.input.length, 1);
  assert.equal(r.response.output.length, 1);
});

Deno.test("ResponseStoreUnavailable: an Error with its own name and message", () => {
  const e = new ResponseStoreUnavailable("NATS response store unreachable");
  assert.ok(e instanceof Error);
  assert.ok(e instanceof ResponseStoreUnavailable);
  assert.equal(e.name, "ResponseStoreUnavailable");
  assert.equal(e.message, "NATS response store unreachable");
  assert.match(String(e), /^ResponseStoreUnavailable: NATS response store unreachable$/);
});
