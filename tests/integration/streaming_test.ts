// The streaming contract: fall over freely before the first content reaches the client; after
// that a failure is continued by the next candidate (one answer, one [DONE]), or, with
// continuation off or nobody left, ends the stream with an SSE error event and no [DONE].
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { completionText } from "../../bench/mock/mod.ts";
import { eventually, mockProvider } from "../_support/gateway.ts";
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

/** The text a mock target sends before a cut after `pieces` of its 4 pieces. */
const partialOf = (target: string, pieces: number) => {
  const text = completionText(target);
  return text.slice(0, Math.floor(pieces * text.length / 4));
};

Deno.test("a stream cut mid-way is continued by the fallback: one answer, one [DONE]", async () => {
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
    assert.doesNotMatch(text, /event: error/);
    assert.equal(text.match(/data: \[DONE\]/g)?.length, 1);
    const chunks = text.split("\n\n").filter((f) => f.startsWith("data: {"))
      .map((f) => JSON.parse(f.slice(6)));
    const answer = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    // The primary's partial text, then the backup's continuation of it.
    assert.equal(answer, partialOf("primary", 2) + completionText("backup"));
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1, "one answer: one id");
    assert.equal(chunks.filter((c) => c.choices[0]?.delta?.role).length, 1, "one role delta");
    const last = chunks.findLast((c) => c.choices[0]?.finish_reason);
    assert.deepEqual(last.extra_fields.continued_from, [
      {
        provider: "primary",
        model: "gpt-4o-mini",
        sent_chars: partialOf("primary", 2).length,
        reason: "transient",
      },
    ]);
    assert.equal(last.extra_fields.provider, "backup");
    // The backup (Anthropic) was asked to continue the partial answer as its own start.
    const id = res.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id)).includes("request.completed"));
    assert.ok(
      inOrder(types(eventsOf(id)), [
        "attempt.started",
        "attempt.failed",
        "fallback.taken",
        "attempt.started",
        "stream.continued",
        "attempt.succeeded",
        "request.completed",
      ]),
      types(eventsOf(id)).join(" "),
    );
    const continued = eventsOf(id).find((e) => e.type === "gateway.stream.continued")!;
    assert.deepEqual(
      { ...continued.data as Record<string, unknown>, at: 0 },
      {
        at: 0,
        requestId: id,
        attempt: 2,
        provider: "backup",
        model: "claude",
        fromProvider: "primary",
        fromModel: "gpt-4o-mini",
        mode: "prefill",
        sentChars: partialOf("primary", 2).length,
        reason: "transient",
      },
    );
  });
});

Deno.test("with nobody left to continue, a cut ends with an SSE error event and no [DONE]", async () => {
  await withStack(config, async ({ mock, gw, sub, eventsOf }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 2 }]);
    mock.setFaults("backup", [{ kind: "status", status: 503 }]);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^data: \{/);
    assert.match(text, /event: error\ndata: \{"error":\{"message":"primary failed mid-stream/);
    assert.match(text, /no candidate could continue the answer/);
    assert.doesNotMatch(text, /\[DONE\]/);
    const errorFrame = JSON.parse(text.split("event: error\ndata: ")[1].split("\n")[0]);
    assert.equal(errorFrame.error.code, "upstream_stream_error");
    assert.equal(mock.hits("backup"), 1);
    const id = res.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id)).includes("request.failed"));
    assert.ok(
      inOrder(types(eventsOf(id)), [
        "attempt.failed",
        "fallback.taken",
        "attempt.failed",
        "request.failed",
      ]),
    );
    assert.equal(types(eventsOf(id)).includes("stream.continued"), false);
  });
});

Deno.test("with streams.continuation off, the OpenAI SDK sees a mid-stream failure as an error", async () => {
  const off = (url: string) => ({ ...config(url), streams: { continuation: false } });
  await withStack(off, async ({ mock, client }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 2 }]);
    const stream = await client.chat.completions.create(body);
    let text = "";
    await assert.rejects(async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    }, /failed mid-stream/);
    assert.equal(text, partialOf("primary", 2));
    assert.equal(mock.hits("backup"), 0);
  });
});

Deno.test("the OpenAI SDK reads a continued stream as one whole answer", async () => {
  await withStack(config, async ({ mock, client }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 1 }]);
    const stream = await client.chat.completions.create(body);
    assert.equal(await collect(stream), partialOf("primary", 1) + completionText("backup"));
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

Deno.test("a client that leaves while the continuation starts: aborted, counted once, nothing relayed", async () => {
  await withStack(config, async ({ mock, gw, sub, eventsOf }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 2 }]);
    // The backup takes its time: the client is gone before its first piece.
    mock.setFaults("backup", [{ kind: "latency", ms: 400 }]);
    const ctl = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: ctl.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the primary's first piece
    await eventually(() => mock.hits("backup") === 1, 3_000, "the continuation to start");
    ctl.abort();
    await reader.cancel().catch(() => {});
    const id = res.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id)).includes("request.failed"));
    await eventually(() => gw.gateway.inFlight === 0, 3_000, "in-flight back to 0");
    const seen = types(eventsOf(id));
    assert.equal(seen.filter((t) => t === "request.failed").length, 1);
    assert.equal(seen.includes("request.completed"), false);
    assert.equal(seen.includes("stream.continued"), false);
    const failed = eventsOf(id).find((e) => e.type === "gateway.request.failed")!;
    assert.equal((failed.data as { status: number }).status, 499);
    // The backup's attempt is not its failure: the client left.
    await eventually(
      () => types(eventsOf(id)).filter((t) => t === "attempt.aborted").length === 1,
      3_000,
      "the backup attempt aborted",
    );
    assert.equal(gw.gateway.inFlight, 0);
  });
});
