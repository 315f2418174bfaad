import assert from "node:assert/strict";
import { answer, createCaller } from "../../src/workers/protocol.ts";

Deno.test("caller: answers are paired with their calls by id, in any order; errors reject", async () => {
  const sent: { id: number; op: string; args: unknown[] }[] = [];
  const c = createCaller((m) => sent.push(m));
  const first = c.call("a", 1);
  const second = c.call("b", 2, 3);
  assert.deepEqual(sent.map((m) => [m.op, m.args]), [["a", [1]], ["b", [2, 3]]]);
  await answer((a) => c.settle(a), sent[1].id, () => "B");
  await answer((a) => c.settle(a), sent[0].id, () => {
    throw new Error("A failed");
  });
  assert.equal(await second, "B");
  await assert.rejects(first, /A failed/);
});

Deno.test("caller: failAll rejects what is still waiting (the other side went away)", async () => {
  const c = createCaller(() => {});
  const pending = c.call("x");
  c.failAll("worker 1 stopped");
  await assert.rejects(pending, /worker 1 stopped/);
});
