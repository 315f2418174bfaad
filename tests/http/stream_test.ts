import assert from "node:assert/strict";
import { midStreamMessage, relayStream, sseFrame, streamFailureOf } from "../../src/http/stream.ts";
import type { CommittedStream } from "../../src/http/stream.ts";
import type { ChatChunk } from "../../src/openai/types.ts";
import { StreamFailure } from "../../src/providers/execute.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const enc = (s: string) => new TextEncoder().encode(s);

const chunk = (content: string): ChatChunk => ({
  id: "c",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});

/** A committed stream of `contents`, then `error` thrown if given; counts what was read. */
function committed(contents: string[], error?: unknown) {
  const seen = { read: 0, cancelled: false };
  async function* chunks(): AsyncGenerator<ChatChunk, void, undefined> {
    for (const c of contents) {
      seen.read++;
      yield chunk(c);
    }
    if (error !== undefined) throw error;
  }
  const out: CommittedStream = {
    ok: true,
    kind: "stream",
    provider: "p",
    chunks: chunks(),
    cancel: () => {
      seen.cancelled = true;
      return Promise.resolve();
    },
    headers: {},
  };
  return { out, seen };
}

const framing = {
  push: (c: ChatChunk) => {
    const content = c.choices[0].delta.content ?? "";
    return content === "" ? [] : [enc(content)];
  },
  end: () => [enc("<end>")],
  failed: (e: unknown) => [enc(`<failed: ${streamFailureOf(e).message}>`)],
};

Deno.test("relayStream reads only as far as the next frame: backpressure reaches the upstream", async () => {
  const { out, seen } = committed(["", "", "a", "b"]);
  const reader = relayStream(out, framing).getReader();
  assert.equal(text((await reader.read()).value!), "a");
  assert.equal(seen.read, 3, "chunks without frames are read through, then the pull answers");
  assert.equal(text((await reader.read()).value!), "b");
  assert.equal(text((await reader.read()).value!), "<end>");
  assert.equal((await reader.read()).done, true);
});

Deno.test("relayStream ends a failed stream with the route's failure frames", async () => {
  const failure = { kind: "transient" as const, status: 502, message: "upstream broke" };
  const { out } = committed(["a"], new StreamFailure(failure));
  const body = await new Response(relayStream(out, framing)).text();
  assert.equal(body, "a<failed: upstream broke>");
});

Deno.test("a client that goes away cancels the upstream", async () => {
  const { out, seen } = committed(["a", "b"]);
  const reader = relayStream(out, framing).getReader();
  await reader.read();
  await reader.cancel();
  assert.equal(seen.cancelled, true);
});

Deno.test("streamFailureOf: the upstream's classified failure, else an unknown one", () => {
  const failure = { kind: "rate_limit" as const, status: 429, message: "slow down" };
  assert.deepEqual(streamFailureOf(new StreamFailure(failure)), failure);
  assert.deepEqual(streamFailureOf(new Error("boom")), {
    kind: "unknown",
    message: "Error: boom",
  });
  assert.equal(midStreamMessage("openai", "boom"), "openai failed mid-stream: boom");
});

Deno.test("sseFrame: strings as they are, anything else as JSON, an optional event name", () => {
  assert.equal(text(sseFrame("[DONE]")), "data: [DONE]\n\n");
  assert.equal(text(sseFrame({ a: "x\ny" })), 'data: {"a":"x\\ny"}\n\n');
  assert.equal(text(sseFrame({ type: "ping" }, "ping")), 'event: ping\ndata: {"type":"ping"}\n\n');
  assert.equal(text(sseFrame("x", "")), "data: x\n\n");
});
