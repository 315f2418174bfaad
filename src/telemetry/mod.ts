// The telemetry folder's public surface: Prometheus metrics fed from the event stream, the HTTP
// middleware and /metrics route, OpenTelemetry setup and the span helpers the pipeline uses.
export { createMetrics, type GatewayMetrics, type MetricsOptions } from "./metrics.ts";
export { metricsEndpoint, mountTelemetry, observeHttp } from "./http_middleware.ts";
export { describeTracing, type InstallOptions, setupTracing, type Tracing } from "./tracing.ts";
export {
  type AttemptSpans,
  attemptSpans,
  type GenAiOperation,
  type ProviderFacts,
  withTraceContext,
} from "./spans.ts";
