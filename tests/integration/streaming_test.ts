// The streaming contract: fall over only before the first content reaches the client; after that
// an upstream failure ends the stream with an SSE error event and no [DONE].
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { completionText } from "../../bench/mock/mod.ts";
import { mockProvider } from "../_support/gateway.ts";
import { hello, inOrder, types, withStack } from "./_stack.ts";

type StreamBody = OpenAI.ChatCompletionCreateParamsStreaming;

const config = (url: string) => ({
  retries: { max: 0 },
  providers: {
    primary: mockProvider(url, "primary", "openai", {
      timeouts: { firstTokenMs: 300, totalMs: 5_000 },
    }),
    backup: mockProvider(url, "backup", "anthropic", { keys: [] }),
  },
});
const body = {
  model: "primary/gpt-4o-mini",
  fallbacks: ["backup/claude"],
  messages: hello,
  stream: true,
} as StreamBody;

async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  return text;
}

Deno.test("a stream falls over before its first chunk (upstream 503)", async () => {
  await withStack(config, async ({ mock, client, sub, eventsOf }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const { data, response } = await client.chat.completions.create(body).withResponse();
    assert.equal(response.headers.get("x-gateway-provider"), "backup");
    assert.equal(response.headers.get("x-gateway-fallback-index"), "1");
    assert.equal(await collect(data), completionText("backup"));
    const id = response.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id)).includes("request.completed"));
    assert.ok(
      inOrder(types(eventsOf(id)), [
        "attempt.failed",
        "fallback.taken",
        "attempt.succeeded",
        "request.completed",
      ]),
    );
  });
});

Deno.test("a time-to-first-token timeout counts as a provider failure and falls over", async () => {
  await withStack(config, async ({ mock, client, sub, eventsOf }) => {
    mock.setFaults("primary", [{ kind: "hang" }]);
    const started = Date.now();
    const { data, response } = await client.chat.completions.create(body).withResponse();
    assert.equal(await collect(data), completionText("backup"));
    assert.ok(Date.now() - started >= 300);
    const id = response.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id)).includes("request.completed"));
    const failed = eventsOf(id).find((e) => e.type === "gateway.attempt.failed")!;
    assert.equal((failed.data as { errorType: string; counted: boolean }).errorType, "timeout");
    assert.equal((failed.data as { counted: boolean }).counted, true);
  });
});

Deno.test("a stream cut mid-way ends with an SSE error event, no [DONE], and no fallover", async () => {
  await withStack(config, async ({ mock, gw, sub, eventsOf }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 2 }]);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "primary");
    const text = await res.text();
    assert.match(text, /^data: \{/);
    assert.match(text, /event: error\ndata: \{"error":\{"message":"primary failed mid-stream/);
    assert.doesNotMatch(text, /\[DONE\]/);
    const errorFrame = JSON.parse(text.split("event: error\ndata: ")[1].split("\n")[0]);
    assert.equal(errorFrame.error.code, "upstream_stream_error");
    assert.equal(mock.hits("backup"), 0);
    const id = res.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id)).includes("request.failed"));
    assert.ok(
      inOrder(types(eventsOf(id)), ["attempt.started", "attempt.failed", "request.failed"]),
    );
    assert.equal(types(eventsOf(id)).includes("fallback.taken"), false);
  });
});

Deno.test("the OpenAI SDK sees a mid-stream failure as an error, after the first content", async () => {
  await withStack(config, async ({ mock, client }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 2 }]);
    const stream = await client.chat.completions.create(body);
    let text = "";
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    }, /failed mid-stream/);
    assert.ok(text.length > 0);
  });
});

Deno.test("include_usage streams end with a usage chunk, as OpenAI does", async () => {
  await withStack(config, async ({ client }) => {
    const stream = await client.chat.completions.create({
      ...body,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.ok(usage && usage.total_tokens > 0);
  });
});
