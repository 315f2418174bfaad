import assert from "node:assert/strict";
import { completionText, type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import { systemClock } from "../../src/lib/clock.ts";
import type { ChatChunk, ChatRequest } from "../../src/openai/types.ts";
import {
  type AttemptSpec,
  executeJson,
  executeStream,
  failureOf,
  GatewayStallTimeout,
  type ProviderTarget,
  StreamFailure,
  timeoutReason,
  withinBase,
} from "../../src/providers/execute.ts";
import { fetchHttp } from "../../src/providers/fetch_http.ts";
import { sourceOf } from "../../src/providers/upstream_json.ts";
import { anthropicAdapter, openaiAdapter, UpstreamStreamError } from "../../src/providers/mod.ts";
import { createLogger } from "../../src/lib/logger.ts";
import {
  chunk,
  type Script,
  scriptedUpstream,
  sse,
  usageChunk,
} from "../_support/scripted_upstream.ts";

const deps = { http: fetchHttp, clock: systemClock };
const hello: ChatRequest = {
  model: "p/gpt-4o-mini",
  messages: [{ role: "user", content: "hello there" }],
};

function target(
  baseUrl: string,
  opts: {
    family?: "openai" | "anthropic";
    headersMs?: number;
    firstTokenMs?: number;
    idleMs?: number;
    totalMs?: number;
  } = {},
): ProviderTarget {
  return {
    adapter: opts.family === "anthropic" ? anthropicAdapter : openaiAdapter,
    baseUrl,
    timeouts: {
      headersMs: opts.headersMs ?? 5_000,
      firstTokenMs: opts.firstTokenMs ?? 2_000,
      idleMs: opts.idleMs ?? 5_000,
      totalMs: opts.totalMs ?? 10_000,
    },
    secrets: new Map([["k0", "sk-test"]]),
    settings: {},
  };
}

const spec = (signal = new AbortController().signal, deadlineAt?: number): AttemptSpec => ({
  model: "gpt-4o-mini",
  key: "k0",
  id: "chatcmpl-test",
  signal,
  deadlineAt,
});

async function withMock(fn: (mock: MockUpstream) => Promise<void>) {
  const mock = await startMockUpstream();
  try {
    await fn(mock);
  } finally {
    await mock.close();
  }
}

/** Reads a started stream to its end, returning the content it carried. */
async function drain(rest: AsyncGenerator<ChatChunk, void, undefined>) {
  let text = "";
  for await (const c of rest) text += c.choices.map((ch) => ch.delta.content ?? "").join("");
  return text;
}

Deno.test("executeJson: a success carries the completion, status, latency and usage", async () => {
  await withMock(async (mock) => {
    const r = await executeJson(deps, target(`${mock.url}/p/v1`), hello, spec());
    assert.equal(r.type, "success");
    if (r.type !== "success" || r.pending) return;
    assert.equal(r.status, 200);
    assert.equal(r.value.choices[0].message.content, completionText("p"));
    assert.equal(r.value.model, "gpt-4o-mini", "the upstream got the model without its prefix");
    // The mock counts ceil(chars / 4): "hello there" → 3, 64 bytes of answer → 16.
    assert.deepEqual(r.usage, { promptTokens: 3, completionTokens: 16 });
    assert.ok(r.latencyMs >= 0 && r.latencyMs < 5_000);
  });
});

Deno.test("executeJson speaks Anthropic through its adapter", async () => {
  await withMock(async (mock) => {
    const r = await executeJson(
      deps,
      target(`${mock.url}/claude/v1`, { family: "anthropic" }),
      hello,
      spec(),
    );
    assert.equal(r.type, "success");
    if (r.type !== "success" || r.pending) return;
    assert.equal(r.value.object, "chat.completion");
    assert.equal(r.value.choices[0].message.content, completionText("claude"));
    assert.equal(r.value.choices[0].finish_reason, "stop");
    assert.deepEqual(r.usage, { promptTokens: 3, completionTokens: 16 });
  });
});

Deno.test("executeJson classifies HTTP errors", async (t) => {
  await withMock(async (mock) => {
    const t0 = target(`${mock.url}/p/v1`);
    const cases = [
      {
        name: "503 is transient",
        faults: [{ kind: "status" as const, status: 503 }],
        want: { kind: "transient", status: 503 },
      },
      {
        name: "429 is rate_limit with retry-after-ms",
        faults: [{ kind: "rate_limit" as const, retryAfterMs: 1_500 }],
        want: { kind: "rate_limit", status: 429, retryAfterMs: 1_500 },
      },
      {
        name: "429 with Retry-After seconds",
        faults: [{ kind: "rate_limit" as const, retryAfterSec: 7 }],
        want: { kind: "rate_limit", status: 429, retryAfterMs: 7_000 },
      },
      {
        name: "400 is the caller's fault",
        faults: [{ kind: "status" as const, status: 400, message: "bad 'messages'" }],
        want: { kind: "caller_fault", status: 400 },
      },
      {
        name: "401 is auth",
        faults: [{ kind: "status" as const, status: 401 }],
        want: { kind: "auth", status: 401 },
      },
      {
        name: "insufficient_quota 429 is quota",
        faults: [{ kind: "quota" as const }],
        want: { kind: "quota", status: 429 },
      },
    ];
    for (const c of cases) {
      await t.step(c.name, async () => {
        mock.setFaults("p", c.faults);
        const r = await executeJson(deps, t0, hello, spec());
        assert.equal(r.type, "failure");
        if (r.type !== "failure") return;
        for (const [k, v] of Object.entries(c.want)) {
          assert.equal((r.failure as unknown as Record<string, unknown>)[k], v, k);
        }
        assert.ok(r.failure.message.length > 0);
      });
    }
  });
});

Deno.test("executeJson: a 200 with a malformed body is a transient failure", async () => {
  await withMock(async (mock) => {
    mock.setFaults("p", [{ kind: "malformed" }]);
    const r = await executeJson(deps, target(`${mock.url}/p/v1`), hello, spec());
    assert.equal(r.type, "failure");
    if (r.type !== "failure") return;
    assert.equal(r.failure.kind, "transient");
    assert.match(r.failure.message, /malformed response from upstream/);
  });
});

Deno.test("executeJson: an upstream that hangs past totalMs is a timeout", async () => {
  await withMock(async (mock) => {
    mock.setFaults("p", [{ kind: "hang" }]);
    const t0 = performance.now();
    const r = await executeJson(deps, target(`${mock.url}/p/v1`, { totalMs: 150 }), hello, spec());
    assert.equal(r.type, "failure");
    if (r.type !== "failure") return;
    assert.equal(r.failure.kind, "timeout");
    assert.match(r.failure.message, /150 ms/);
    assert.ok(performance.now() - t0 < 3_000, "the timeout did not cut the wait short");
  });
});

Deno.test("executeJson: the client going away is an abort, not a failure", async () => {
  await withMock(async (mock) => {
    mock.setFaults("p", [{ kind: "hang" }]);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const r = await executeJson(deps, target(`${mock.url}/p/v1`), hello, spec(ctl.signal));
    assert.equal(r.type, "aborted");
  });
});

Deno.test("executeJson: a refused connection is transient", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  const r = await executeJson(deps, target(`http://127.0.0.1:${port}/v1`), hello, spec());
  assert.equal(r.type, "failure");
  if (r.type !== "failure") return;
  assert.equal(r.failure.kind, "transient");
});

Deno.test("a request the adapter cannot build is a 400 caller fault, never sent", async () => {
  await withMock(async (mock) => {
    const req: ChatRequest = {
      model: "claude/x",
      messages: [{
        role: "user",
        content: [{ type: "image_url", image_url: { url: "ftp://example.com/cat.png" } }],
      }],
    };
    const t0 = target(`${mock.url}/claude/v1`, { family: "anthropic" });
    for (const run of [executeJson, executeStream]) {
      const r = await run(deps, t0, req, spec());
      assert.equal(r.type, "failure");
      if (r.type !== "failure") return;
      assert.equal(r.failure.kind, "caller_fault");
      assert.equal(r.failure.status, 400);
      assert.match(r.failure.message, /unsupported image URL scheme/);
    }
    assert.equal(mock.hits("claude"), 0);
  });
});

Deno.test("an adapter that cannot authenticate (Vertex's token exchange) fails as auth, provider-wide, sending nothing", async () => {
  let sent = 0;
  const refused = new UpstreamStreamError(
    { message: 'vertex provider "vx": the token endpoint refused the service account' },
    401,
  );
  const t0: ProviderTarget = {
    ...target("http://upstream.invalid/v1"),
    adapter: { ...openaiAdapter, buildChatRequest: () => Promise.reject(refused) },
  };
  const http = {
    fetch: () => {
      sent++;
      return Promise.resolve(new Response("{}"));
    },
  };
  for (const run of [executeJson, executeStream]) {
    const r = await run({ http, clock: systemClock }, t0, hello, spec());
    assert.equal(r.type, "failure");
    if (r.type !== "failure") return;
    assert.equal(r.failure.kind, "auth");
    assert.equal(r.failure.scope, "provider");
    assert.equal(r.failure.status, 401);
    assert.match(r.failure.message, /vertex provider "vx"/);
  }
  assert.equal(sent, 0);
});

Deno.test("executeStream: commits on the first content, then relays the rest with usage", async () => {
  await withMock(async (mock) => {
    const r = await executeStream(deps, target(`${mock.url}/p/v1`), hello, spec());
    assert.equal(r.type, "success");
    if (r.type !== "success" || !r.pending) return assert.fail("expected a pending stream");
    assert.equal(r.status, 200);
    const first = r.value.first.map((c) => c.choices[0]?.delta.content ?? "").join("");
    assert.ok(first.length > 0, "the first content arrived before committing");
    assert.equal(r.value.usage(), undefined, "usage comes at the end");
    const rest = await drain(r.value.rest);
    assert.equal(first + rest, completionText("p"));
    assert.deepEqual(r.value.usage(), {
      prompt_tokens: 3,
      completion_tokens: 16,
      total_tokens: 19,
    });
  });
});

Deno.test("executeStream speaks Anthropic's event stream through its adapter", async () => {
  await withMock(async (mock) => {
    const r = await executeStream(
      deps,
      target(`${mock.url}/claude/v1`, { family: "anthropic" }),
      hello,
      spec(),
    );
    if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
    const first = r.value.first.map((c) => c.choices[0]?.delta.content ?? "").join("");
    assert.equal(first + await drain(r.value.rest), completionText("claude"));
    assert.equal(r.value.usage()?.completion_tokens, 16);
  });
});

Deno.test("executeStream: no first token within firstTokenMs is a timeout failure", async () => {
  await withMock(async (mock) => {
    mock.setFaults("p", [{ kind: "hang" }]);
    const t0 = performance.now();
    const r = await executeStream(
      deps,
      target(`${mock.url}/p/v1`, { firstTokenMs: 150 }),
      hello,
      spec(),
    );
    assert.equal(r.type, "failure", "a stream with no first token must not be committed");
    if (r.type !== "failure") return;
    assert.equal(r.failure.kind, "timeout");
    assert.match(r.failure.message, /no first token after 150 ms/);
    assert.ok(performance.now() - t0 < 3_000);
  });
});

Deno.test("executeStream: an upstream HTTP error before the stream is an ordinary failure", async () => {
  await withMock(async (mock) => {
    mock.setFaults("p", [{ kind: "rate_limit", retryAfterSec: 3 }]);
    const r = await executeStream(deps, target(`${mock.url}/p/v1`), hello, spec());
    assert.equal(r.type, "failure");
    if (r.type !== "failure") return;
    assert.equal(r.failure.kind, "rate_limit");
    assert.equal(r.failure.retryAfterMs, 3_000);
  });
});

Deno.test("executeStream: garbage or a cut before any content is a transient failure", async () => {
  await withMock(async (mock) => {
    for (
      const fault of [{ kind: "malformed" as const }, { kind: "cut" as const, afterChunks: 0 }]
    ) {
      mock.setFaults("p", [fault]);
      const r = await executeStream(deps, target(`${mock.url}/p/v1`), hello, spec());
      assert.equal(r.type, "failure", fault.kind);
      if (r.type !== "failure") return;
      assert.equal(r.failure.kind, "transient", fault.kind);
    }
  });
});

Deno.test("executeStream: a committed stream that is cut throws StreamFailure from rest", async () => {
  await withMock(async (mock) => {
    mock.setFaults("p", [{ kind: "cut", afterChunks: 2 }]);
    const r = await executeStream(deps, target(`${mock.url}/p/v1`), hello, spec());
    if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
    await assert.rejects(drain(r.value.rest), (e: unknown) => {
      assert.ok(e instanceof StreamFailure, String(e));
      assert.equal(e.failure.kind, "transient");
      return true;
    });
  });
});

Deno.test("executeStream: the client going away before the first token is an abort", async () => {
  await withMock(async (mock) => {
    mock.setFaults("p", [{ kind: "hang" }]);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const r = await executeStream(deps, target(`${mock.url}/p/v1`), hello, spec(ctl.signal));
    assert.equal(r.type, "aborted");
  });
});

Deno.test("executeStream: a refused connection is transient", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  const r = await executeStream(deps, target(`http://127.0.0.1:${port}/v1`), hello, spec());
  assert.equal(r.type, "failure");
  if (r.type !== "failure") return;
  assert.equal(r.failure.kind, "transient");
});

Deno.test("withinBase: plain paths pass without parsing; dot segments in any spelling are caught", () => {
  const base = "https://api.example.com/v1";
  const cases: [string, boolean][] = [
    [`${base}/chat/completions`, true],
    [`${base}/models/gpt-4.1:generateContent?alt=sse`, true],
    [`${base}/deployments/x/chat/completions?api-version=2024-10-21`, true],
    [`${base}/../admin`, false],
    [`${base}/models/%2e%2e/%2E%2E/admin`, false],
    [`${base}/models/..\\..\\admin`, false],
    [`${base}/./chat`, true], // resolves to base/chat: still under the base
    [`${base}x/chat`, false],
    ["https://other.example.com/v1/chat", false],
    [`${base}/a?b=/../../x`, true], // a query is not a path
  ];
  for (const [url, ok] of cases) assert.equal(withinBase(url, base), ok, url);
  assert.equal(withinBase(`${base}/chat`, `${base}/`), true, "base with a trailing slash");
});

// ---- timeouts, stalls and forgiving streams (scripted upstreams, tens of ms) -------------------

const role = chunk({ role: "assistant", content: "" });
const says = (text: string) => chunk({ content: text });
const stop = chunk({}, "stop");

/** Runs a stream against a scripted upstream; hands the started stream to `fn`. */
async function streamed(
  script: Script,
  opts: Parameters<typeof target>[1] = {},
  fn?: (
    r: Awaited<ReturnType<typeof executeStream>>,
    up: ReturnType<typeof scriptedUpstream>,
  ) => Promise<void>,
) {
  await using up = scriptedUpstream(script);
  const r = await executeStream(deps, target(`${up.url}/v1`, opts), hello, spec());
  await fn?.(r, up);
  if (r.type === "success" && r.pending) await r.value.rest.return(undefined);
  return r;
}

const text = (chunks: ChatChunk[]) =>
  chunks.map((c) => c.choices.map((ch) => ch.delta.content ?? "").join("")).join("");

Deno.test("headersMs: no response headers in time is a timeout, for JSON and streams", async () => {
  await using up = scriptedUpstream({ headersAfterMs: 5_000, steps: [] });
  const t0 = target(`${up.url}/v1`, { headersMs: 60, firstTokenMs: 5_000 });
  for (const run of [executeJson, executeStream]) {
    const started = performance.now();
    const r = await run(deps, t0, hello, spec());
    assert.equal(r.type, "failure", run.name);
    if (r.type !== "failure") return;
    assert.equal(r.failure.kind, "timeout", run.name);
    assert.match(r.failure.message, /no response headers after 60 ms/, run.name);
    assert.ok(performance.now() - started < 2_000, `${run.name} waited for the headers`);
  }
});

Deno.test("firstTokenMs: headers but no first content in time is a timeout, not committed", async () => {
  const r = await streamed({ steps: [role], end: "hang" }, { firstTokenMs: 80 });
  assert.equal(r.type, "failure");
  if (r.type !== "failure") return;
  assert.equal(r.failure.kind, "timeout");
  assert.match(r.failure.message, /no first token after 80 ms/);
});

Deno.test("the model's own timeouts apply (timeoutsFor), not the provider's", async () => {
  await using up = scriptedUpstream({ steps: [role], end: "hang" });
  const slow = { headersMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000, totalMs: 10_000 };
  const t0: ProviderTarget = {
    ...target(`${up.url}/v1`),
    timeouts: slow,
    timeoutsFor: (model) => model === "gpt-4o-mini" ? { ...slow, firstTokenMs: 70 } : slow,
  };
  const r = await executeStream(deps, t0, hello, spec());
  assert.equal(r.type, "failure");
  if (r.type !== "failure") return;
  assert.match(r.failure.message, /no first token after 70 ms/);
});

Deno.test("idleMs: a committed stream with no chunk for idleMs fails as stalled", async () => {
  await streamed(
    { steps: [role, says("first words")], end: "hang" },
    { idleMs: 60, totalMs: 5_000 },
    async (r) => {
      if (r.type !== "success" || !r.pending) {
        return assert.fail(`expected a stream, got ${r.type}`);
      }
      assert.equal(text(r.value.first), "first words");
      const started = performance.now();
      await assert.rejects(drain(r.value.rest), (e: unknown) => {
        assert.ok(e instanceof StreamFailure, String(e));
        assert.equal(e.failure.kind, "timeout");
        assert.match(e.failure.message, /stalled: no chunk for 60 ms/);
        return true;
      });
      assert.ok(performance.now() - started < 2_000);
    },
  );
});

Deno.test("idleMs restarts with every upstream event: a slow but steady stream is fine", async () => {
  const steps: Script["steps"] = [role];
  for (let i = 0; i < 6; i++) steps.push({ waitMs: 25 }, says(`w${i} `));
  steps.push(stop, sse("[DONE]"));
  await streamed({ steps }, { idleMs: 90 }, async (r) => {
    if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
    const all = text(r.value.first) + await drain(r.value.rest);
    assert.equal(all, "w0 w1 w2 w3 w4 w5 ");
  });
});

Deno.test("one malformed event is skipped, counted and logged once; the answer is whole", async () => {
  const lines: string[] = [];
  const logger = createLogger("debug", (l) => lines.push(l));
  await using up = scriptedUpstream({
    steps: [
      role,
      says("Hello"),
      sse("{not json"),
      says(", world"),
      sse("{nope"),
      stop,
      sse("[DONE]"),
    ],
  });
  const r = await executeStream({ ...deps, logger }, target(`${up.url}/v1`), hello, spec());
  if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
  assert.equal(text(r.value.first) + await drain(r.value.rest), "Hello, world");
  assert.equal(r.value.skippedEvents(), 2);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /warn .*skipped malformed upstream stream events .*skipped=2/);
  assert.match(lines[0], /model=gpt-4o-mini/);
});

Deno.test("three malformed events in a row fail the stream (transient), before or after commit", async () => {
  const bad = [sse("{x"), sse("{y"), sse("{z")];
  const before = await streamed({ steps: [role, ...bad, says("late")] });
  assert.equal(before.type, "failure");
  if (before.type !== "failure") return;
  assert.equal(before.failure.kind, "transient");
  assert.match(before.failure.message, /malformed stream: 3 malformed events in a row/);

  await streamed({ steps: [role, says("Hi"), ...bad, says("late")] }, {}, async (r) => {
    if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
    await assert.rejects(drain(r.value.rest), (e: unknown) => {
      assert.ok(e instanceof StreamFailure, String(e));
      assert.equal(e.failure.kind, "transient");
      assert.match(e.failure.message, /malformed stream/);
      return true;
    });
  });
});

Deno.test("finish_reason, then the body ends without [DONE]: complete, with the usage", async () => {
  await streamed(
    { steps: [role, says("All done."), stop, usageChunk(7, 3)], end: "close" },
    {},
    async (r) => {
      if (r.type !== "success" || !r.pending) {
        return assert.fail(`expected a stream, got ${r.type}`);
      }
      const rest: ChatChunk[] = [];
      for await (const c of r.value.rest) rest.push(c);
      assert.equal(text(r.value.first) + text(rest), "All done.");
      assert.deepEqual(r.value.usage(), {
        prompt_tokens: 7,
        completion_tokens: 3,
        total_tokens: 10,
      });
    },
  );
});

Deno.test("finish_reason, then the connection is cut: still complete", async () => {
  await streamed({ steps: [role, says("Done."), stop], end: "cut" }, {}, async (r) => {
    if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
    assert.equal(text(r.value.first) + await drain(r.value.rest), "Done.");
  });
});

Deno.test("a cut before the finish_reason is still a failure", async () => {
  await streamed({ steps: [role, says("Half")], end: "cut" }, {}, async (r) => {
    if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
    await assert.rejects(drain(r.value.rest), StreamFailure);
  });
});

Deno.test("finish_reason, then the upstream hangs: finished after the grace, usage kept", async () => {
  // The grace is FINISH_GRACE_MS, never longer than idleMs (60 here); the usage chunk inside it
  // still counts.
  await streamed(
    { steps: [role, says("Bye."), stop, { waitMs: 10 }, usageChunk(4, 2)], end: "hang" },
    { idleMs: 60, totalMs: 10_000 },
    async (r) => {
      if (r.type !== "success" || !r.pending) {
        return assert.fail(`expected a stream, got ${r.type}`);
      }
      const started = performance.now();
      assert.equal(text(r.value.first) + await drain(r.value.rest), "Bye.");
      assert.ok(performance.now() - started < 1_000, "not held until a timeout");
      assert.equal(r.value.usage()?.total_tokens, 6);
    },
  );
});

Deno.test("an empty answer that finished is a success, not 'ended before any content'", async () => {
  await streamed({ steps: [role, chunk({ content: "" }, "stop")], end: "close" }, {}, async (r) => {
    if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
    assert.equal(text(r.value.first) + await drain(r.value.rest), "");
    assert.equal(r.value.first.at(-1)?.choices[0].finish_reason, "stop");
  });
});

Deno.test("Anthropic: message_delta with stop_reason, then the body ends without message_stop", async () => {
  const ev = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  await using up = scriptedUpstream({
    steps: [
      ev("message_start", {
        message: { id: "msg_1", model: "claude", usage: { input_tokens: 5, output_tokens: 0 } },
      }),
      ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hi there" } }),
      ev("content_block_stop", { index: 0 }),
      ev("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 3 } }),
    ],
    end: "cut",
  });
  const r = await executeStream(
    deps,
    target(`${up.url}/v1`, { family: "anthropic" }),
    hello,
    spec(),
  );
  if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
  assert.equal(text(r.value.first) + await drain(r.value.rest), "Hi there");
});

Deno.test("the request budget clamps an attempt's deadlines and names itself", async () => {
  await using up = scriptedUpstream({ headersAfterMs: 5_000, steps: [] });
  const t0 = target(`${up.url}/v1`, { headersMs: 5_000, firstTokenMs: 5_000 });
  for (const run of [executeJson, executeStream]) {
    const r = await run(deps, t0, hello, spec(undefined, systemClock.now() + 60));
    assert.equal(r.type, "failure", run.name);
    if (r.type !== "failure") return;
    assert.equal(r.failure.kind, "timeout");
    assert.match(r.failure.message, /time budget \(timeouts\.requestMs\) ran out/, run.name);
  }
  const hits = up.hits();
  const late = await executeJson(deps, t0, hello, spec(undefined, systemClock.now() - 1));
  assert.equal(late.type, "failure");
  assert.equal(up.hits(), hits, "an attempt past the budget is never sent");
});

Deno.test("a committed stream runs on past the request budget, under its own idle and total", async () => {
  const steps: Script["steps"] = [role, says("a")];
  for (let i = 0; i < 4; i++) steps.push({ waitMs: 30 }, says("b"));
  steps.push(stop, sse("[DONE]"));
  await using up = scriptedUpstream({ steps });
  const r = await executeStream(
    deps,
    target(`${up.url}/v1`),
    hello,
    spec(undefined, systemClock.now() + 60),
  );
  if (r.type !== "success" || !r.pending) return assert.fail(`expected a stream, got ${r.type}`);
  assert.equal(text(r.value.first) + await drain(r.value.rest), "abbbb");
});

Deno.test("executeJson: an answer the adapter kept as it came carries the upstream's own text", async () => {
  const complete =
    '{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null},"logprobs":null,"finish_reason":"stop"}]}';
  const answering = (text: string) => ({
    fetch: () =>
      Promise.resolve(new Response(text, { headers: { "content-type": "application/json" } })),
  });
  const t = target("http://up/v1");
  const kept = await executeJson({ ...deps, http: answering(complete) }, t, hello, spec());
  assert.ok(kept.type === "success" && !kept.pending);
  assert.equal(sourceOf(kept.value), complete);
  const partial = complete.replace(',"logprobs":null', "");
  const copied = await executeJson({ ...deps, http: answering(partial) }, t, hello, spec());
  assert.ok(copied.type === "success" && !copied.pending);
  assert.equal(sourceOf(copied.value), undefined, "changed by the adapter: serialised anew");
});

Deno.test("a first-token timeout is the upstream's after its full time, the gateway's when it stalled", () => {
  const now = 1_700_000_000_000;
  // The upstream had its 10 s of the gateway's attention: an ordinary timeout, model-scoped.
  const upstream = failureOf(timeoutReason("no first token", 10_000, 180_000, 10_000, 16_000), now);
  assert.equal(upstream.kind, "timeout");
  assert.equal(upstream.scope, undefined);
  assert.equal(upstream.message, "no first token after 10000 ms");
  // The request's budget ran out first while the gateway was responsive: the budget's message,
  // still counted (as before).
  const budget = failureOf(timeoutReason("no first token", 10_000, 4_000, 3_990, 4_000), now);
  assert.equal(budget.kind, "timeout");
  assert.equal(budget.scope, undefined);
  assert.match(budget.message, /time budget \(timeouts.requestMs\) ran out: no first token/);
  // The budget ran out while the gateway was stalled for most of the wait: the gateway's.
  const reason = timeoutReason("no first token", 10_000, 12_000, 3_000, 12_000);
  assert.ok(reason instanceof GatewayStallTimeout);
  assert.equal(reason.name, "TimeoutError");
  const stalled = failureOf(reason, now);
  assert.equal(stalled.kind, "timeout");
  assert.equal(stalled.scope, "gateway");
  assert.match(stalled.message, /stalled for 9000 ms/);
});
