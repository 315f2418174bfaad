// OpenTelemetry setup. The gateway only ever talks to `@opentelemetry/api`; with nothing
// registered, the API's no-op tracer makes every span call nearly free and nothing is recorded.
// An SDK is registered only when the standard OTLP environment variables ask for it
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces"); then spans
// are batched to that collector as OTLP/HTTP JSON, the W3C trace context is read from and written
// to HTTP headers, and an AsyncLocalStorage context manager carries the active span across awaits.
// The SDK modules are loaded on demand, so a gateway without tracing never loads them.
import { context, propagation, trace } from "@opentelemetry/api";
import type { SpanProcessor } from "@opentelemetry/sdk-trace";

type Env = (name: string) => string | undefined;

/** The process environment; without --allow-env it reads as empty (tracing off). */
export const processEnv: Env = (name) => {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
};

export interface Tracing {
  /** Where spans go, for the start-up lines. */
  readonly describe: string;
  /** Exports what is buffered (bounded by the processors' timeouts). */
  flush(): Promise<void>;
  /** Flushes, then unregisters everything: the API is back to its no-op tracer. */
  shutdown(): Promise<void>;
}

export const DEFAULT_SERVICE_NAME = "failover-gateway";

/**
 * The OTLP/HTTP traces URL the environment asks for, or undefined when tracing stays off:
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces";
 * none when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 */
export function otlpTracesUrl(env: Env): string | undefined {
  if (env("OTEL_SDK_DISABLED")?.trim().toLowerCase() === "true") return undefined;
  if (env("OTEL_TRACES_EXPORTER")?.trim().toLowerCase() === "none") return undefined;
  const traces = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")?.trim();
  if (traces) return traces;
  const base = env("OTEL_EXPORTER_OTLP_ENDPOINT")?.trim();
  return base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined;
}

/** One line for the start-up output: where traces go, or how to turn them on. */
export function describeTracing(env: Env = processEnv): string {
  const url = otlpTracesUrl(env);
  return url ? `OTLP ${url}` : "off (set OTEL_EXPORTER_OTLP_ENDPOINT to export traces)";
}

let active: Promise<Tracing> | undefined;

/** The registered tracing, if any (what `setupTracing` or `installTracing` put in place). */
export function activeTracing(): Promise<Tracing> | undefined {
  return active;
}

export interface InstallOptions {
  spanProcessors: SpanProcessor[];
  serviceName?: string;
  describe?: string;
}

/**
 * Registers a tracer provider with these span processors, the W3C trace-context propagator and
 * an AsyncLocalStorage context manager as the process-wide OpenTelemetry globals. One at a time:
 * `shutdown()` the previous one first.
 */
export function installTracing(opts: InstallOptions): Promise<Tracing> {
  if (active) throw new Error("OpenTelemetry tracing is already installed in this process");
  const installing = (async (): Promise<Tracing> => {
    const [{ TracerProvider }, { W3CTraceContextPropagator }, { AsyncLocalStorageContextManager }, {
      resourceFromAttributes,
    }] = await Promise.all([
      import("@opentelemetry/sdk-trace"),
      import("@opentelemetry/core"),
      import("@opentelemetry/context-async-hooks"),
      import("@opentelemetry/resources"),
    ]);
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        "service.name": opts.serviceName ?? DEFAULT_SERVICE_NAME,
      }),
      spanProcessors: opts.spanProcessors,
    });
    // Another SDK (e.g. Deno's built-in OTEL_DENO) may own the globals already; do not fight it.
    if (!trace.setGlobalTracerProvider(provider)) {
      await provider.shutdown();
      throw new Error("another OpenTelemetry tracer provider is already registered");
    }
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    let closed: Promise<void> | undefined;
    return {
      describe: opts.describe ?? "in-process span processors",
      flush: () => provider.forceFlush(),
      shutdown() {
        closed ??= (async () => {
          try {
            await provider.shutdown();
          } finally {
            trace.disable();
            context.disable();
            propagation.disable();
            active = undefined;
          }
        })();
        return closed;
      },
    };
  })();
  active = installing;
  installing.catch(() => {
    if (active === installing) active = undefined;
  });
  return installing;
}

/**
 * Tracing as the environment asks: an OTLP/HTTP exporter behind a batch processor when an OTLP
 * endpoint is set, nothing otherwise (resolves to undefined). Idempotent: every gateway in the
 * process shares what the first call installed.
 */
export function setupTracing(env: Env = processEnv): Promise<Tracing | undefined> {
  if (active) return active;
  const url = otlpTracesUrl(env);
  if (!url) return Promise.resolve(undefined);
  const serviceName = env("OTEL_SERVICE_NAME")?.trim() || DEFAULT_SERVICE_NAME;
  return (async () => {
    const [{ OTLPTraceExporter }, { BatchSpanProcessor }] = await Promise.all([
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/sdk-trace"),
    ]);
    if (active) return active;
    return installTracing({
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }) })],
      serviceName,
      describe: `OTLP ${url}`,
    });
  })();
}
