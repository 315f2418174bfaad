// Prometheus metrics of one gateway, fed from its event stream. Every fact about requests,
// attempts, fallbacks, breakers and limiters arrives as an event on the bus, so this file
// subscribes once and turns each event into counter, gauge and histogram updates; nothing else
// in the gateway calls into it. Only what no event carries — the HTTP route and status of every
// answer (validation errors included) and the gateway's own overhead — comes from the HTTP
// middleware through `observeHttp`. Each gateway owns a Registry of its own (never prom-client's
// global one), so several gateways in one process keep separate figures.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Config } from "../config.ts";
import type { GatewayEvent } from "../events/catalogue.ts";
import type { EventBus, ReplicaStats } from "../ports.ts";
import { count, type TallyCell, tallyCounter } from "./tally.ts";

export interface MetricsOptions {
  bus: EventBus;
  /** Provider ids; each gets a breaker-state series (closed) from the start. */
  providers: readonly string[];
  /** USD per million tokens by "provider/model"; models without a price get no cost series. */
  pricing: Config["pricing"];
  /** Requests being served right now (read at scrape time). */
  inFlight?: () => number;
  /** Events followed from other replicas (with NATS), read at scrape time. */
  replicas?: () => ReplicaStats;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Content-Type of `scrape()`'s text. */
  readonly contentType: string;
  /** One HTTP answer: route is the route pattern (not the raw path), overhead from its header. */
  observeHttp(method: string, route: string, status: number, overheadMs?: number): void;
  /** The Prometheus text exposition of every metric. */
  scrape(): Promise<string>;
  /** Stops listening to the bus. */
  close(): void;
}

/** The value of `gateway_breaker_state` for each breaker state. */
export const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
type BreakerState = keyof typeof BREAKER_STATE_VALUE;

/** Upstream answers: from a few ms (local mocks, caches) to the two-minute default timeout. */
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TTFT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** The gateway's own time per request is sub-millisecond when all is well. */
const OVERHEAD_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
];

const seconds = (ms: number) => ms / 1000;

/** A tally's id for a label set: its values in label order, unambiguous for any strings. */
const idOf = (...values: (string | undefined)[]) => JSON.stringify(values);

/** The cells a successful attempt on one (provider, model) counts into, made on first use. */
interface ModelCells {
  readonly price: Config["pricing"][string] | undefined;
  succeeded?: TallyCell;
  input?: TallyCell;
  output?: TallyCell;
  cost?: TallyCell;
}

export function createMetrics(opts: MetricsOptions): GatewayMetrics {
  const { bus, pricing } = opts;
  const registry = new Registry();
  const registers = [registry];

  const httpRequests = tallyCounter({
    name: "gateway_http_requests_total",
    help: "HTTP answers by method, route pattern and status (validation errors included).",
    labelNames: ["method", "route", "status"] as const,
    registers,
  });
  const overhead = new Histogram({
    name: "gateway_overhead_seconds",
    help: "Time spent in the gateway itself per answer (total minus upstream time and backoff).",
    labelNames: ["route"] as const,
    buckets: OVERHEAD_BUCKETS,
    registers,
  });
  const requestsStarted = tallyCounter({
    name: "gateway_requests_started_total",
    help: "Requests that entered the failover pipeline.",
    labelNames: ["stream"] as const,
    registers,
  });
  const requestsServed = tallyCounter({
    name: "gateway_requests_served_total",
    help:
      "Requests answered successfully, by the provider that served them and its fallback position (0 = primary).",
    labelNames: ["provider", "fallback_index"] as const,
    registers,
  });
  const requestsFailed = new Counter({
    name: "gateway_requests_failed_total",
    help: "Requests that ended in an error after the pipeline ran, by status and error type.",
    labelNames: ["status", "error_type"] as const,
    registers,
  });
  const attempts = tallyCounter({
    name: "gateway_attempts_total",
    help:
      "Upstream attempts by outcome (succeeded, failed, aborted, skipped); error_type is the failure kind, or the skip reason.",
    labelNames: ["provider", "model", "outcome", "error_type"] as const,
    registers,
  });
  const retries = new Counter({
    name: "gateway_attempt_retries_total",
    help: "Retries on the same provider after a retryable failure.",
    labelNames: ["provider", "model", "error_type"] as const,
    registers,
  });
  const fallbacks = new Counter({
    name: "gateway_fallbacks_total",
    help:
      "Fallbacks taken, by the position fallen over to, its provider, the provider left and why.",
    labelNames: ["fallback_index", "provider", "from_provider", "reason"] as const,
    registers,
  });
  const breakerState = new Gauge({
    name: "gateway_breaker_state",
    help:
      'Circuit breaker state: 0 closed, 1 half_open, 2 open. model="" is the provider-wide breaker (refused connections, DNS/TLS, auth); a model label is that model\'s own.',
    labelNames: ["provider", "model"] as const,
    registers,
    // Workers (src/workers/) fold each other's state: one scrape shows the state, not a sum.
    aggregator: "max",
  });
  const breakerTransitions = new Counter({
    name: "gateway_breaker_transitions_total",
    help: 'Circuit breaker state changes (model="" for the provider-wide breaker).',
    labelNames: ["provider", "model", "from", "to"] as const,
    registers,
  });
  const limiterBlocks = new Counter({
    name: "gateway_ratelimit_blocks_total",
    help:
      'Rate limiter blocks per provider, key and model (model="" when the whole key is blocked): retry_after (upstream 429), quota, rpm or tpm (own buckets).',
    labelNames: ["provider", "key", "model", "reason"] as const,
    registers,
  });
  const malformed = new Counter({
    name: "gateway_stream_malformed_events_total",
    help:
      "Malformed events skipped in otherwise healthy upstream streams (three in a row fail the attempt).",
    labelNames: ["provider", "model"] as const,
    registers,
  });
  const continuations = new Counter({
    name: "gateway_stream_continuations_total",
    help:
      "Streams that failed after content reached the client and were continued by another attempt, by who continued, who failed and how (prefill or continue).",
    labelNames: ["provider", "model", "from_provider", "from_model", "mode"] as const,
    registers,
  });
  const modelUnavailable = new Counter({
    name: "gateway_model_unavailable_total",
    help: "Models an upstream reported gone or not allowed (cooled down).",
    labelNames: ["provider", "model"] as const,
    registers,
  });
  const upstreamLatency = new Histogram({
    name: "gateway_upstream_latency_seconds",
    help: "Upstream attempt duration (a stream: until it ended), by outcome.",
    labelNames: ["provider", "model", "outcome"] as const,
    buckets: UPSTREAM_BUCKETS,
    registers,
  });
  const ttft = new Histogram({
    name: "gateway_time_to_first_token_seconds",
    help: "Streams: time from the start of the attempt to its first content chunk.",
    labelNames: ["provider", "model"] as const,
    buckets: TTFT_BUCKETS,
    registers,
  });
  const tokens = tallyCounter({
    name: "gateway_tokens_total",
    help: "Tokens reported by upstreams, type input (prompt) or output (completion).",
    labelNames: ["provider", "model", "type"] as const,
    registers,
  });
  const cost = tallyCounter({
    name: "gateway_cost_usd_total",
    help: "Cost in USD of the tokens used, from the pricing table in config.",
    labelNames: ["provider", "model"] as const,
    registers,
  });
  new Counter({
    name: "gateway_events_published_total",
    help: "Events handed to the event bus.",
    registers,
    collect() {
      this.reset();
      this.inc(bus.stats().published);
    },
  });
  new Counter({
    name: "gateway_events_dropped_total",
    help: "Events the bus dropped because its buffer was full.",
    registers,
    collect() {
      this.reset();
      this.inc(bus.stats().dropped);
    },
  });
  new Gauge({
    name: "gateway_events_buffered",
    help: "Events waiting in the bus buffer.",
    registers,
    collect() {
      this.set(bus.stats().buffered);
    },
  });
  new Gauge({
    name: "gateway_event_bus_connected",
    help: "1 when the event bus is connected (always 1 for the in-process bus).",
    registers,
    aggregator: "min", // across workers: 1 only when every worker's bus is connected
    collect() {
      this.set(bus.stats().connected ? 1 : 0);
    },
  });
  if (opts.replicas) {
    const replicas = opts.replicas;
    new Counter({
      name: "gateway_replica_events_folded_total",
      help: "Other replicas' state events folded into this replica's provider actors.",
      registers,
      collect() {
        this.reset();
        this.inc(replicas().folded);
      },
    });
    new Counter({
      name: "gateway_replica_events_rejected_total",
      help: "Messages in the events stream dropped as malformed or of an unknown type.",
      registers,
      collect() {
        this.reset();
        this.inc(replicas().rejected);
      },
    });
  }
  if (opts.inFlight) {
    const inFlight = opts.inFlight;
    new Gauge({
      name: "gateway_requests_in_flight",
      help: "Requests and streams being served right now.",
      registers,
      collect() {
        this.set(inFlight());
      },
    });
  }

  // provider + "\n" + model ("" = the provider-wide breaker) → state.
  const breakers = new Map<string, BreakerState>();
  for (const p of opts.providers) {
    breakers.set(`${p}\n`, "closed");
    breakerState.set({ provider: p, model: "" }, BREAKER_STATE_VALUE.closed);
  }
  const moveBreaker = (e: { provider: string; model?: string }, to: BreakerState) => {
    const labels = { provider: e.provider, model: e.model ?? "" };
    const id = `${labels.provider}\n${labels.model}`;
    const from = breakers.get(id) ?? "closed";
    breakers.set(id, to);
    breakerState.set(labels, BREAKER_STATE_VALUE[to]);
    breakerTransitions.inc({ ...labels, from, to });
  };

  // provider → model → the cells its successful attempts count into.
  const modelCells = new Map<string, Map<string, ModelCells>>();
  const cellsOf = (provider: string, model: string): ModelCells => {
    let byModel = modelCells.get(provider);
    if (!byModel) modelCells.set(provider, byModel = new Map());
    let cells = byModel.get(model);
    if (!cells) {
      const ref = `${provider}/${model}`;
      cells = { price: Object.hasOwn(pricing, ref) ? pricing[ref] : undefined };
      byModel.set(model, cells);
    }
    return cells;
  };

  const onEvent = (e: GatewayEvent) => {
    switch (e.type) {
      case "request.started": {
        const stream = String(e.stream);
        requestsStarted.add(stream, () => ({ stream }));
        break;
      }
      case "request.completed": {
        // A number, then the provider: unambiguous.
        const fallback_index = String(e.fallbackIndex);
        const provider = e.provider;
        requestsServed.add(`${fallback_index}\n${provider}`, () => ({ provider, fallback_index }));
        break;
      }
      case "request.failed":
        requestsFailed.inc({ status: String(e.status), error_type: e.errorType });
        break;
      case "attempt.succeeded": {
        const { provider, model } = e;
        const cells = cellsOf(provider, model);
        count(
          cells.succeeded ??= attempts.cell(
            idOf(provider, model, "succeeded", undefined),
            () => ({ provider, model, outcome: "succeeded" }),
          ),
        );
        upstreamLatency.observe({ provider, model, outcome: "succeeded" }, seconds(e.latencyMs));
        if (e.ttftMs !== undefined) ttft.observe({ provider, model }, seconds(e.ttftMs));
        if (e.skippedEvents) malformed.inc({ provider, model }, e.skippedEvents);
        if (e.usage) {
          const { promptTokens, completionTokens } = e.usage;
          count(
            cells.input ??= tokens.cell(
              idOf(provider, model, "input"),
              () => ({ provider, model, type: "input" }),
            ),
            promptTokens,
          );
          count(
            cells.output ??= tokens.cell(
              idOf(provider, model, "output"),
              () => ({ provider, model, type: "output" }),
            ),
            completionTokens,
          );
          const price = cells.price;
          if (price) {
            count(
              cells.cost ??= cost.cell(idOf(provider, model), () => ({ provider, model })),
              (promptTokens * price.inputPerMTok + completionTokens * price.outputPerMTok) / 1e6,
            );
          }
        }
        break;
      }
      case "attempt.failed": {
        const { provider, model } = e;
        const error_type = e.errorType;
        attempts.add(
          idOf(provider, model, "failed", error_type),
          () => ({ provider, model, outcome: "failed", error_type }),
        );
        upstreamLatency.observe({ provider, model, outcome: "failed" }, seconds(e.latencyMs));
        break;
      }
      case "attempt.aborted": {
        const { provider, model } = e;
        attempts.add(
          idOf(provider, model, "aborted", undefined),
          () => ({ provider, model, outcome: "aborted" }),
        );
        break;
      }
      case "attempt.skipped": {
        const { provider, model, reason: error_type } = e;
        attempts.add(
          idOf(provider, model, "skipped", error_type),
          () => ({ provider, model, outcome: "skipped", error_type }),
        );
        break;
      }
      case "attempt.retrying":
        retries.inc({ provider: e.provider, model: e.model, error_type: e.errorType });
        break;
      case "fallback.taken":
        fallbacks.inc({
          fallback_index: String(e.fallbackIndex),
          provider: e.provider,
          from_provider: e.fromProvider,
          reason: e.reason,
        });
        break;
      case "breaker.opened":
        moveBreaker(e, "open");
        break;
      case "breaker.half_opened":
        moveBreaker(e, "half_open");
        break;
      case "breaker.closed":
        moveBreaker(e, "closed");
        break;
      case "ratelimit.blocked":
        limiterBlocks.inc({
          provider: e.provider,
          key: e.key,
          model: e.model ?? "",
          reason: e.reason,
        });
        break;
      case "model.unavailable":
        modelUnavailable.inc({ provider: e.provider, model: e.model });
        break;
      case "stream.continued":
        continuations.inc({
          provider: e.provider,
          model: e.model,
          from_provider: e.fromProvider,
          from_model: e.fromModel,
          mode: e.mode,
        });
        break;
      case "attempt.started":
      case "ratelimit.refilled":
        break;
    }
  };
  const unsubscribe = bus.subscribe(onEvent);

  return {
    registry,
    contentType: registry.contentType,
    observeHttp(method, route, status, overheadMs) {
      // A number, a method (an HTTP token: no spaces), then the route: unambiguous.
      httpRequests.add(
        `${status} ${method} ${route}`,
        () => ({ method, route, status: String(status) }),
      );
      if (overheadMs !== undefined && Number.isFinite(overheadMs) && overheadMs >= 0) {
        overhead.observe({ route }, seconds(overheadMs));
      }
    },
    scrape: () => registry.metrics(),
    close: unsubscribe,
  };
}
