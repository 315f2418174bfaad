import assert from "node:assert/strict";
import { EVENT_TYPES, eventProvider, eventServer, subjectOf } from "../../src/events/catalogue.ts";
import { SAMPLES } from "./_samples.ts";

Deno.test("every catalogue type is category.event in snake_case, listed once", () => {
  for (const type of EVENT_TYPES) assert.match(type, /^[a-z]+\.[a-z_]+$/);
  assert.equal(new Set(EVENT_TYPES).size, EVENT_TYPES.length);
  assert.deepEqual([...EVENT_TYPES].sort(), Object.keys(SAMPLES).sort());
});

Deno.test("subject is gateway.<category>.<event>.<provider>", () => {
  assert.equal(subjectOf(SAMPLES["attempt.failed"]), "gateway.attempt.failed.openai");
  assert.equal(subjectOf(SAMPLES["fallback.taken"]), "gateway.fallback.taken.anthropic");
  assert.equal(subjectOf(SAMPLES["ratelimit.blocked"]), "gateway.ratelimit.blocked.groq");
});

Deno.test("events without a provider use _ as the last token", () => {
  assert.equal(subjectOf(SAMPLES["request.started"]), "gateway.request.started._");
  assert.equal(subjectOf(SAMPLES["request.failed"]), "gateway.request.failed._");
  assert.equal(eventProvider(SAMPLES["request.failed"]), undefined);
});

Deno.test("every subject has exactly four tokens, so gateway.*.*.<provider> filters work", () => {
  for (const event of Object.values(SAMPLES)) {
    const tokens = subjectOf(event).split(".");
    assert.equal(tokens.length, 4, subjectOf(event));
    assert.equal(tokens[3], eventProvider(event) ?? eventServer(event) ?? "_");
  }
});

Deno.test("MCP events end their subject with the MCP server", () => {
  assert.equal(subjectOf(SAMPLES["mcp.tool_failed"]), "gateway.mcp.tool_failed.files");
  assert.equal(subjectOf(SAMPLES["mcp.breaker_opened"]), "gateway.mcp.breaker_opened.files");
});
