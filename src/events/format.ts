// One readable line per event for `deno task events`: what an operator tailing failovers wants
// to see at a glance. Pure, so the exact output is pinned by tests.
import type { GatewayEvent } from "./catalogue.ts";
import { type CloudEvent, fromCloudEvent } from "./envelope.ts";

/** HH:MM:SS.mmm (UTC, like the gateway's logs). */
function clock(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : "??:??:??.???";
}

/** Latencies to 0.1 ms: the clock has sub-ms resolution, more digits are noise. */
const ms = (x: number) => `${Math.round(x * 10) / 10}ms`;
const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
const quote = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}...` : s);

/** The facts that matter for each event type, after time, type, provider and request id. */
function facts(e: GatewayEvent): string[] {
  switch (e.type) {
    case "request.started":
      return [`model=${e.model}`, `candidates=${e.candidates.join(",")}`, e.stream ? "stream" : ""];
    case "request.completed":
      return [
        `model=${e.model}`,
        `fallback=${e.fallbackIndex}`,
        `attempts=${e.attempts}`,
        `latency=${ms(e.latencyMs)}`,
        `upstream=${ms(e.upstreamLatencyMs)}`,
      ];
    case "request.failed":
      return [
        `status=${e.status}`,
        `error=${e.errorType}`,
        `attempts=${e.attempts}`,
        e.retryAfterMs !== undefined ? `retry_after=${secs(e.retryAfterMs)}` : "",
        quote(e.message),
      ];
    case "attempt.started":
      return [`#${e.attempt}`, `model=${e.model}`, `key=${e.key}`, e.probe ? "probe" : ""];
    case "attempt.succeeded":
      return [
        `#${e.attempt}`,
        `model=${e.model}`,
        `status=${e.status}`,
        `latency=${ms(e.latencyMs)}`,
      ];
    case "attempt.failed":
      return [
        `#${e.attempt}`,
        `model=${e.model}`,
        `error=${e.errorType}`,
        `status=${e.status ?? "-"}`,
        `latency=${ms(e.latencyMs)}`,
        e.retryAfterMs !== undefined ? `retry_after=${secs(e.retryAfterMs)}` : "",
        e.counted ? "" : "not-counted",
        quote(e.message),
      ];
    case "attempt.aborted":
      return [`#${e.attempt}`, `model=${e.model}`, `latency=${ms(e.latencyMs)}`];
    case "attempt.skipped":
      return [
        `#${e.attempt}`,
        `model=${e.model}`,
        `reason=${e.reason}`,
        `retry_after=${secs(e.retryAfterMs)}`,
      ];
    case "attempt.retrying":
      return [`#${e.attempt}`, `model=${e.model}`, `error=${e.errorType}`, `delay=${e.delayMs}ms`];
    case "fallback.taken":
      return [
        `${e.fromProvider}/${e.fromModel} → ${e.provider}/${e.model}`,
        `fallback=${e.fallbackIndex}`,
        `reason=${e.reason}`,
      ];
    case "breaker.opened":
      return [
        e.model ? `model=${e.model}` : "",
        `reason=${e.reason}`,
        `until=${clock(e.until)}`,
        `open=${secs(e.openMs)}`,
        `failure_rate=${Math.round(e.failureRate * 100)}%`,
        `samples=${e.samples}`,
        e.reopenCount > 0 ? `reopen=${e.reopenCount}` : "",
      ];
    case "breaker.half_opened":
      return [e.model ? `model=${e.model}` : "", `probes=${e.probes}`];
    case "breaker.closed":
      return [e.model ? `model=${e.model}` : ""];
    case "ratelimit.blocked":
      return [
        `key=${e.key}`,
        e.model ? `model=${e.model}` : "",
        `reason=${e.reason}`,
        `until=${clock(e.until)}`,
      ];
    case "ratelimit.refilled":
      return [`key=${e.key}`, e.model ? `model=${e.model}` : ""];
    case "stream.continued":
      return [
        `#${e.attempt}`,
        `${e.fromProvider}/${e.fromModel} → ${e.provider}/${e.model}`,
        `mode=${e.mode}`,
        `sent=${e.sentChars} chars`,
        `reason=${e.reason}`,
      ];
    case "model.unavailable":
      return [`model=${e.model}`, `until=${clock(e.until)}`, quote(e.message)];
    default: {
      // A newer gateway may emit types this CLI does not know yet: show the raw data.
      const { type: _type, at: _at, ...data } = e as Record<string, unknown>;
      return [JSON.stringify(data)];
    }
  }
}

/** `HH:MM:SS.mmm  type  provider  req=<id>  facts…` for one gateway CloudEvent. */
export function formatEventLine(ce: CloudEvent): string {
  let event: GatewayEvent;
  try {
    event = fromCloudEvent(ce);
  } catch {
    return `${clock(Date.parse(ce?.time))}  ${String(ce?.type ?? "?")}  (not a gateway event)`;
  }
  const e = event as GatewayEvent & { provider?: string; requestId?: string };
  const head = [
    clock(event.at),
    event.type.padEnd(19),
    (e.provider ?? "-").padEnd(10),
    e.requestId ? `req=${e.requestId}` : "",
  ];
  return [...head, ...facts(event)].filter((s) => s !== "").join("  ").trimEnd();
}
