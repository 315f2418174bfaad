// The telemetry middleware and GET /metrics on the Hono app: every answer is counted once under
// its route pattern (prefix aliases included, unmatched paths under one label), caller errors
// and internal errors too, and each request gets exactly one SERVER span.
import assert from "node:assert/strict";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { createApp } from "../../src/app.ts";
import type { Gateway } from "../../src/gateway.ts";
import { createTestGateway } from "../_support/gateway.ts";
import { installTracing } from "../../src/telemetry/tracing.ts";
import { parsePrometheus } from "../_support/prometheus.ts";

function gateway(): Gateway {
  return createTestGateway({
    providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } },
  });
}

async function send(app: ReturnType<typeof createApp>, path: string, init?: RequestInit) {
  const res = await app.request(path, init);
  await res.body?.cancel();
  return res.status;
}

Deno.test("every answer is counted once by method, route pattern and status", async () => {
  const gw = gateway();
  try {
    const app = createApp(gw);
    assert.equal(await send(app, "/v1/models"), 200);
    assert.equal(await send(app, "/openai/v1/models"), 200);
    assert.equal(await send(app, "/litellm/models"), 200);
    assert.equal(await send(app, "/v1/chat/completions", { method: "POST", body: "{" }), 400);
    assert.equal(await send(app, "/v1/nothing/42"), 404);
    assert.equal(await send(app, "/v1/nothing/43"), 404);

    const res = await app.request("/metrics");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const m = parsePrometheus(await res.text());
    const count = (method: string, route: string, status: string) =>
      m.value("gateway_http_requests_total", { method, route, status });
    assert.equal(count("GET", "/v1/models", "200"), 1, "the alias is not counted again as /v1");
    assert.equal(count("GET", "/openai/v1/models", "200"), 1);
    assert.equal(count("GET", "/litellm/v1/models", "200"), 1);
    assert.equal(count("POST", "/v1/chat/completions", "400"), 1);
    assert.equal(count("GET", "unmatched", "404"), 2, "raw paths never become labels");
    assert.equal(
      m.find("gateway_http_requests_total").reduce((n, s) => n + s.value, 0),
      6,
      "one count per answer",
    );
    // Refused before the pipeline ran: no overhead figure.
    assert.equal(m.find("gateway_overhead_seconds_count").length, 0);

    const again = parsePrometheus(await (await app.request("/metrics")).text());
    assert.equal(
      again.value("gateway_http_requests_total", {
        method: "GET",
        route: "/metrics",
        status: "200",
      }),
      1,
    );
  } finally {
    gw.stop();
  }
});

Deno.test("an internal error is counted as a 500 and marks its SERVER span as an error", async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = await installTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const gw = gateway();
  try {
    const broken: Gateway = {
      ...gw,
      actors: {
        ...gw.actors,
        all: () => {
          throw new Error("registry exploded");
        },
      } as unknown as Gateway["actors"],
    };
    const app = createApp(broken);
    assert.equal(await send(app, "/v1/gateway/providers"), 500);
    const m = parsePrometheus(await (await app.request("/metrics")).text());
    assert.equal(
      m.value("gateway_http_requests_total", {
        method: "GET",
        route: "/v1/gateway/providers",
        status: "500",
      }),
      1,
    );
    await tracing.flush();
    const [span] = exporter.getFinishedSpans().filter((s) =>
      s.attributes["http.route"] === "/v1/gateway/providers"
    );
    assert.equal(span.name, "GET /v1/gateway/providers");
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes["error.type"], "500");
  } finally {
    gw.stop();
    await tracing.shutdown();
  }
});

Deno.test("a request through a prefix alias has one SERVER span, named after the alias route", async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = await installTracing({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const gw = gateway();
  try {
    const app = createApp(gw);
    assert.equal(await send(app, "/openai/v1/models"), 200);
    await tracing.flush();
    const spans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    assert.deepEqual(spans.map((s) => s.name), ["GET /openai/v1/models"]);
    assert.equal(spans[0].attributes["url.path"], "/openai/v1/models");
    assert.equal(spans[0].attributes["http.response.status_code"], 200);
    assert.equal(spans[0].parentSpanContext, undefined, "no traceparent: a root span");
  } finally {
    gw.stop();
    await tracing.shutdown();
  }
});
