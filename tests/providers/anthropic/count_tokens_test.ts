import assert from "node:assert/strict";
import {
  buildCountTokensRequest,
  readInputTokens,
} from "../../../src/providers/anthropic/count_tokens.ts";

Deno.test("buildCountTokensRequest: the client's body with the upstream model, key and version", () => {
  const req = buildCountTokensRequest(
    { model: "anthropic/claude-x", messages: [{ role: "user", content: "hi" }], system: "s" },
    { baseUrl: "https://api.anthropic.test/v1", apiKey: "sk-ant", model: "claude-x", beta: "b1" },
  );
  assert.equal(req.url, "https://api.anthropic.test/v1/messages/count_tokens");
  assert.equal(req.method, "POST");
  assert.equal(req.headers["x-api-key"], "sk-ant");
  assert.equal(req.headers["anthropic-version"], "2023-06-01");
  assert.equal(req.headers["anthropic-beta"], "b1");
  assert.deepEqual(JSON.parse(req.body as string), {
    model: "claude-x",
    messages: [{ role: "user", content: "hi" }],
    system: "s",
  });
  const keyless = buildCountTokensRequest({ messages: [] }, {
    baseUrl: "http://local/v1",
    apiKey: "",
    model: "m",
  });
  assert.equal("x-api-key" in keyless.headers, false);
  assert.equal("anthropic-beta" in keyless.headers, false);
});

Deno.test("readInputTokens: a whole non-negative count, or nothing", () => {
  assert.equal(readInputTokens({ input_tokens: 14 }), 14);
  assert.equal(readInputTokens({ input_tokens: 0 }), 0);
  for (
    const bad of [null, "14", {}, { input_tokens: "14" }, { input_tokens: -1 }, {
      input_tokens: 1.5,
    }]
  ) {
    assert.equal(readInputTokens(bad), undefined, JSON.stringify(bad));
  }
});
