// POST /v1/embeddings through the failover pipeline, with the official OpenAI SDK as the client.
import assert from "node:assert/strict";
import { embedding } from "../../bench/mock/formats/mod.ts";
import { mockProvider } from "../_support/gateway.ts";
import { withStack } from "./_stack.ts";

const config = (url: string) => ({
  retries: { max: 0 },
  providers: {
    primary: mockProvider(url, "primary"),
    backup: mockProvider(url, "backup"),
    claude: mockProvider(url, "claude", "anthropic", { keys: [] }),
  },
});

Deno.test("embeddings fall over like chat: a 503 primary, then the fallback serves", async () => {
  await withStack(config, async ({ mock, client }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const { data, response } = await client.embeddings.create(
      {
        model: "primary/text-embedding-3-small",
        input: ["hello", "world"],
        encoding_format: "float",
        fallbacks: ["backup/text-embedding-3-small"],
      } as Parameters<typeof client.embeddings.create>[0],
    ).withResponse();
    assert.equal(response.headers.get("x-gateway-provider"), "backup");
    assert.equal(data.data.length, 2);
    assert.deepEqual(
      data.data[1].embedding.map((x) => Math.fround(x)),
      embedding("world").map(Math.fround),
    );
    assert.ok(data.usage.prompt_tokens > 0);
  });
});

Deno.test("the SDK's default base64 encoding is produced by the gateway, whatever the provider", async () => {
  await withStack(config, async ({ client }) => {
    // The openai SDK asks for base64 and decodes it back to floats.
    const res = await client.embeddings.create({ model: "primary/e", input: "hello" });
    const want = embedding("hello");
    assert.equal(res.data[0].embedding.length, want.length);
    res.data[0].embedding.forEach((x, i) => assert.equal(x, Math.fround(want[i])));
  });
});

Deno.test("a candidate without an embeddings API is skipped with the reason", async () => {
  await withStack(config, async ({ mock, gw }) => {
    const send = (body: unknown) =>
      fetch(`${gw.url}/v1/embeddings`, { method: "POST", body: JSON.stringify(body) });
    const res = await send({ model: "claude/x", input: "hi", fallbacks: ["backup/e"] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "backup");
    assert.match(res.headers.get("x-gateway-fallback-errors")!, /unsupported/);
    assert.equal(mock.hits("claude"), 0);

    const only = await send({ model: "claude/x", input: "hi" });
    assert.equal(only.status, 400);
    const err = await only.json();
    assert.equal(err.error.code, "unsupported_request");
    assert.match(err.error.message, /claude \(anthropic\) has no embeddings API/);

    const bad = await send({ model: "backup/e", input: 42 });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.param, "input");
  });
});
