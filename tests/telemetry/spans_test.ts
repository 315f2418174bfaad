// The span helpers on their own: GenAI provider names, trace-context injection, the cost-free
// path with tracing off, and the life of attempt spans (thrown, aborted, a stream settled later).
import assert from "node:assert/strict";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace";
import type { AttemptInput, Supervised } from "../../actors/supervisor/mod.ts";
import {
  attemptSpans,
  genAiProviderName,
  startServerSpan,
  withTraceContext,
} from "../../src/telemetry/spans.ts";
import { installTracing } from "../../src/telemetry/tracing.ts";

function attemptInput(over: Partial<AttemptInput> = {}): AttemptInput {
  return {
    candidate: { provider: "p", model: "m" },
    key: "p-0",
    requestId: "req-1",
    attempt: 1,
    fallbackIndex: 0,
    probe: false,
    signal: new AbortController().signal,
    ...over,
  };
}

async function withSpans(fn: (finished: () => ReadableSpan[]) => void | Promise<void>) {
  const exporter = new InMemorySpanExporter();
  const tracing = await installTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  try {
    await fn(() => exporter.getFinishedSpans());
  } finally {
    await tracing.shutdown();
  }
}

Deno.test("gen_ai.provider.name uses the semantic conventions' well-known values", () => {
  assert.deepEqual(
    ["openai", "anthropic", "gemini", "bedrock", "azure", "mistral", "xai", "groq", "ollama"]
      .map(genAiProviderName),
    [
      "openai",
      "anthropic",
      "gcp.gemini",
      "aws.bedrock",
      "azure.ai.openai",
      "mistral_ai",
      "x_ai",
      "groq",
      "ollama",
    ],
  );
});

Deno.test("with tracing off, nothing is injected and responses pass through untouched", async () => {
  const headers = { authorization: "Bearer k" };
  assert.equal(withTraceContext(headers), headers);
  const server = startServerSpan(
    new Request("http://gw/v1/models", {
      headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
    }),
  );
  const res = new Response("ok");
  assert.equal(await server.run(() => Promise.resolve(1)), 1);
  assert.equal(server.end(res, "/v1/models"), res);
});

Deno.test("with tracing on, the active span goes upstream as a traceparent; no span, no header", async () => {
  await withSpans(() => {
    assert.deepEqual(withTraceContext({ a: "1" }), { a: "1" });
    const span = trace.getTracer("t").startSpan("outer");
    const injected = context.with(
      trace.setSpan(context.active(), span),
      () => withTraceContext({ a: "1" }),
    );
    span.end();
    const { traceId, spanId } = span.spanContext();
    assert.deepEqual(injected, { a: "1", traceparent: `00-${traceId}-${spanId}-01` });
  });
});

Deno.test("attempt spans: name, server address and port, aborted and thrown attempts", async () => {
  await withSpans(async (finished) => {
    const spans = attemptSpans("embeddings", (id) => ({
      type: id === "b" ? "bedrock" : "openai",
      baseUrl: id === "b"
        ? "https://bedrock-runtime.us-east-1.amazonaws.com"
        : "http://[::1]:8000/v1",
    }));
    await spans.run(
      attemptInput({ candidate: { provider: "b", model: "titan" }, probe: true }),
      () => Promise.resolve({ type: "aborted" as const, latencyMs: 1 }),
    );
    await assert.rejects(
      spans.run(attemptInput({ attempt: 2, fallbackIndex: 1 }), () => {
        throw new TypeError("boom");
      }),
      /boom/,
    );
    const [aborted, thrown] = finished();
    assert.equal(aborted.name, "embeddings titan");
    assert.equal(aborted.kind, SpanKind.CLIENT);
    assert.equal(aborted.attributes["gen_ai.operation.name"], "embeddings");
    assert.equal(aborted.attributes["gen_ai.provider.name"], "aws.bedrock");
    assert.equal(aborted.attributes["server.address"], "bedrock-runtime.us-east-1.amazonaws.com");
    assert.equal(aborted.attributes["server.port"], 443);
    assert.equal(aborted.attributes["gateway.breaker.state"], "half_open");
    assert.equal(aborted.attributes["error.type"], "aborted");
    assert.equal(thrown.name, "embeddings m");
    assert.equal(thrown.attributes["server.address"], "::1");
    assert.equal(thrown.attributes["server.port"], 8000);
    assert.equal(thrown.attributes["gateway.fallback.depth"], 1);
    assert.equal(thrown.attributes["error.type"], "TypeError");
    assert.equal(thrown.status.code, SpanStatusCode.ERROR);
  });
});

Deno.test("a committed stream's span ends only when the stream is settled, with its usage", async () => {
  await withSpans(async (finished) => {
    const spans = attemptSpans(
      "chat",
      () => ({ type: "openai", baseUrl: "http://127.0.0.1:1/v1" }),
    );
    const value = { first: [{ model: "m-2025" }] };
    await spans.run(
      attemptInput(),
      () =>
        Promise.resolve({
          type: "success" as const,
          pending: true as const,
          value,
          status: 200,
          latencyMs: 3,
        }),
    );
    assert.equal(finished().length, 0, "still streaming");
    const settled: unknown[] = [];
    const supervised: Supervised<typeof value> = {
      ok: true,
      value,
      candidate: { provider: "p", model: "m" },
      state: () => {
        throw new Error("unused");
      },
      settle: (o) => void settled.push(o),
      resume: () => Promise.reject(new Error("unused")),
      continued() {},
    };
    const result = spans.following(supervised);
    assert.ok(result.ok);
    const outcome = {
      type: "success" as const,
      status: 200,
      latencyMs: 50,
      usage: { promptTokens: 9, completionTokens: 21 },
    };
    result.settle(outcome);
    assert.deepEqual(settled, [outcome], "the supervisor still hears how the stream ended");
    const [span] = finished();
    assert.equal(span.attributes["gen_ai.response.model"], "m-2025");
    assert.equal(span.attributes["gen_ai.usage.input_tokens"], 9);
    assert.equal(span.attributes["gen_ai.usage.output_tokens"], 21);
    assert.equal(span.attributes["http.response.status_code"], 200);
  });
});
