// The telemetry folder's public surface: Prometheus metrics fed from the event stream, the HTTP
// middleware and /metrics route, OpenTelemetry setup and the span helpers the pipeline uses.
export * from "./metrics.ts";
export * from "./http.ts";
export * from "./tracing.ts";
export * from "./spans.ts";
