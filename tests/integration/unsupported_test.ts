// A candidate whose provider type rejects a parameter the request uses is skipped with the reason
// (no wasted call); with no candidate left the answer is a 400 that says why.
import assert from "node:assert/strict";
import { mockProvider } from "../_support/gateway.ts";
import { hello, inOrder, types, withStack } from "./_stack.ts";

const config = (url: string) => ({
  retries: { max: 0 },
  providers: {
    fastgroq: { ...mockProvider(url, "groq"), type: "groq" as const },
    backup: mockProvider(url, "backup"),
    claude: mockProvider(url, "anthropic", "anthropic"),
  },
});

Deno.test("a provider that cannot honour n > 1 is skipped with the reason; the fallback serves", async () => {
  await withStack(config, async ({ mock, gw, sub, eventsOf }) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "fastgroq/llama",
        fallbacks: ["backup/m"],
        n: 2,
        messages: hello,
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "backup");
    const errors = JSON.parse(res.headers.get("x-gateway-fallback-errors")!);
    assert.deepEqual(errors, [{
      provider: "fastgroq",
      model: "llama",
      status: null,
      error_type: "unsupported",
    }]);
    assert.equal(mock.hits("groq"), 0);
    const id = res.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id)).includes("request.completed"));
    const skipped = eventsOf(id).find((e) => e.type === "gateway.attempt.skipped")!;
    assert.equal((skipped.data as { reason: string }).reason, "unsupported");
    assert.match((skipped.data as { message: string }).message, /fastgroq does not accept n > 1/);
    assert.ok(
      inOrder(types(eventsOf(id)), ["attempt.skipped", "fallback.taken", "attempt.succeeded"]),
    );
  });
});

Deno.test("n > 1 on an Anthropic provider (one message per answer) is skipped, not answered with one choice", async () => {
  await withStack(config, async ({ mock, gw }) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "claude/claude-x",
        fallbacks: ["backup/m"],
        n: 2,
        messages: hello,
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "backup");
    assert.equal(mock.hits("anthropic"), 0);
    // Without a fallback the caller hears why, naming n.
    const refused = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "claude/claude-x", n: 2, messages: hello }),
    });
    assert.equal(refused.status, 400);
    const err = (await refused.json()).error;
    assert.equal(err.type, "invalid_request_error");
    assert.equal(err.param, "n");
    assert.match(err.message, /claude does not accept n > 1/);
    assert.equal(mock.hits("anthropic"), 0);
  });
});

Deno.test("with no candidate able to serve the request the answer is 400 unsupported_request", async () => {
  await withStack(config, async ({ mock, gw }) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "fastgroq/llama", n: 3, messages: hello }),
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.error.code, "unsupported_request");
    assert.equal(body.error.type, "invalid_request_error");
    assert.equal(body.error.param, "n");
    assert.match(body.error.message, /fastgroq does not accept n > 1/);
    assert.equal(res.headers.get("retry-after"), null);
    assert.equal(mock.hits("groq"), 0);
  });
});
