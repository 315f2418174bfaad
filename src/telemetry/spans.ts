// Span helpers: one SERVER span per HTTP request and one CLIENT span per upstream attempt, named
// and attributed after the OpenTelemetry HTTP and GenAI semantic conventions. They only use
// `@opentelemetry/api`: with no SDK registered (see tracing.ts) every span is a non-recording
// no-op, attributes are never computed and no header is injected.
import {
  type Attributes,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import type { Outcome } from "../../actors/provider/mod.ts";
import type { AttemptInput, AttemptResult, Supervised } from "../../actors/supervisor/mod.ts";

export const TRACER_NAME = "failover-gateway";

// Looked up per span, not cached: a cached proxy tracer would keep pointing at a provider that
// was shut down and replaced.
const tracer = () => trace.getTracer(TRACER_NAME);

/** `gen_ai.provider.name` well-known values for our provider types; others keep their type. */
const GEN_AI_PROVIDER: Readonly<Record<string, string>> = {
  openai: "openai",
  anthropic: "anthropic",
  gemini: "gcp.gemini",
  bedrock: "aws.bedrock",
  azure: "azure.ai.openai",
  cohere: "cohere",
  groq: "groq",
  mistral: "mistral_ai",
  deepseek: "deepseek",
  xai: "x_ai",
  perplexity: "perplexity",
};

export function genAiProviderName(type: string): string {
  return GEN_AI_PROVIDER[type] ?? type;
}

const headerGetter: TextMapGetter<Headers> = {
  keys: (h) => [...h.keys()],
  get: (h, key) => h.get(key) ?? undefined,
};

/**
 * Adds the active span's W3C trace context (`traceparent`, `tracestate`) to upstream headers.
 * Returns the headers untouched when there is nothing to add (tracing off, no active span).
 */
export function withTraceContext(headers: Record<string, string>): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? { ...headers, ...carrier } : headers;
}

export interface ServerSpan {
  /** Runs the rest of the request with this span active (attempt spans become its children). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Names the span after its route, records the status and ends it — when the response body
   * has been sent in full (or the client left), so a stream's span covers the whole stream.
   */
  end(res: Response, route: string): Response;
}

/** A SERVER span for an incoming request; a client's `traceparent` becomes its parent. */
export function startServerSpan(req: Request): ServerSpan {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers, headerGetter);
  const span = tracer().startSpan(req.method, { kind: SpanKind.SERVER }, parent);
  if (!span.isRecording()) {
    return {
      run: (fn) => fn(),
      end(res) {
        span.end();
        return res;
      },
    };
  }
  const url = new URL(req.url);
  span.setAttributes({
    "http.request.method": req.method,
    "url.path": url.pathname,
    "url.scheme": url.protocol.replace(/:$/, ""),
  });
  const ua = req.headers.get("user-agent");
  if (ua) span.setAttribute("user_agent.original", ua);
  const active = trace.setSpan(parent, span);
  return {
    run: (fn) => context.with(active, fn),
    end(res, route) {
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({ "http.route": route, "http.response.status_code": res.status });
      const requestId = res.headers.get("x-request-id");
      if (requestId) span.setAttribute("gateway.request.id", requestId);
      if (res.status >= 500) {
        span.setAttribute("error.type", String(res.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return endWithBody(res, () => span.end());
    },
  };
}

/** The same response, calling `done` once when its body is finished, failed or cancelled. */
function endWithBody(res: Response, done: () => void): Response {
  if (!res.body) {
    done();
    return res;
  }
  let ended = false;
  const finish = () => {
    if (!ended) {
      ended = true;
      done();
    }
  };
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const n = await reader.read();
        if (n.done) {
          finish();
          ctl.close();
        } else {
          ctl.enqueue(n.value);
        }
      } catch (e) {
        finish();
        ctl.error(e);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

/** What a span needs to know about the provider behind a candidate. */
export interface ProviderFacts {
  /** Provider type from config ("openai", "groq", …). */
  type: string;
  baseUrl: string;
}

export type GenAiOperation = "chat" | "embeddings";

/** The attempt spans of one request (see {@linkcode attemptSpans}). */
export interface AttemptSpans {
  /** Runs `attempt(c, a)` inside this attempt's CLIENT span. */
  run<T, C = undefined>(
    a: AttemptInput,
    attempt: (c: C, a: AttemptInput) => Promise<AttemptResult<T>>,
    c?: C,
  ): Promise<AttemptResult<T>>;
  /** The supervised result, with `settle` also ending the open stream attempt's span. */
  following<T>(result: Supervised<T>): Supervised<T>;
}

/**
 * CLIENT spans for the attempts of one request. `run` wraps each attempt: the span is active
 * while the upstream is called (so its context goes out as `traceparent`) and ends with the
 * attempt's result; a committed stream's span stays open until `following(...).settle` reports
 * how the stream ended, so its duration and token usage cover the whole stream. `run` calls
 * `attempt(c, a)`, so a caller composed once (../http/attempt_pipeline.ts) passes its per-call
 * data as `c` instead of allocating a closure per attempt.
 */
export function attemptSpans(
  operation: GenAiOperation,
  facts: (provider: string) => ProviderFacts,
): AttemptSpans {
  let open: Span | undefined;
  return {
    run<T, C = undefined>(
      a: AttemptInput,
      attempt: (c: C, a: AttemptInput) => Promise<AttemptResult<T>>,
      c?: C,
    ): Promise<AttemptResult<T>> {
      const name = `${operation} ${a.candidate.model}`;
      const span = tracer().startSpan(name, { kind: SpanKind.CLIENT }, context.active());
      // Tracing off (no SDK, no incoming trace): nothing to record or to propagate upstream.
      if (!span.isRecording() && !isSpanContextValid(span.spanContext())) return attempt(c as C, a);
      return traced(span, a, attempt, c as C);
    },
    /** The supervised result, with `settle` also ending the open stream attempt's span. */
    following<T>(result: Supervised<T>): Supervised<T> {
      if (!result.ok || !open) return result;
      const span = open;
      open = undefined;
      const follow = this.following.bind(this);
      return {
        ...result,
        settle(outcome) {
          endAttempt(span, outcome);
          result.settle(outcome);
        },
        // A continued stream: this attempt's span ends with its failure, the next one's follows.
        async resume(outcome) {
          endAttempt(span, outcome);
          return follow(await result.resume(outcome));
        },
      };
    },
  };

  async function traced<T, C>(
    span: Span,
    a: AttemptInput,
    attempt: (c: C, a: AttemptInput) => Promise<AttemptResult<T>>,
    c: C,
  ): Promise<AttemptResult<T>> {
    if (span.isRecording()) span.setAttributes(attemptAttributes(operation, a, facts));
    try {
      const result = await context.with(
        trace.setSpan(context.active(), span),
        attempt,
        undefined,
        c,
        a,
      );
      if (span.isRecording() && result.type === "success") {
        const model = responseModel(result.value);
        if (model) span.setAttribute("gen_ai.response.model", model);
      }
      if (result.type === "success" && result.pending) open = span;
      else endAttempt(span, result);
      return result;
    } catch (e) {
      span.setAttribute("error.type", (e as Error)?.name ?? "Error");
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(e) });
      span.end();
      throw e;
    }
  }
}

function attemptAttributes(
  operation: GenAiOperation,
  a: AttemptInput,
  facts: (provider: string) => ProviderFacts,
): Attributes {
  const { type, baseUrl } = facts(a.candidate.provider);
  const attrs: Attributes = {
    "gen_ai.operation.name": operation,
    "gen_ai.provider.name": genAiProviderName(type),
    "gen_ai.request.model": a.candidate.model,
    "gateway.provider.id": a.candidate.provider,
    "gateway.key.id": a.key,
    "gateway.request.id": a.requestId,
    "gateway.attempt.index": a.attempt,
    "gateway.fallback.depth": a.fallbackIndex,
    "gateway.breaker.state": a.probe ? "half_open" : "closed",
  };
  try {
    const url = new URL(baseUrl);
    attrs["server.address"] = url.hostname.replace(/^\[|\]$/g, "");
    attrs["server.port"] = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  } catch {
    // A base URL that does not parse fails the attempt itself; the span just goes without it.
  }
  return attrs;
}

/** The model the upstream says answered: a completion's or embedding's `model`, a stream's first chunk's. */
function responseModel(value: unknown): string | undefined {
  if (!value || typeof value !== "object") return undefined;
  if ("model" in value && typeof value.model === "string") return value.model;
  if ("first" in value && Array.isArray(value.first)) {
    const chunk = value.first.find((c: { model?: unknown }) => typeof c?.model === "string");
    return chunk?.model;
  }
  return undefined;
}

function endAttempt(span: Span, r: Outcome | AttemptResult<unknown>): void {
  if (span.isRecording()) {
    if (r.type === "success") {
      span.setAttribute("http.response.status_code", r.status);
      if ("usage" in r && r.usage) {
        span.setAttributes({
          "gen_ai.usage.input_tokens": r.usage.promptTokens,
          "gen_ai.usage.output_tokens": r.usage.completionTokens,
        });
      }
    } else if (r.type === "failure") {
      span.setAttribute("error.type", r.failure.kind);
      if (r.failure.status !== undefined) {
        span.setAttribute("http.response.status_code", r.failure.status);
      }
      span.setStatus({ code: SpanStatusCode.ERROR, message: r.failure.message });
    } else {
      span.setAttribute("error.type", "aborted");
      span.setStatus({ code: SpanStatusCode.ERROR, message: "the client went away" });
    }
  }
  span.end();
}
