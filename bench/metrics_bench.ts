// `deno bench -A bench/metrics_bench.ts`: what the Prometheus metrics cost per successful JSON
// call — the events one call publishes (request.started, attempt.started, attempt.succeeded with
// usage and a price, request.completed) plus the HTTP middleware's observeHttp. Prints figures,
// asserts nothing.
import type { GatewayEvent } from "../src/events/catalogue.ts";
import { createMemoryBus } from "../src/events/memory_bus.ts";
import { createMetrics } from "../src/telemetry/metrics.ts";

const bus = createMemoryBus();
const metrics = createMetrics({
  bus,
  providers: ["mock"],
  pricing: { "mock/gpt-4o-mini": { inputPerMTok: 0.15, outputPerMTok: 0.6 } },
});
const ids = { at: 1, requestId: "r1", attempt: 1, provider: "mock", model: "gpt-4o-mini" };
const events: GatewayEvent[] = [
  {
    type: "request.started",
    at: 1,
    requestId: "r1",
    model: "mock/gpt-4o-mini",
    candidates: ["mock/gpt-4o-mini"],
    stream: false,
  },
  { type: "attempt.started", ...ids, key: "default", probe: false, reservedTokens: 0 },
  {
    type: "attempt.succeeded",
    ...ids,
    key: "default",
    probe: false,
    latencyMs: 3,
    status: 200,
    reservedTokens: 0,
    usage: { promptTokens: 3, completionTokens: 256 },
  },
  {
    type: "request.completed",
    at: 1,
    requestId: "r1",
    provider: "mock",
    model: "gpt-4o-mini",
    fallbackIndex: 0,
    attempts: 1,
    latencyMs: 4,
    upstreamLatencyMs: 3,
  },
];

Deno.bench("metrics: one successful JSON call (4 events + observeHttp)", () => {
  for (const e of events) bus.publish(e);
  metrics.observeHttp("POST", "/v1/chat/completions", 200, 0.3);
});

Deno.bench("metrics: scrape", async () => {
  await metrics.scrape();
});
