import assert from "node:assert/strict";
import {
  itemMinter,
  resolveReferences,
  responseIdOfItem,
} from "../../../src/formats/responses/references.ts";
import type { StoredResponse } from "../../../src/responses/mod.ts";

Deno.test("minted item ids name their response; other ids name none", () => {
  const mint = itemMinter("resp_0190abc");
  const [a, b] = [mint("fc"), mint("msg")];
  assert.deepEqual([a, b], ["fc_0190abc_1", "msg_0190abc_2"]);
  assert.equal(responseIdOfItem(a), "resp_0190abc");
  assert.equal(responseIdOfItem(itemMinter("resp_a_b")("rs")), "resp_a_b");
  assert.equal(responseIdOfItem("fc_upstream"), undefined);
  assert.equal(responseIdOfItem("msg_abc_x"), undefined);
});

const stored: StoredResponse = {
  id: "resp_r1",
  history: [],
  input: [{ type: "message", id: "msg_r1_1", role: "user", content: "hi" }],
  response: {
    output: [{
      type: "function_call",
      id: "fc_r1_2",
      call_id: "call_1",
      name: "f",
      arguments: "{}",
    }],
  },
};

Deno.test("item_reference items are replaced by the stored items they name", async () => {
  const reads: string[] = [];
  const read = (id: string) => {
    reads.push(id);
    return Promise.resolve(id === "resp_r1" ? stored : undefined);
  };
  const r = await resolveReferences([
    { type: "item_reference", id: "msg_r1_1" },
    { type: "item_reference", id: "fc_r1_2" },
    { type: "function_call_output", call_id: "call_1", output: "ok" },
  ], read);
  assert.ok(r.ok);
  assert.deepEqual(r.value.map((i) => i.id ?? i.type), [
    "msg_r1_1",
    "fc_r1_2",
    "function_call_output",
  ]);
  assert.equal(r.value[1].name, "f");
  assert.deepEqual(reads, ["resp_r1"]); // one read per response
});

Deno.test("an unknown reference is a 400 naming the item", async () => {
  for (const id of ["fc_gone_1", "fc_r1_9", "nonsense"]) {
    const r = await resolveReferences(
      [{ type: "message", role: "user", content: "x" }, { type: "item_reference", id }],
      (rid) => Promise.resolve(rid === "resp_r1" ? stored : undefined),
    );
    assert.ok(!r.ok);
    assert.equal(r.status, 400);
    assert.equal(r.param, "input[1].id");
    assert.match(r.message, new RegExp(id));
  }
});
