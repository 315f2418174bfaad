// How GET /v1/responses/{id}/input_items shows stored input items: as the spec's ItemResource.
import { Ajv } from "ajv";
import assert from "node:assert/strict";
import { itemResource } from "../../../src/formats/responses/stored.ts";
import { ItemResource } from "../../_support/openai_responses_schema.ts";

const ajv = new Ajv({ allErrors: true, strict: false });
const valid = ajv.compile(ItemResource);

Deno.test("stored input items are listed as ItemResource: status, content parts, image detail", () => {
  const cases = [
    [
      { type: "message", id: "msg_1", role: "user", content: "hi" },
      {
        type: "message",
        id: "msg_1",
        role: "user",
        status: "completed",
        content: [{ type: "input_text", text: "hi" }],
      },
    ],
    [
      { type: "message", id: "msg_2", role: "assistant", content: "earlier" },
      {
        type: "message",
        id: "msg_2",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "earlier", annotations: [], logprobs: [] }],
      },
    ],
    [
      {
        type: "message",
        id: "msg_3",
        role: "user",
        content: [{ type: "input_image", image_url: "https://x/y.png" }],
      },
      {
        type: "message",
        id: "msg_3",
        role: "user",
        status: "completed",
        content: [{ type: "input_image", image_url: "https://x/y.png", detail: "auto" }],
      },
    ],
    [
      {
        type: "function_call_output",
        id: "fco_1",
        call_id: "c",
        output: "ok",
      },
      {
        type: "function_call_output",
        id: "fco_1",
        call_id: "c",
        output: "ok",
        status: "completed",
      },
    ],
  ] as const;
  for (const [stored, listed] of cases) {
    assert.equal(valid(stored), false, `${stored.id} as stored is not an ItemResource`);
    const shown = itemResource({ ...stored });
    assert.deepEqual(shown, listed);
    assert.ok(valid(shown), `${stored.id}: ${ajv.errorsText(valid.errors)}`);
  }
  // A status the item has is kept.
  const call = { type: "function_call", id: "fc_1", call_id: "c", name: "f", arguments: "{}" };
  assert.equal(itemResource({ ...call, status: "incomplete" }).status, "incomplete");
});
