// The Responses API passes the wire-format contract (../_contract.ts).
import assert from "node:assert/strict";
import { responsesFormat } from "../../../src/formats/responses/mod.ts";
import { createIdGen } from "../../../src/lib/ids.ts";
import { silentLogger } from "../../../src/lib/logger.ts";
import { createMemoryResponseStore } from "../../../src/responses/mod.ts";
import { formatContract } from "../_contract.ts";

const clock = { now: () => 1_700_000_000_000 };

formatContract({
  format: responsesFormat({
    store: createMemoryResponseStore({ ttlMs: 60_000, clock }),
    ids: createIdGen(),
    clock,
    logger: silentLogger,
  }),
  minimal: { url: "http://gw/v1/responses", body: { model: "p/m", input: "hello" } },
  model: "p/m",
  bad: { model: "p/m", input: 42 },
  unserved: { url: "http://gw/v1/responses", method: "GET" },
  errorShape(body, message) {
    const e = (body as { error: Record<string, unknown> }).error;
    assert.deepEqual(Object.keys(e).sort(), ["code", "message", "param", "type"]);
    assert.equal(e.message, message);
  },
  answerText: (body) => {
    const out = (body as { output: { type: string; content: { text: string }[] }[] }).output;
    return out.filter((i) => i.type === "message").map((i) => i.content[0].text).join("");
  },
  streamEnded: (text) =>
    /event: response\.completed\n/.test(text) && !text.includes("[DONE]") &&
    !text.includes("response.failed"),
  streamFailed: (text) =>
    text.includes("event: response.failed\n") && !text.includes("response.completed"),
});
