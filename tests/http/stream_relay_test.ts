// The committed-stream relay (src/http/stream_relay.ts), driven through a real listening gateway
// against the mock upstream: each attempt is settled exactly once (success, failure, client
// cancel), a mid-stream failure is continued by the next candidate and stitched into one answer,
// and with continuation off, nobody left or a tool call under way the stream ends with an SSE
// error event and no [DONE].
import assert from "node:assert/strict";
import { completionText, type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import type { ConfigFile } from "../../src/config.ts";
import type { GatewayEvent } from "../../src/events/mod.ts";
import type { RunningGateway } from "../../src/server.ts";
import { eventually, mockProvider, startTestGateway } from "../_support/gateway.ts";
import { chunk, scriptedUpstream } from "../_support/scripted_upstream.ts";

const hello = [{ role: "user", content: "hello" }];

interface Ctx {
  mock: MockUpstream;
  gw: RunningGateway;
  stream(body?: Record<string, unknown>, signal?: AbortSignal): Promise<Response>;
  /** Event types of one request, in order. */
  typesOf(id: string): string[];
}

const twoProviders = (url: string): ConfigFile => ({
  retries: { max: 0 },
  providers: { primary: mockProvider(url, "primary"), backup: mockProvider(url, "backup") },
});

async function withGateway(
  config: (mockUrl: string) => ConfigFile,
  fn: (c: Ctx) => Promise<void>,
): Promise<void> {
  const mock = await startMockUpstream();
  let gw: RunningGateway | undefined;
  const events: GatewayEvent[] = [];
  try {
    gw = startTestGateway(config(mock.url));
    gw.bus.subscribe((e) => events.push(e));
    const url = `${gw.url}/v1/chat/completions`;
    await fn({
      mock,
      gw,
      stream: (body = {}, signal) =>
        fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "primary/gpt-4o-mini",
            fallbacks: ["backup/gpt-4o-mini"],
            messages: hello,
            stream: true,
            ...body,
          }),
          signal,
        }),
      typesOf: (id) =>
        events.filter((e) => "requestId" in e && e.requestId === id).map((e) => e.type),
    });
  } finally {
    await gw?.shutdown(2_000);
    await mock.close();
  }
}

const count = (types: string[], t: string) => types.filter((x) => x === t).length;
const dataChunks = (text: string) =>
  text.split("\n\n").filter((f) => f.startsWith("data: {")).map((f) => JSON.parse(f.slice(6)));
const answerOf = (text: string) =>
  dataChunks(text).map((c) => c.choices[0]?.delta?.content ?? "").join("");
/** The text a mock target sends before a cut after `pieces` of its 4 pieces. */
const partialOf = (target: string, pieces: number) => {
  const text = completionText(target);
  return text.slice(0, Math.floor(pieces * text.length / 4));
};

Deno.test("a whole stream is relayed as is and settled once as a success", async () => {
  await withGateway(twoProviders, async ({ gw, stream, typesOf }) => {
    const res = await stream();
    const id = res.headers.get("x-request-id")!;
    const text = await res.text();
    assert.equal(answerOf(text), completionText("primary"));
    assert.equal(text.match(/data: \[DONE\]/g)?.length, 1);
    const last = dataChunks(text).findLast((c) => c.choices[0]?.finish_reason);
    assert.equal(last.extra_fields?.continued_from, undefined, "nothing was continued");
    await eventually(() => typesOf(id).includes("request.completed"), 3_000, "completed");
    const t = typesOf(id);
    assert.equal(count(t, "attempt.succeeded"), 1, t.join(" "));
    assert.equal(count(t, "attempt.failed"), 0);
    assert.equal(count(t, "attempt.aborted"), 0);
    assert.equal(count(t, "request.completed"), 1);
    await eventually(() => gw.gateway.inFlight === 0, 2_000, "in-flight 0");
  });
});

Deno.test("a cut mid-stream is continued by the next candidate: one id, one role, one answer", async () => {
  await withGateway(twoProviders, async ({ mock, stream, typesOf }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 2 }]);
    const res = await stream();
    assert.equal(res.status, 200);
    const id = res.headers.get("x-request-id")!;
    const text = await res.text();
    assert.doesNotMatch(text, /event: error/);
    assert.equal(text.match(/data: \[DONE\]/g)?.length, 1);
    const chunks = dataChunks(text);
    assert.equal(answerOf(text), partialOf("primary", 2) + completionText("backup"));
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1, "one answer: one id");
    assert.equal(chunks.filter((c) => c.choices[0]?.delta?.role).length, 1, "one role delta");
    const finals = chunks.filter((c) => c.choices[0]?.finish_reason);
    assert.equal(finals.length, 1, "one finish_reason");
    assert.deepEqual(finals[0].extra_fields, {
      provider: "backup",
      model: "gpt-4o-mini",
      fallback_index: 1,
      continued_from: [{
        provider: "primary",
        model: "gpt-4o-mini",
        sent_chars: partialOf("primary", 2).length,
        reason: "transient",
      }],
    });
    assert.equal(mock.hits("backup"), 1);
    await eventually(() => typesOf(id).includes("request.completed"), 3_000, "completed");
    const t = typesOf(id);
    assert.equal(count(t, "attempt.failed"), 1, t.join(" "));
    assert.equal(count(t, "attempt.succeeded"), 1);
    assert.equal(count(t, "stream.continued"), 1);
    assert.equal(count(t, "attempt.aborted"), 0);
    assert.equal(count(t, "request.failed"), 0);
  });
});

Deno.test("with streams.continuation off, a cut ends the stream with an error event and no [DONE]", async () => {
  const off = (url: string) => ({ ...twoProviders(url), streams: { continuation: false } });
  await withGateway(off, async ({ mock, stream, typesOf }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 2 }]);
    const res = await stream();
    assert.equal(res.status, 200);
    const id = res.headers.get("x-request-id")!;
    const text = await res.text();
    assert.equal(answerOf(text), partialOf("primary", 2), "the partial answer got through");
    assert.match(text, /event: error\ndata: \{"error":\{"message":"primary failed mid-stream/);
    assert.doesNotMatch(text, /\[DONE\]/);
    assert.equal(mock.hits("backup"), 0, "nobody was asked to continue");
    await eventually(() => typesOf(id).includes("request.failed"), 3_000, "failed");
    const t = typesOf(id);
    assert.equal(count(t, "attempt.failed"), 1, t.join(" "));
    assert.equal(count(t, "attempt.succeeded"), 0);
    assert.equal(count(t, "attempt.aborted"), 0);
    assert.equal(count(t, "request.failed"), 1);
  });
});

Deno.test("with no candidate able to continue, the error says so and each attempt is settled once", async () => {
  await withGateway(twoProviders, async ({ mock, stream, typesOf }) => {
    mock.setFaults("primary", [{ kind: "cut", afterChunks: 1 }]);
    mock.setFaults("backup", [{ kind: "status", status: 503 }]);
    const res = await stream();
    const id = res.headers.get("x-request-id")!;
    const text = await res.text();
    assert.equal(answerOf(text), partialOf("primary", 1));
    assert.match(text, /event: error\n/);
    assert.match(text, /no candidate could continue the answer/);
    assert.doesNotMatch(text, /\[DONE\]/);
    await eventually(() => typesOf(id).includes("request.failed"), 3_000, "failed");
    const t = typesOf(id);
    assert.equal(count(t, "attempt.failed"), 2, t.join(" "));
    assert.equal(count(t, "request.failed"), 1);
    assert.equal(count(t, "stream.continued"), 0);
    assert.equal(count(t, "attempt.aborted"), 0);
  });
});

Deno.test("a client that cancels mid-stream: the attempt is settled once, as aborted", async () => {
  await withGateway(twoProviders, async ({ mock, gw, stream, typesOf }) => {
    mock.setFaults("primary", [{ kind: "stall", afterChunks: 1 }]);
    const ctl = new AbortController();
    const res = await stream({}, ctl.signal);
    const id = res.headers.get("x-request-id")!;
    const reader = res.body!.getReader();
    assert.ok(!(await reader.read()).done);
    ctl.abort();
    await reader.cancel().catch(() => {});
    await eventually(() => typesOf(id).includes("attempt.aborted"), 3_000, "attempt.aborted");
    await eventually(() => gw.gateway.inFlight === 0, 3_000, "in-flight 0");
    await new Promise((r) => setTimeout(r, 100)); // nothing more arrives
    const t = typesOf(id);
    assert.equal(count(t, "attempt.aborted"), 1, t.join(" "));
    assert.equal(count(t, "attempt.failed"), 0, "the client leaving is no provider failure");
    assert.equal(count(t, "attempt.succeeded"), 0);
    assert.equal(mock.hits("backup"), 0, "a cancel is not continued");
  });
});

Deno.test("a stream cut inside a tool call is not continued", async () => {
  const tools = scriptedUpstream({
    steps: [
      chunk({ role: "assistant", content: "Let me look that up. " }),
      chunk({
        tool_calls: [{
          index: 0,
          id: "call_1",
          type: "function",
          function: { name: "lookup", arguments: '{"q":' },
        }],
      }),
    ],
    end: "cut",
  });
  try {
    await withGateway(
      (url) => ({
        retries: { max: 0 },
        providers: {
          primary: {
            type: "openai",
            baseUrl: `${tools.url}/v1`,
            timeouts: { firstTokenMs: 2_000, totalMs: 10_000 },
          },
          backup: mockProvider(url, "backup"),
        },
      }),
      async ({ mock, stream, typesOf }) => {
        const res = await stream();
        assert.equal(res.status, 200);
        const id = res.headers.get("x-request-id")!;
        const text = await res.text();
        assert.equal(answerOf(text), "Let me look that up. ");
        assert.ok(
          dataChunks(text).some((c) => c.choices[0]?.delta?.tool_calls),
          "the tool call's start reached the client",
        );
        assert.match(text, /event: error\n/);
        assert.doesNotMatch(text, /\[DONE\]/);
        assert.equal(mock.hits("backup"), 0, "no candidate was asked to continue a tool call");
        await eventually(() => typesOf(id).includes("request.failed"), 3_000, "failed");
        const t = typesOf(id);
        assert.equal(count(t, "attempt.failed"), 1, t.join(" "));
        assert.equal(count(t, "stream.continued"), 0);
      },
    );
  } finally {
    await tools.close();
  }
});
