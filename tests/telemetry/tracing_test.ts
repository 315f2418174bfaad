// OpenTelemetry as an operator sees it: with no OTEL variables nothing is recorded and nothing is
// added to upstream requests; with an OTLP endpoint, spans reach the collector; and a request
// that arrives with a W3C traceparent and fails over yields one SERVER span continuing the
// client's trace, one CLIENT span per upstream attempt with the GenAI attributes, and a
// traceparent on the upstream request that names the attempt's span.
import assert from "node:assert/strict";
import { type SpanContext, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace";
import { type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import type { ConfigFile } from "../../src/config.ts";
import type { RunningGateway } from "../../src/server.ts";
import {
  activeTracing,
  describeTracing,
  installTracing,
  otlpTracesUrl,
  setupTracing,
} from "../../src/telemetry/tracing.ts";
import { eventually, mockProvider, startTestGateway } from "../_support/gateway.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN_ID}-01`;
const hello = [{ role: "user", content: "hello" }];

/** A tiny OpenAI-shaped upstream that remembers the headers of every request it gets. */
function recordingUpstream() {
  const seen: Headers[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    seen.push(req.headers);
    const body = await req.json();
    return Response.json({
      id: "chatcmpl-recorded",
      object: "chat.completion",
      created: 1_700_000_000,
      model: `${body.model}-2025-01-01`,
      choices: [{
        index: 0,
        message: { role: "assistant", content: "recorded" },
        finish_reason: "stop",
      }],
      usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    seen,
    close: () => server.shutdown(),
  };
}

type Recording = ReturnType<typeof recordingUpstream>;

async function withFailover(
  fn: (s: { gw: RunningGateway; mock: MockUpstream; upstream: Recording }) => Promise<void>,
  extra: Partial<ConfigFile> = {},
): Promise<void> {
  const mock = await startMockUpstream();
  const upstream = recordingUpstream();
  let gw: RunningGateway | undefined;
  try {
    gw = startTestGateway({
      retries: { max: 0 },
      providers: {
        primary: mockProvider(mock.url, "primary"),
        backup: { type: "groq", baseUrl: `${upstream.url}/v1` },
      },
      ...extra,
    });
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    await fn({ gw, mock, upstream });
  } finally {
    await gw?.shutdown(2_000);
    await upstream.close();
    await mock.close();
  }
}

const chat = (gw: RunningGateway, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

const failoverBody = { model: "primary/gpt-4o-mini", fallbacks: ["backup/llama-3.1-8b"] };

/** Installs an in-memory exporter for the test's duration; tracing is gone afterwards. */
async function withSpans(fn: (spans: () => ReadableSpan[]) => Promise<void>): Promise<void> {
  const exporter = new InMemorySpanExporter();
  const tracing = await installTracing({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  try {
    await fn(() => exporter.getFinishedSpans());
  } finally {
    await tracing.shutdown();
  }
}

const parentOf = (s: ReadableSpan): SpanContext | undefined => s.parentSpanContext;

Deno.test("without OTEL variables no tracing is installed: spans are no-ops and upstreams get no traceparent", async () => {
  assert.equal(await setupTracing(() => undefined), undefined);
  assert.equal(activeTracing(), undefined);
  assert.equal(trace.getTracer("probe").startSpan("probe").isRecording(), false);
  assert.match(describeTracing(() => undefined), /^off/);
  // The standard switches that keep the SDK off even with an endpoint set.
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" } as Record<
    string,
    string
  >;
  assert.equal(otlpTracesUrl((n) => ({ ...endpoint, OTEL_SDK_DISABLED: "true" })[n]), undefined);
  assert.equal(otlpTracesUrl((n) => ({ ...endpoint, OTEL_TRACES_EXPORTER: "none" })[n]), undefined);

  await withFailover(async ({ gw, upstream }) => {
    const res = await chat(gw, { ...failoverBody, messages: hello }, { traceparent: TRACEPARENT });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "backup");
    await res.body?.cancel();
    assert.equal(upstream.seen.length, 1);
    assert.equal(upstream.seen[0].get("traceparent"), null);
    assert.equal(activeTracing(), undefined, "serving requests registers nothing");
  });
});

Deno.test("the OTLP traces URL follows the standard variables", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.equal(
    otlpTracesUrl(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })),
    "http://collector:4318/v1/traces",
  );
  assert.equal(
    otlpTracesUrl(env({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom",
    })),
    "http://traces:9999/custom",
  );
  assert.equal(
    describeTracing(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })),
    "OTLP http://collector:4318/v1/traces",
  );
});

Deno.test("with OTEL_EXPORTER_OTLP_ENDPOINT set, the gateway's spans reach the collector over OTLP/HTTP", async () => {
  const posts: { path: string; body: string }[] = [];
  const collector = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      posts.push({ path: new URL(req.url).pathname, body: await req.text() });
      return Response.json({});
    },
  );
  const tracing = await setupTracing((n) =>
    ({
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}`,
      OTEL_SERVICE_NAME: "gw-under-test",
    })[n]
  );
  try {
    assert.ok(tracing, "an SDK is registered");
    assert.equal(tracing.describe, `OTLP http://127.0.0.1:${collector.addr.port}/v1/traces`);
    assert.equal(await setupTracing(() => undefined), tracing, "one per process, shared");
    await withFailover(async ({ gw }) => {
      const res = await chat(gw, { ...failoverBody, messages: hello });
      assert.equal(res.status, 200);
      await res.json();
      await tracing.flush();
      await eventually(() => posts.length > 0, 5_000, "an OTLP export");
    });
    const sent = posts.map((p) => p.body).join("\n");
    assert.deepEqual([...new Set(posts.map((p) => p.path))], ["/v1/traces"]);
    assert.match(sent, /"gw-under-test"/);
    assert.match(sent, /"chat gpt-4o-mini"/);
    assert.match(sent, /"chat llama-3\.1-8b"/);
    assert.match(sent, /"POST \/v1\/chat\/completions"/);
  } finally {
    await tracing?.shutdown();
    await collector.shutdown();
  }
  assert.equal(activeTracing(), undefined);
  assert.equal(trace.getTracer("probe").startSpan("probe").isRecording(), false);
});

Deno.test("a failover continues the client's trace: one SERVER span, a CLIENT span per attempt, traceparent upstream", async () => {
  await withSpans(async (spans) => {
    await withFailover(async ({ gw, mock, upstream }) => {
      const res = await chat(gw, { ...failoverBody, messages: hello }, {
        traceparent: TRACEPARENT,
      });
      assert.equal(res.status, 200);
      const requestId = res.headers.get("x-request-id");
      await res.json();
      await eventually(() => spans().some((s) => s.kind === SpanKind.SERVER), 2_000, "spans");

      const server = spans().filter((s) => s.kind === SpanKind.SERVER);
      assert.equal(server.length, 1);
      const [srv] = server;
      assert.equal(srv.name, "POST /v1/chat/completions");
      assert.equal(srv.spanContext().traceId, TRACE_ID);
      assert.equal(parentOf(srv)?.spanId, CLIENT_SPAN_ID);
      assert.equal(parentOf(srv)?.isRemote, true);
      assert.equal(srv.attributes["http.request.method"], "POST");
      assert.equal(srv.attributes["http.route"], "/v1/chat/completions");
      assert.equal(srv.attributes["http.response.status_code"], 200);
      assert.equal(srv.attributes["gateway.request.id"], requestId);

      const clients = spans().filter((s) => s.kind === SpanKind.CLIENT)
        .sort((a, b) =>
          Number(a.attributes["gateway.attempt.index"]) -
          Number(b.attributes["gateway.attempt.index"])
        );
      assert.equal(clients.length, 2);
      const [failed, succeeded] = clients;
      for (const c of clients) {
        assert.equal(c.spanContext().traceId, TRACE_ID);
        assert.equal(parentOf(c)?.spanId, srv.spanContext().spanId);
        assert.equal(c.attributes["gen_ai.operation.name"], "chat");
        assert.equal(c.attributes["server.address"], "127.0.0.1");
        assert.equal(c.attributes["gateway.breaker.state"], "closed");
      }
      assert.equal(failed.name, "chat gpt-4o-mini");
      assert.deepEqual(
        {
          provider: failed.attributes["gen_ai.provider.name"],
          model: failed.attributes["gen_ai.request.model"],
          error: failed.attributes["error.type"],
          status: failed.attributes["http.response.status_code"],
          port: failed.attributes["server.port"],
          attempt: failed.attributes["gateway.attempt.index"],
          depth: failed.attributes["gateway.fallback.depth"],
        },
        {
          provider: "openai",
          model: "gpt-4o-mini",
          error: "transient",
          status: 503,
          port: mock.port,
          attempt: 1,
          depth: 0,
        },
      );
      assert.equal(failed.status.code, SpanStatusCode.ERROR);

      assert.equal(succeeded.name, "chat llama-3.1-8b");
      assert.deepEqual(
        {
          provider: succeeded.attributes["gen_ai.provider.name"],
          model: succeeded.attributes["gen_ai.request.model"],
          responseModel: succeeded.attributes["gen_ai.response.model"],
          input: succeeded.attributes["gen_ai.usage.input_tokens"],
          output: succeeded.attributes["gen_ai.usage.output_tokens"],
          error: succeeded.attributes["error.type"],
          port: succeeded.attributes["server.port"],
          attempt: succeeded.attributes["gateway.attempt.index"],
          depth: succeeded.attributes["gateway.fallback.depth"],
        },
        {
          provider: "groq",
          model: "llama-3.1-8b",
          responseModel: "llama-3.1-8b-2025-01-01",
          input: 11,
          output: 4,
          error: undefined,
          port: upstream.port,
          attempt: 2,
          depth: 1,
        },
      );
      assert.notEqual(succeeded.status.code, SpanStatusCode.ERROR);

      // The upstream saw the trace continue from the succeeded attempt's span.
      assert.equal(upstream.seen.length, 1);
      const sent = upstream.seen[0].get("traceparent");
      assert.ok(sent, "the upstream request carries a traceparent");
      const [, traceId, parentId, flags] = sent.split("-");
      assert.equal(traceId, TRACE_ID);
      assert.equal(parentId, succeeded.spanContext().spanId);
      assert.equal(flags, "01");
    });
  });
});

Deno.test("a stream's attempt span lasts until the stream ends, with its usage; a probe says half_open", async () => {
  await withSpans(async (spans) => {
    const mock = await startMockUpstream();
    const gw = startTestGateway({
      retries: { max: 0 },
      providers: {
        flaky: mockProvider(mock.url, "flaky", "openai", {
          breaker: { minimumRequests: 1, failureRateThreshold: 0.5, openMs: 50 },
        }),
      },
    });
    try {
      // One 500 opens the breaker of model m; after openMs its next attempt is a half-open probe.
      mock.setFaults("flaky", [{ kind: "status", status: 500, times: 1 }]);
      const failed = await chat(gw, { model: "flaky/m", messages: hello });
      assert.equal(failed.status, 502);
      await failed.body?.cancel();
      const modelBreaker = () =>
        gw.gateway.actors.get("flaky")!.snapshot(Date.now()).models.find((x) => x.model === "m")
          ?.breaker.state;
      await eventually(() => modelBreaker() === "half_open", 3_000, "m's breaker to half-open");
      mock.setFaults("flaky", [{ kind: "latency", ms: 0, chunkMs: 30 }]);
      const res = await chat(gw, {
        model: "flaky/m",
        stream: true,
        stream_options: { include_usage: true },
        messages: hello,
      });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      await reader.read(); // the first chunk is here, the stream is not over
      const open = spans().filter((s) => s.kind === SpanKind.CLIENT);
      assert.equal(open.length, 1, "only the first (failed) attempt has ended");
      assert.equal(open[0].attributes["error.type"], "transient");
      while (!(await reader.read()).done) { /* drain */ }
      await eventually(
        () => spans().filter((s) => s.kind === SpanKind.CLIENT).length === 2,
        2_000,
        "the stream's attempt span",
      );
      const streamSpan = spans().filter((s) => s.kind === SpanKind.CLIENT)[1];
      assert.equal(streamSpan.attributes["gateway.breaker.state"], "half_open");
      assert.equal(modelBreaker(), "closed", "the probe's success closed it");
      assert.equal(streamSpan.attributes["gen_ai.response.model"], "m");
      assert.ok(Number(streamSpan.attributes["gen_ai.usage.output_tokens"]) > 0);
      assert.ok(Number(streamSpan.attributes["gen_ai.usage.input_tokens"]) > 0);
      const durationMs = streamSpan.duration[0] * 1e3 + streamSpan.duration[1] / 1e6;
      assert.ok(durationMs >= 60, `the span covers the whole stream (${durationMs} ms)`);
      await eventually(
        () => spans().filter((s) => s.kind === SpanKind.SERVER).length === 2,
        2_000,
        "the stream's server span",
      );
    } finally {
      await gw.shutdown(2_000);
      await mock.close();
    }
  });
});
