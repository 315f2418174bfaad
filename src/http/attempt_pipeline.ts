// The attempt pipeline, composed once per gateway: every attempt the supervisor makes runs
// through the same four layers, outermost first —
//
//   1. governance meter   a JSON success is charged to the caller's key at once (admission.ts)
//   2. attempt span       a CLIENT span around the upstream call (telemetry/spans.ts)
//   3. plugins            `pre`, the attempt with this attempt's request and headers, `post`
//                         (plugins/chain.ts), so each fallback runs the plugins again
//   4. the attempt        the route's own call (executeJson, executeStream, executeEmbeddings)
//
// The layers are fixed functions of this module; what differs per call (the admission, the
// call's spans, its plugins, the route's attempt) arrives as one plain `AttemptCall` object, so
// an attempt allocates no closure tower.
import type { AttemptInput, AttemptResult } from "../../actors/supervisor/mod.ts";
import type { AttemptSpec, ProviderTarget } from "../providers/execute.ts";
import type { AttemptSpans } from "../telemetry/mod.ts";
import { type CanonicalRequest, type RequestPlugins, withUpstreamHeaders } from "../plugins/mod.ts";
import type { Admission } from "./admission.ts";

/** One call's part of the pipeline: built once per call, used by each of its attempts. */
export interface AttemptCall<T> {
  requestId: string;
  /** The call's admission: its `meter` (when the call has a key) sees every attempt's result. */
  admission: Pick<Admission, "meter">;
  spans: AttemptSpans;
  plugins: RequestPlugins;
  /** The route's attempt, given the target (with the plugins' upstream headers) and request. */
  attempt(
    target: ProviderTarget,
    spec: AttemptSpec,
    request: CanonicalRequest,
  ): Promise<AttemptResult<T>>;
}

/** Runs one attempt of `call` through the layers. */
export type AttemptPipeline = <T>(
  call: AttemptCall<T>,
  a: AttemptInput,
) => Promise<AttemptResult<T>>;

/** The pipeline for a gateway's upstream targets. */
export function createAttemptPipeline(
  targets: ReadonlyMap<string, ProviderTarget>,
): AttemptPipeline {
  // 4. The attempt, on the candidate's target with the headers the plugins set for it.
  function upstream<T>(
    request: CanonicalRequest,
    upstreamHeaders: Record<string, string>,
    call: AttemptCall<T>,
    a: AttemptInput,
  ): Promise<AttemptResult<T>> {
    return call.attempt(
      withUpstreamHeaders(targets.get(a.candidate.provider)!, upstreamHeaders),
      {
        model: a.candidate.model,
        key: a.key,
        id: `chatcmpl-${call.requestId}`,
        signal: a.signal,
        deadlineAt: a.deadlineAt,
      },
      request,
    );
  }
  // 3. The plugins around it.
  function plugged<T>(call: AttemptCall<T>, a: AttemptInput): Promise<AttemptResult<T>> {
    return call.plugins.attempt(a, upstream<T>, call);
  }
  // 1 and 2. The meter sees the result of the span's attempt.
  return function attempt<T>(call: AttemptCall<T>, a: AttemptInput) {
    const ran = call.spans.run(a, plugged<T>, call);
    const meter = call.admission.meter;
    if (!meter) return ran;
    return ran.then((r) => {
      meter(a, r);
      return r;
    });
  };
}
