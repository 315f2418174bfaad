// The contract every inbound wire format passes (src/formats/wire_format.ts), run on the format
// itself with no gateway: it decodes a minimal request, refuses bad input in its own error shape,
// encodes a JSON answer, a stream that ends as the format ends one (and one that fails), and an
// error with its status, shape and Retry-After. Each family's contract_test.ts says what its
// format looks like on the wire; the assertions here are the same for all.
import assert from "node:assert/strict";
import type { FormatCall, JsonAnswer, WireFormat } from "../../src/formats/wire_format.ts";
import { type CallError, invalid } from "../../src/http/call.ts";
import { relayStream } from "../../src/http/stream.ts";
import type { CommittedStream } from "../../src/http/stream.ts";
import type { ChatChunk, ChatCompletion, ChatRequest } from "../../src/openai/types.ts";
import { StreamFailure } from "../../src/providers/execute.ts";

/** How one format looks on the wire, for the contract to check. */
export interface FormatCase<P> {
  format: WireFormat<P>;
  /** A request to its route with a minimal body asking `model` for "hello". */
  minimal: { url: string; body: unknown; headers?: Record<string, string> };
  /** The canonical model that request names. */
  model: string;
  /** A body the format refuses. */
  bad: unknown;
  /** A request its route does not serve (a 404 in its own shape); none when it serves any. */
  unserved?: { url: string; method: string };
  /** Asserts an error body is in the format's shape and says `message`. */
  errorShape(body: unknown, message: string): void;
  /** The text of an answer body. */
  answerText(body: unknown): string;
  /** The stream's bytes decoded: did it end as the format ends a complete answer? */
  streamEnded(text: string): boolean;
  /** …or with the format's error marker after a failure (and no completion marker)? */
  streamFailed(text: string): boolean;
  /** The status the format answers a gateway 429 with (its own mapping). */
  status429?: number;
}

const start = { t0: 0, requestId: "req-contract" };

function callOf<P>(format: WireFormat<P>, url: string, request: ChatRequest): FormatCall<P> {
  const t = format.target(new Request(url, { method: "POST" }));
  assert.ok(t.ok, `target of ${url}`);
  return { start, params: t.value, request, elapsedMs: () => 5 };
}

const completion: ChatCompletion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "hello there" },
    finish_reason: "stop",
    logprobs: null,
  }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};

const chunk = (content: string | undefined, finish: ChatChunk["choices"][0]["finish_reason"]) =>
  ({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }],
  }) as ChatChunk;

function committed(chunks: ChatChunk[], failAfter?: boolean): CommittedStream {
  async function* gen(): AsyncGenerator<ChatChunk, void, undefined> {
    for (const c of chunks) yield c;
    if (failAfter) {
      throw new StreamFailure({ kind: "transient", status: 500, message: "upstream broke" });
    }
  }
  return {
    ok: true,
    kind: "stream",
    provider: "p",
    chunks: gen(),
    cancel: async () => {},
    headers: { "x-request-id": start.requestId },
  };
}

async function streamed<P>(c: FormatCase<P>, out: CommittedStream, request: ChatRequest) {
  const { framing, headers } = c.format.stream(out, callOf(c.format, c.minimal.url, request));
  const res = new Response(relayStream(out, framing), { status: 200, headers });
  const text = new TextDecoder().decode(await res.arrayBuffer());
  return { res, text };
}

async function decodeMinimal<P>(c: FormatCase<P>): Promise<ChatRequest> {
  const req = new Request(c.minimal.url, { method: "POST", headers: c.minimal.headers });
  const t = c.format.target(req);
  assert.ok(t.ok, "the route serves the minimal request");
  const d = await c.format.decode(c.minimal.body, { params: t.value, headers: req.headers });
  assert.ok(d.ok, `decodes: ${JSON.stringify(d)}`);
  return d.value;
}

/** Registers the contract's tests for one format. */
export function formatContract<P>(c: FormatCase<P>): void {
  const name = `${c.format.name} format contract`;

  Deno.test(`${name}: decodes a minimal request into the canonical form`, async () => {
    const r = await decodeMinimal(c);
    assert.equal(r.model, c.model);
    const last = r.messages[r.messages.length - 1];
    assert.equal(last.role, "user");
    assert.match(JSON.stringify(last.content), /hello/);
  });

  Deno.test(`${name}: bad input is refused, in the format's own error shape`, async () => {
    const t = c.format.target(new Request(c.minimal.url, { method: "POST" }));
    assert.ok(t.ok);
    const d = await c.format.decode(c.bad, { params: t.value, headers: new Headers() });
    assert.equal(d.ok, false);
    if (d.ok) return;
    const e = invalid(start, 400, d.message, "invalid_request", d.param);
    const res = c.format.encodeError(e);
    assert.equal(res.status, 400);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    c.errorShape(await res.json(), d.message);
    if (c.unserved) {
      const refused = c.format.target(new Request(c.unserved.url, { method: c.unserved.method }));
      assert.equal(refused.ok, false);
      if (refused.ok) return;
      assert.equal(refused.status, 404);
      const res404 = c.format.encodeError(
        invalid(start, refused.status, refused.message, refused.code),
      );
      assert.equal(res404.status, 404);
      c.errorShape(await res404.json(), refused.message);
    }
  });

  Deno.test(`${name}: encodes a JSON answer with the gateway headers`, async () => {
    const request = await decodeMinimal(c);
    const answer: JsonAnswer = {
      ok: true,
      kind: "json",
      completion,
      extra: {
        provider: "p",
        model: "m",
        model_requested: c.model,
        fallback_index: 0,
        attempts: [],
        latency_ms: 7,
        upstream_latency_ms: 5,
      },
      headers: { "x-request-id": start.requestId, "x-gateway-provider": "p" },
    };
    const res = await c.format.encode(answer, callOf(c.format, c.minimal.url, request));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(res.headers.get("x-request-id"), start.requestId);
    assert.equal(res.headers.get("x-gateway-provider"), "p");
    assert.equal(c.answerText(await res.json()), "hello there");
  });

  Deno.test(`${name}: a stream carries the text and ends as the format ends one`, async () => {
    // The very object decode returned, as the route hands it on (a format may key state on it).
    const request = await decodeMinimal(c);
    request.stream = true;
    const { res, text } = await streamed(
      c,
      committed([chunk("hel", null), chunk("lo", null), chunk(undefined, "stop")]),
      request,
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-request-id"), start.requestId);
    assert.match(text, /hel/);
    assert.match(text, /lo/);
    assert.ok(c.streamEnded(text), `ends complete: ${JSON.stringify(text)}`);
    assert.equal(c.streamFailed(text), false);
  });

  Deno.test(`${name}: a stream that fails after content ends with the format's error`, async () => {
    // The very object decode returned, as the route hands it on (a format may key state on it).
    const request = await decodeMinimal(c);
    request.stream = true;
    const { text } = await streamed(c, committed([chunk("hel", null)], true), request);
    assert.match(text, /hel/);
    assert.ok(c.streamFailed(text), `ends failed: ${JSON.stringify(text)}`);
    assert.equal(c.streamEnded(text), false);
    assert.match(text, /p failed mid-stream: upstream broke/);
  });

  Deno.test(`${name}: an error keeps its status, shape, headers and Retry-After`, async () => {
    const e: CallError = {
      ...invalid(start, 429, "slow down", "rate_limited"),
      type: "rate_limited",
      retryAfterMs: 1500,
      headers: { "x-request-id": start.requestId, "x-gateway-attempts": "1" },
    };
    const res = c.format.encodeError(e);
    assert.equal(res.status, c.status429 ?? 429);
    assert.equal(res.headers.get("retry-after"), "2");
    assert.equal(res.headers.get("x-gateway-attempts"), "1");
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    c.errorShape(await res.json(), "slow down");
  });
}
