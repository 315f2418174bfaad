// The telemetry middleware and GET /metrics on the Hono app: every answer is counted once under
// its route pattern (prefix aliases included, unmatched paths under one label), caller errors
// and internal errors too, and each request gets exactly one SERVER span.
import assert from "node:assert/strict";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { createApp } from "../../src/app.ts";
import { buildConfig } from "../../src/config.ts";
import { createMemoryBus } from "../../src/events/mod.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { systemClock } from "../../src/lib/clock.ts";
import { createIdGen } from "../../src/lib/ids.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { fetchHttp } from "../../src/providers/fetch_http.ts";
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

Deno.test("/metrics is open without METRICS_TOKEN and wants it as a bearer token with one", async () => {
  const open = createApp(gateway());
  const res = await open.request("/metrics");
  assert.equal(res.status, 200);
  await res.body?.cancel();

  const raw = { providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } } };
  const gw = createGateway({
    config: buildConfig(raw, (n) => (n === "METRICS_TOKEN" ? "scrape-me-please" : undefined), "t"),
    bus: createMemoryBus(),
    clock: systemClock,
    ids: createIdGen(),
    random: Math.random,
    http: fetchHttp,
    logger: silentLogger,
  });
  try {
    const app = createApp(gw);
    for (
      const auth of [undefined, "Bearer scrape-me-pleasE", "Bearer scrape-me-pleas", "Basic x"]
    ) {
      const r = await app.request("/metrics", auth ? { headers: { authorization: auth } } : {});
      assert.equal(r.status, 401, String(auth));
      assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal((await r.json()).error.code, "invalid_metrics_token");
    }
    const ok = await app.request("/metrics", {
      headers: { authorization: "Bearer scrape-me-please" },
    });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /gateway_http_requests_total/);
  } finally {
    gw.stop();
  }
});
