// The Anthropic format is exercised end to end in ../server_test.ts; these cases check it with
// Anthropic's own SDK as the client.
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { completionText } from "../../../../bench/mock/mod.ts";
import { withMock } from "./_helpers.ts";

const messages = [{ role: "user" as const, content: "Say hello please" }];

Deno.test("the Anthropic SDK reads the mock's messages, streams and typed errors", async () => {
  await withMock(async (mock) => {
    const client = new Anthropic({ apiKey: "test", baseURL: `${mock.url}/a1`, maxRetries: 0 });
    const message = await client.messages.create({ model: "claude-x", max_tokens: 32, messages });
    assert.deepEqual(message.content, [{ type: "text", text: completionText("a1") }]);
    assert.equal(message.stop_reason, "end_turn");
    assert.deepEqual(message.usage, { input_tokens: 4, output_tokens: 16 });

    const stream = client.messages.stream({ model: "claude-x", max_tokens: 32, messages });
    let text = "";
    stream.on("text", (delta) => (text += delta));
    const final = await stream.finalMessage();
    assert.equal(text, completionText("a1"));
    assert.equal(final.usage.output_tokens, 16);

    mock.setFaults("a1", [
      { kind: "rate_limit", retryAfterSec: 3, times: 1 },
      { kind: "status", status: 529, times: 1 },
      { kind: "quota", times: 1 },
    ]);
    const create = () => client.messages.create({ model: "claude-x", max_tokens: 32, messages });
    await assert.rejects(
      create(),
      (e: unknown) =>
        e instanceof Anthropic.RateLimitError && e.headers?.get("retry-after") === "3",
    );
    await assert.rejects(
      create(),
      (e: unknown) => e instanceof Anthropic.APIError && e.status === 529,
    );
    await assert.rejects(
      create(),
      (e: unknown) =>
        e instanceof Anthropic.APIError && e.status === 402 &&
        (e.error as { error?: { type?: string } })?.error?.type === "billing_error",
    );
  });
});
