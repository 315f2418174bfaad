// The story of one request, for `deno task audit <request-id>`: which events belong to it, which
// provider-level events happened around it (and which of them it caused), and the readable text.
// Pure: the CLI reads the stream, this decides what to show and how.
import type { GatewayEvent } from "./catalogue.ts";
import { type CloudEvent, fromCloudEvent } from "./envelope.ts";

export interface AuditEntry {
  event: CloudEvent;
  /** For a provider-level event: the attempt whose reported outcome produced it. */
  cause?: { requestId: string; attempt: number };
}

export interface AuditSelection {
  requestId: string;
  /** The request's own events and the related provider events, in stream order. */
  entries: AuditEntry[];
  /** Providers the request tried, skipped or fell over to. */
  providers: string[];
}

type Data = { requestId?: unknown; provider?: unknown; fromProvider?: unknown; attempt?: unknown };
const dataOf = (ce: CloudEvent) => (ce?.data ?? {}) as Data;
const timeOf = (ce: CloudEvent) => Date.parse(ce?.time);
const OUTCOMES = new Set([
  "gateway.attempt.succeeded",
  "gateway.attempt.failed",
  "gateway.attempt.aborted",
]);

/**
 * Picks the request's events out of `events` (stream order) and adds the provider-level events
 * (breaker, limiter, model) of the providers it involved that happened between its first and
 * last event. A provider event published in the same step as an attempt's outcome (same provider,
 * same instant, right after it) names that attempt as its cause. Undefined when nothing matches.
 */
export function selectAudit(requestId: string, events: CloudEvent[]): AuditSelection | undefined {
  const own = events.filter((e) => dataOf(e).requestId === requestId);
  if (own.length === 0) return undefined;
  const providers = new Set<string>();
  for (const e of own) {
    const d = dataOf(e);
    if (typeof d.provider === "string") providers.add(d.provider);
    if (typeof d.fromProvider === "string") providers.add(d.fromProvider);
  }
  const times = own.map(timeOf).filter(Number.isFinite);
  const from = Math.min(...times);
  const to = Math.max(...times);

  const lastOutcome = new Map<string, { requestId: string; attempt: number; at: number }>();
  const entries: AuditEntry[] = [];
  for (const e of events) {
    const d = dataOf(e);
    const provider = typeof d.provider === "string" ? d.provider : undefined;
    if (OUTCOMES.has(e.type) && provider && typeof d.requestId === "string") {
      lastOutcome.set(provider, {
        requestId: d.requestId,
        attempt: Number(d.attempt),
        at: timeOf(e),
      });
    }
    if (d.requestId === requestId) {
      entries.push({ event: e });
      continue;
    }
    if (d.requestId !== undefined || !provider || !providers.has(provider)) continue;
    const at = timeOf(e);
    if (!(at >= from && at <= to)) continue;
    const last = lastOutcome.get(provider);
    const cause = last && last.at === at
      ? { requestId: last.requestId, attempt: last.attempt }
      : undefined;
    entries.push(cause ? { event: e, cause } : { event: e });
  }
  return { requestId, entries, providers: [...providers] };
}

/** HH:MM:SS.mmm UTC. */
const clock = (ms: number) =>
  Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : "??:??:??.???";
const ms = (x: number) => `${Math.round(x * 10) / 10}ms`;
const secs = (x: number) => `${(x / 1000).toFixed(x < 10_000 ? 1 : 0)}s`;
const quote = (s: string) => JSON.stringify(s.length > 160 ? `${s.slice(0, 157)}...` : s);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

const SKIP_WHY: Record<string, string> = {
  circuit_open: "its circuit breaker is open",
  rate_limited: "every key is rate-limited",
  model_unavailable: "the model is marked unavailable",
  unsupported: "it cannot serve this request",
};

/** One timeline text per event; provider-level events are prefixed with the provider. */
function describe(e: GatewayEvent, entry: AuditEntry, requestId: string): string {
  const cause = entry.cause
    ? entry.cause.requestId === requestId
      ? `  ← caused by attempt #${entry.cause.attempt} of this request`
      : `  ← caused by request ${entry.cause.requestId} (attempt #${entry.cause.attempt})`
    : "";
  switch (e.type) {
    case "request.started":
      return `request started: ${e.model}${e.stream ? " (streaming)" : ""}`;
    case "attempt.started":
      return `attempt #${e.attempt} → ${e.provider}/${e.model}  key ${e.key}${
        e.probe ? "  (half-open probe)" : ""
      }`;
    case "attempt.succeeded": {
      const usage = e.usage
        ? `  tokens ${e.usage.promptTokens} in / ${e.usage.completionTokens} out`
        : "";
      return `  ✓ #${e.attempt} ${e.provider}/${e.model} succeeded  status ${e.status}  ${
        ms(e.latencyMs)
      }${usage}`;
    }
    case "attempt.failed":
      return [
        `  ✗ #${e.attempt} ${e.provider}/${e.model} failed  ${e.errorType}`,
        `status ${e.status ?? "-"}`,
        ms(e.latencyMs),
        e.retryAfterMs !== undefined ? `retry after ${secs(e.retryAfterMs)}` : "",
        e.counted ? "" : "(not counted against the provider)",
        quote(e.message),
      ].filter(Boolean).join("  ");
    case "attempt.aborted":
      return `  ✗ #${e.attempt} ${e.provider}/${e.model} aborted after ${
        ms(e.latencyMs)
      }: the client went away`;
    case "attempt.retrying":
      return `  ↻ retrying ${e.provider}/${e.model} in ${e.delayMs}ms after ${e.errorType}`;
    case "attempt.skipped":
      return `skipped ${e.provider}/${e.model}: ${e.reason} (${SKIP_WHY[e.reason] ?? e.reason})${
        e.retryAfterMs > 0 ? `, back in ${secs(e.retryAfterMs)}` : ""
      }${e.message ? ` — ${quote(e.message)}` : ""}`;
    case "fallback.taken":
      return `fallback #${e.fallbackIndex} → ${e.provider}/${e.model}  because ${e.fromProvider}/${e.fromModel}: ${e.reason}`;
    case "request.completed":
      return `completed by ${e.provider}/${e.model}`;
    case "request.failed":
      return `failed: ${e.status} ${e.errorType}  ${quote(e.message)}`;
    case "stream.continued":
      return `  ⤷ continued on ${e.provider}/${e.model} (${e.mode}) after ${e.fromProvider}/${e.fromModel} failed mid-stream: ${e.reason}, ${e.sentChars} chars already sent`;
    case "breaker.opened":
      return `[${who(e)}] breaker opened: ${e.reason}, ${Math.round(e.failureRate * 100)}% of ${
        plural(e.samples, "sample")
      }; open ${secs(e.openMs)} until ${clock(e.until)}${
        e.reopenCount > 0 ? ` (re-opened ${e.reopenCount}×)` : ""
      }${cause}`;
    case "breaker.half_opened":
      return `[${who(e)}] breaker half-open: ${plural(e.probes, "probe")} allowed${cause}`;
    case "breaker.closed":
      return `[${who(e)}] breaker closed${cause}`;
    case "ratelimit.blocked":
      return `[${who(e)}] key ${e.key} blocked until ${clock(e.until)} (${e.reason})${cause}`;
    case "ratelimit.refilled":
      return `[${who(e)}] key ${e.key} refilled${cause}`;
    case "model.unavailable":
      return `[${e.provider}] model ${e.model} unavailable until ${clock(e.until)}: ${
        quote(e.message)
      }${cause}`;
    default: {
      const { type, at: _at, ...data } = e as Record<string, unknown>;
      return `${String(type)} ${JSON.stringify(data)}`;
    }
  }
}

/** "openai" for the provider-wide breaker or a whole key, "openai/gpt-4o" for one model's. */
function who(e: { provider: string; model?: string }): string {
  return e.model ? `${e.provider}/${e.model}` : e.provider;
}

/** The readable story of a selected request. */
export function formatAudit(sel: AuditSelection): string {
  const decoded: { entry: AuditEntry; e?: GatewayEvent }[] = sel.entries.map((entry) => {
    try {
      return { entry, e: fromCloudEvent(entry.event) };
    } catch {
      return { entry };
    }
  });
  const of = <T extends GatewayEvent["type"]>(t: T) =>
    decoded.filter((d) => d.e?.type === t && (d.e as { requestId?: string }).requestId)
      .map((d) => d.e as Extract<GatewayEvent, { type: T }>);
  const started = of("request.started")[0];
  const completed = of("request.completed")[0];
  const failed = of("request.failed")[0];
  const first = sel.entries.find((x) => dataOf(x.event).requestId === sel.requestId)!.event;
  const t0 = started?.at ?? timeOf(first);

  const out: string[] = [`Request ${sel.requestId}  (${first.source})`];
  if (started) {
    out.push(`  model       ${started.model}`);
    out.push(`  candidates  ${started.candidates.join(" → ")}`);
    out.push(`  stream      ${started.stream ? "yes" : "no"}`);
    out.push(`  started     ${new Date(started.at).toISOString()}`);
  } else {
    out.push(
      `  started     before the window read (request.started not found; try a longer --since)`,
    );
  }

  out.push("", "Timeline");
  for (const { entry, e } of decoded) {
    const at = e?.at ?? timeOf(entry.event);
    const rel = `+${ms(at - t0)}`.padStart(10);
    const text = e
      ? describe(e, entry, sel.requestId)
      : `${String(entry.event?.type)} (not a gateway event)`;
    out.push(`  ${clock(at)} ${rel}  ${text}`);
  }

  const attempts = of("attempt.started").length;
  const counts = [
    plural(attempts, "attempt"),
    plural(of("attempt.retrying").length, "retry").replace("retrys", "retries"),
    plural(of("fallback.taken").length, "fallback"),
    plural(of("attempt.skipped").length, "skip"),
  ];
  out.push("");
  if (completed) {
    out.push(
      `Outcome  completed: served by ${completed.provider}/${completed.model}` +
        (completed.fallbackIndex > 0 ? ` (fallback #${completed.fallbackIndex})` : " (primary)") +
        ` after ${plural(completed.attempts, "attempt")}`,
    );
    // upstream = the serving attempt alone; the rest is failed attempts, backoff and the gateway.
    out.push(
      `Latency  total ${ms(completed.latencyMs)}, upstream ${
        ms(completed.upstreamLatencyMs)
      } (the serving attempt)`,
    );
  } else if (failed) {
    out.push(
      `Outcome  failed: ${failed.status} ${failed.errorType} after ${
        plural(failed.attempts, "attempt")
      }` + (failed.retryAfterMs !== undefined ? `, retry after ${secs(failed.retryAfterMs)}` : ""),
    );
    out.push(`         ${quote(failed.message)}`);
  } else {
    out.push(
      "Outcome  unknown: no request.completed or request.failed in the stream " +
        "(still running, or its last events were not published)",
    );
  }
  out.push(`Counts   ${counts.join(", ")}`);
  return out.join("\n");
}
