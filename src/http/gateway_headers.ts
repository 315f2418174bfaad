// The x-gateway-* headers and `extra_fields`, both derived from the supervisor's state.
import type { AttemptSummary, Candidate, SupervisorState } from "../../actors/supervisor/mod.ts";

export interface Served {
  requestId: string;
  requested: string;
  candidate?: Candidate;
  state: SupervisorState;
  overheadMs: number;
}

const failed = (attempts: readonly AttemptSummary[]) =>
  attempts.filter((a) => a.error_type !== null);

export function gatewayHeaders(s: Served): Record<string, string> {
  const h: Record<string, string> = {
    "x-request-id": s.requestId,
    "x-gateway-attempts": String(s.state.attempts.length),
    "x-gateway-overhead-ms": s.overheadMs.toFixed(3),
  };
  if (s.candidate) {
    h["x-gateway-provider"] = s.candidate.provider;
    h["x-gateway-model"] = s.candidate.model;
    h["x-gateway-fallback-index"] = String(s.state.index);
  }
  const errors = failed(s.state.attempts);
  if (errors.length) {
    h["x-gateway-fallback-errors"] = JSON.stringify(
      errors.map((a) => ({
        provider: a.provider,
        model: a.model,
        status: a.status,
        error_type: a.error_type,
      })),
    );
  }
  return h;
}

export function extraFields(
  s: Served & { candidate: Candidate },
  latencyMs: number,
  upstreamLatencyMs: number,
) {
  return {
    provider: s.candidate.provider,
    model: s.candidate.model,
    model_requested: s.requested,
    fallback_index: s.state.index,
    attempts: s.state.attempts,
    latency_ms: round(latencyMs),
    upstream_latency_ms: round(upstreamLatencyMs),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
