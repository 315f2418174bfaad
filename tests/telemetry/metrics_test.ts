// GET /metrics on a real listening gateway against the mock upstream: a failover, a breaker
// opening, limiter blocks (an upstream 429 and the gateway's own RPM bucket), a stream, caller
// errors; then the scrape is read the way Prometheus reads it and every figure is checked
// against what the client saw.
import assert from "node:assert/strict";
import { type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import { buildConfig, ConfigError } from "../../src/config.ts";
import { createMemoryBus } from "../../src/events/mod.ts";
import type { RunningGateway } from "../../src/server.ts";
import { BREAKER_STATE_VALUE, createMetrics } from "../../src/telemetry/metrics.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";
import { parsePrometheus, type Scrape } from "../_support/prometheus.ts";

const hello = [{ role: "user", content: "hello" }];
const MODEL = "gpt-4o-mini";
const PRICE = { inputPerMTok: 0.15, outputPerMTok: 0.6 };

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

async function scrape(gw: RunningGateway): Promise<{ res: Response; metrics: Scrape }> {
  const res = await fetch(`${gw.url}/metrics`);
  return { res, metrics: parsePrometheus(await res.text()) };
}

/** Histogram buckets never decrease and the +Inf bucket is the count. */
function assertHistogram(m: Scrape, name: string, labels: Record<string, string>) {
  const buckets = m.find(`${name}_bucket`, labels);
  assert.ok(buckets.length > 1, `${name} has buckets`);
  const counts = buckets.map((b) => b.value);
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b), `${name} buckets are cumulative`);
  assert.equal(
    buckets.find((b) => b.labels.le === "+Inf")?.value,
    m.value(`${name}_count`, labels),
  );
}

Deno.test("GET /metrics tells the story of a failover, an open breaker, limiter blocks and a stream", async () => {
  const mock: MockUpstream = await startMockUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      primary: mockProvider(mock.url, "primary", "openai", {
        breaker: {
          minimumRequests: 2,
          failureRateThreshold: 0.5,
          windowMs: 60_000,
          openMs: 60_000,
        },
      }),
      backup: mockProvider(mock.url, "backup"),
      limited: mockProvider(mock.url, "limited"),
      tight: mockProvider(mock.url, "tight", "openai", { rateLimit: { rpm: 1 } }),
    },
    pricing: { [`backup/${MODEL}`]: PRICE },
  });
  const usage = { input: 0, output: 0 };
  let overheadAnswers = 0;
  const statuses: number[] = [];
  const chat = async (body: Record<string, unknown>) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: hello, ...body }),
    });
    statuses.push(res.status);
    if (res.headers.has("x-gateway-overhead-ms")) overheadAnswers++;
    return res;
  };
  const served = async (body: Record<string, unknown>) => {
    const res = await chat(body);
    assert.equal(res.status, 200);
    const json = await res.json();
    if (json.extra_fields.provider === "backup") {
      usage.input += (json.usage as Usage).prompt_tokens;
      usage.output += (json.usage as Usage).completion_tokens;
    }
    const { provider, fallback_index } = json.extra_fields;
    return { provider, fallback_index } as { provider: string; fallback_index: number };
  };
  try {
    // A failover, twice: the primary answers 503, the backup serves; the breaker then opens.
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const failover = { model: `primary/${MODEL}`, fallbacks: [`backup/${MODEL}`] };
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await served(failover), { provider: "backup", fallback_index: 1 });
    }
    // Open: the primary is skipped without a call.
    const skipped = await served(failover);
    assert.equal(skipped.provider, "backup");
    assert.equal(mock.hits("primary"), 2);

    // An upstream 429 blocks that provider's key; alone, the provider is then refused with 429.
    mock.setFaults("limited", [{ kind: "rate_limit", retryAfterSec: 30, times: 1 }]);
    assert.equal(
      (await served({ model: "limited/x", fallbacks: [`backup/${MODEL}`] })).provider,
      "backup",
    );
    const blocked = await chat({ model: "limited/x" });
    assert.equal(blocked.status, 429);
    await blocked.body?.cancel();

    // The gateway's own RPM bucket (1 per minute): the second request is blocked without a call.
    assert.equal((await served({ model: "tight/x" })).provider, "tight");
    const overRpm = await chat({ model: "tight/x" });
    assert.equal(overRpm.status, 429);
    await overRpm.body?.cancel();
    assert.equal(mock.hits("tight"), 1);

    // A stream, with its usage in the last chunk.
    const stream = await chat({
      model: `backup/${MODEL}`,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(stream.status, 200);
    for (const line of (await stream.text()).split("\n")) {
      if (!line.startsWith("data: {")) continue;
      const chunk = JSON.parse(line.slice(6));
      if (chunk.usage) {
        usage.input += chunk.usage.prompt_tokens;
        usage.output += chunk.usage.completion_tokens;
      }
    }
    assert.ok(usage.output > 0);

    // Caller errors never reach the pipeline but are answers all the same.
    const invalid = await chat({ model: `backup/${MODEL}`, messages: "not a list" });
    assert.equal(invalid.status, 400);
    await invalid.body?.cancel();
    const nowhere = await fetch(`${gw.url}/v1/nowhere`);
    assert.equal(nowhere.status, 404);
    await nowhere.body?.cancel();

    const { res, metrics: m } = await scrape(gw);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);

    // Types and names as Prometheus sees them.
    for (
      const [name, type] of [
        ["gateway_http_requests_total", "counter"],
        ["gateway_attempts_total", "counter"],
        ["gateway_fallbacks_total", "counter"],
        ["gateway_requests_served_total", "counter"],
        ["gateway_breaker_state", "gauge"],
        ["gateway_breaker_transitions_total", "counter"],
        ["gateway_ratelimit_blocks_total", "counter"],
        ["gateway_upstream_latency_seconds", "histogram"],
        ["gateway_overhead_seconds", "histogram"],
        ["gateway_time_to_first_token_seconds", "histogram"],
        ["gateway_tokens_total", "counter"],
        ["gateway_cost_usd_total", "counter"],
        ["gateway_events_published_total", "counter"],
        ["gateway_events_dropped_total", "counter"],
      ]
    ) {
      assert.equal(m.types.get(name), type, name);
    }

    // Requests by route and status, every answer counted once.
    const route = "/v1/chat/completions";
    const count = (s: number) => statuses.filter((x) => x === s).length;
    assert.equal(
      m.value("gateway_http_requests_total", { method: "POST", route, status: "200" }),
      count(200),
    );
    assert.equal(
      m.value("gateway_http_requests_total", { method: "POST", route, status: "429" }),
      2,
    );
    assert.equal(
      m.value("gateway_http_requests_total", { method: "POST", route, status: "400" }),
      1,
    );
    assert.equal(
      m.value("gateway_http_requests_total", { method: "GET", route: "unmatched", status: "404" }),
      1,
    );

    // Attempts by provider, model, outcome and error type.
    const attempts = (labels: Record<string, string>) => m.value("gateway_attempts_total", labels);
    assert.equal(
      attempts({ provider: "primary", model: MODEL, outcome: "failed", error_type: "transient" }),
      2,
    );
    assert.equal(
      attempts({
        provider: "primary",
        model: MODEL,
        outcome: "skipped",
        error_type: "circuit_open",
      }),
      1,
    );
    assert.equal(
      attempts({ provider: "limited", model: "x", outcome: "failed", error_type: "rate_limit" }),
      1,
    );
    assert.equal(
      attempts({ provider: "limited", model: "x", outcome: "skipped", error_type: "rate_limited" }),
      1,
    );
    assert.equal(attempts({ provider: "backup", model: MODEL, outcome: "succeeded" }), 5);

    // Fallbacks by the position fallen over to; successes by the position that served.
    const fallbacks = m.find("gateway_fallbacks_total", {
      fallback_index: "1",
      provider: "backup",
    });
    assert.equal(fallbacks.reduce((n, s) => n + s.value, 0), 4);
    assert.equal(
      m.value("gateway_fallbacks_total", {
        fallback_index: "1",
        provider: "backup",
        from_provider: "primary",
        reason: "transient",
      }),
      2,
    );
    assert.equal(
      m.value("gateway_requests_served_total", { provider: "backup", fallback_index: "1" }),
      4,
    );
    assert.equal(
      m.value("gateway_requests_served_total", { provider: "backup", fallback_index: "0" }),
      1,
    );
    assert.equal(
      m.value("gateway_requests_served_total", { provider: "tight", fallback_index: "0" }),
      1,
    );

    // The model's breaker: open now, one transition; the provider-wide ones still closed.
    assert.equal(
      m.value("gateway_breaker_state", { provider: "primary", model: MODEL }),
      BREAKER_STATE_VALUE.open,
    );
    assert.equal(
      m.value("gateway_breaker_state", { provider: "primary", model: "" }),
      BREAKER_STATE_VALUE.closed,
    );
    assert.equal(
      m.value("gateway_breaker_state", { provider: "backup", model: "" }),
      BREAKER_STATE_VALUE.closed,
    );
    assert.equal(
      m.value("gateway_breaker_transitions_total", {
        provider: "primary",
        model: MODEL,
        from: "closed",
        to: "open",
      }),
      1,
    );
    assert.equal(m.find("gateway_breaker_transitions_total", { provider: "backup" }).length, 0);

    // Limiter blocks by provider, key and reason.
    assert.equal(
      m.value("gateway_ratelimit_blocks_total", {
        provider: "limited",
        key: "limited-nokey",
        model: "x",
        reason: "retry_after",
      }),
      1,
    );
    assert.equal(
      m.value("gateway_ratelimit_blocks_total", {
        provider: "tight",
        key: "tight-nokey",
        model: "",
        reason: "rpm",
      }),
      1,
    );

    // Latency histograms.
    const primaryFailed = { provider: "primary", model: MODEL, outcome: "failed" };
    assert.equal(m.value("gateway_upstream_latency_seconds_count", primaryFailed), 2);
    assertHistogram(m, "gateway_upstream_latency_seconds", primaryFailed);
    const backupOk = { provider: "backup", model: MODEL, outcome: "succeeded" };
    assert.equal(m.value("gateway_upstream_latency_seconds_count", backupOk), 5);
    assert.ok(m.value("gateway_upstream_latency_seconds_sum", backupOk) > 0);
    assert.equal(
      m.value("gateway_time_to_first_token_seconds_count", { provider: "backup", model: MODEL }),
      1,
    );
    assert.ok(
      m.value("gateway_time_to_first_token_seconds_sum", { provider: "backup", model: MODEL }) > 0,
    );
    assertHistogram(m, "gateway_time_to_first_token_seconds", { provider: "backup", model: MODEL });
    assert.equal(m.value("gateway_overhead_seconds_count", { route }), overheadAnswers);
    assertHistogram(m, "gateway_overhead_seconds", { route });

    // Tokens and their cost, from the usage the client saw and the configured prices.
    const backup = { provider: "backup", model: MODEL };
    assert.equal(m.value("gateway_tokens_total", { ...backup, type: "input" }), usage.input);
    assert.equal(m.value("gateway_tokens_total", { ...backup, type: "output" }), usage.output);
    const expectedCost = (usage.input * PRICE.inputPerMTok + usage.output * PRICE.outputPerMTok) /
      1e6;
    assert.ok(Math.abs(m.value("gateway_cost_usd_total", backup) - expectedCost) < 1e-12);
    assert.equal(
      m.find("gateway_cost_usd_total", { provider: "tight" }).length,
      0,
      "no price, no cost",
    );

    // Bus figures are read at scrape time.
    assert.equal(m.value("gateway_events_published_total"), gw.bus.stats().published);
    assert.ok(m.value("gateway_events_published_total") > 20);
    assert.equal(m.value("gateway_events_dropped_total"), 0);
    assert.equal(m.value("gateway_requests_in_flight"), 0);
  } finally {
    await gw.shutdown(2_000);
    await mock.close();
  }
});

Deno.test("each gateway in a process has its own registry", async () => {
  const mock = await startMockUpstream();
  const one = startTestGateway({ providers: { p: mockProvider(mock.url, "p") } });
  const two = startTestGateway({ providers: { q: mockProvider(mock.url, "q") } });
  try {
    const res = await fetch(`${one.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "p/m", messages: hello }),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const a = (await scrape(one)).metrics;
    const b = (await scrape(two)).metrics;
    assert.equal(
      a.value("gateway_attempts_total", { provider: "p", model: "m", outcome: "succeeded" }),
      1,
    );
    assert.equal(b.find("gateway_attempts_total").length, 0);
    assert.deepEqual(b.find("gateway_breaker_state").map((s) => s.labels.provider), ["q"]);
    assert.equal(
      b.find("gateway_http_requests_total", { route: "/v1/chat/completions" }).length,
      0,
    );
  } finally {
    await one.shutdown(2_000);
    await two.shutdown(2_000);
    await mock.close();
  }
});

Deno.test("metrics stop following the bus once closed", async () => {
  const bus = createMemoryBus();
  const metrics = createMetrics({ bus, providers: ["p"], pricing: {} });
  bus.publish({
    type: "breaker.opened",
    at: 1,
    provider: "p",
    reason: "quota",
    openMs: 1,
    until: 2,
    failureRate: 1,
    samples: 1,
    reopenCount: 0,
  });
  metrics.close();
  bus.publish({ type: "breaker.closed", at: 3, provider: "p" });
  const m = parsePrometheus(await metrics.scrape());
  assert.equal(
    m.value("gateway_breaker_state", { provider: "p", model: "" }),
    BREAKER_STATE_VALUE.open,
  );
  assert.equal(m.find("gateway_breaker_transitions_total").length, 1);
});

Deno.test("pricing in config is keyed provider/model with both prices, or start-up stops naming the field", () => {
  const ok = buildConfig({ pricing: { "openai/gpt-4o-mini": PRICE } }, () => undefined, "t");
  assert.deepEqual(ok.pricing, { "openai/gpt-4o-mini": PRICE });
  assert.deepEqual(buildConfig({}, () => undefined, "t").pricing, {});
  assert.throws(
    () => buildConfig({ pricing: { "gpt-4o-mini": PRICE } }, () => undefined, "t"),
    (e) =>
      e instanceof ConfigError && /pricing/.test(e.message) && /provider\/model/.test(e.message),
  );
  assert.throws(
    () => buildConfig({ pricing: { "openai/gpt-4o": { inputPerMTok: 1 } } }, () => undefined, "t"),
    (e) => e instanceof ConfigError && /pricing\.openai\/gpt-4o\.outputPerMTok/.test(e.message),
  );
  assert.throws(
    () =>
      buildConfig(
        { pricing: { "openai/gpt-4o": { inputPerMTok: -1, outputPerMTok: 1 } } },
        () => undefined,
        "t",
      ),
    (e) => e instanceof ConfigError && /pricing\.openai\/gpt-4o\.inputPerMTok/.test(e.message),
  );
});

Deno.test("continued streams and skipped malformed events are counted per model", async () => {
  const bus = createMemoryBus();
  const metrics = createMetrics({ bus, providers: ["a", "b"], pricing: {} });
  bus.publish({
    type: "attempt.succeeded",
    at: 1,
    requestId: "r",
    attempt: 2,
    provider: "b",
    model: "claude",
    key: "k",
    probe: false,
    status: 200,
    latencyMs: 5,
    reservedTokens: 0,
    skippedEvents: 2,
  });
  bus.publish({
    type: "stream.continued",
    at: 1,
    requestId: "r",
    attempt: 2,
    provider: "b",
    model: "claude",
    fromProvider: "a",
    fromModel: "gpt-4o",
    mode: "prefill",
    sentChars: 10,
    reason: "timeout",
  });
  const m = parsePrometheus(await metrics.scrape());
  metrics.close();
  assert.equal(
    m.value("gateway_stream_malformed_events_total", { provider: "b", model: "claude" }),
    2,
  );
  assert.equal(
    m.value("gateway_stream_continuations_total", {
      provider: "b",
      model: "claude",
      from_provider: "a",
      from_model: "gpt-4o",
      mode: "prefill",
    }),
    1,
  );
});
