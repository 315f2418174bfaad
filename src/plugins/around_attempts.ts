// Small pieces the HTTP pipeline needs to put plugins around attempts: an attempt's upstream
// target with the headers its plugins added, and the (empty) supervisor story of a request a
// plugin answered itself.
import {
  type Candidate,
  initialSupervisor,
  type SupervisorState,
} from "../../actors/supervisor/mod.ts";
import type { ProviderTarget } from "../providers/execute.ts";

/** `target` with extra upstream headers; the provider's configured headers win over them. */
export function withUpstreamHeaders(
  target: ProviderTarget,
  headers: Readonly<Record<string, string>>,
): ProviderTarget {
  if (Object.keys(headers).length === 0) return target;
  return {
    ...target,
    settings: { ...target.settings, headers: { ...headers, ...target.settings.headers } },
  };
}

/** A request answered before any attempt: done, nothing tried, nothing waited. */
export function answeredState(
  requestId: string,
  startedAt: number,
  candidates: readonly Candidate[],
): SupervisorState {
  return { ...initialSupervisor, phase: "done", requestId, startedAt, candidates };
}
