import assert from "node:assert/strict";
import { completionText, type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import { systemClock } from "../../src/lib/clock.ts";
import type { ChatChunk, ChatRequest } from "../../src/openai/types.ts";
import {
  type AttemptSpec,
  executeJson,
  executeStream,
  type ProviderTarget,
  StreamFailure,
  withinBase,
} from "../../src/providers/execute.ts";
import { fetchHttp } from "../../src/providers/http.ts";
import { anthropicAdapter, openaiAdapter } from "../../src/providers/mod.ts";

const deps = { http: fetchHttp, clock: systemClock };
const hello: ChatRequest = {
  model: "p/gpt-4o-mini",
  messages: [{ role: "user", content: "hello there" }],
};

function target(
  baseUrl: string,
  opts: { family?: "openai" | "anthropic"; firstTokenMs?: number; totalMs?: number } = {},
): ProviderTarget {
  return {
    adapter: opts.family === "anthropic" ? anthropicAdapter : openaiAdapter,
    baseUrl,
    timeouts: { firstTokenMs: opts.firstTokenMs ?? 2_000, totalMs: opts.totalMs ?? 10_000 },
    secrets: new Map([["k0", "sk-test"]]),
    settings: {},
  };
}

const spec = (signal = new AbortController().signal): AttemptSpec => ({
  model: "gpt-4o-mini",
  key: "k0",
  id: "chatcmpl-test",
  signal,
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
