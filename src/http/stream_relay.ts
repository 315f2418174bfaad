// A committed stream's relay: settles each attempt exactly once however the stream ends, and
// with continuation on resumes the chain after a mid-stream failure so the client gets one
// answer. Also the streaming attempt itself (a continuation of the partial answer when there is
// one). The pipeline (./pipeline.ts) hands streams here; the routes frame them (./stream.ts).
import type { AttemptResult, Supervised } from "../../actors/supervisor/mod.ts";
import type { Gateway } from "../gateway.ts";
import type { ChatChunk, ChatRequest } from "../openai/types.ts";
import {
  type AttemptSpec,
  executeStream,
  failureOf,
  type ProviderTarget,
  type StartedStream,
  StreamFailure,
  usageFacts,
} from "../providers/execute.ts";
import {
  continuationMode,
  continuationRequest,
  isPrefillRefusal,
  type SentAnswer,
  Stitcher,
} from "./continuation.ts";

/**
 * Wraps a committed stream so that however it ends, each attempt is settled exactly once. With
 * continuation on, a stream that fails after content reached the client resumes the chain: the
 * next attempt continues the same answer (see ./continuation.ts) and its chunks are stitched on,
 * so the client receives one answer. A tool call, several choices, or no candidate left end it
 * with the failure as before.
 */
export function relay(
  gw: Gateway,
  first: Extract<Supervised<StartedStream>, { ok: true }>,
  signal: AbortSignal,
  ttftMs: number,
  continuing: Continuing | undefined,
) {
  const { clock } = gw.deps;
  let r = first;
  let s = r.value;
  let stitch: Stitcher | undefined;
  const sent = continuing?.sent;
  const from: { provider: string; model: string; sent_chars: number; reason: string }[] = [];
  let ended = false;
  const end = (outcome: Parameters<typeof r.settle>[0]) => {
    if (ended) return;
    ended = true;
    r.settle(outcome);
  };
  const latency = () => clock.now() - s.startedAt;
  /** The chunk as the client gets it; the final one of a continued answer names every part. */
  const out = (c: ChatChunk): ChatChunk | undefined => {
    if (!stitch) {
      sent?.record(c);
      return c;
    }
    const joined = stitch.push(c);
    if (!joined || !joined.choices.some((ch) => ch.finish_reason !== null)) return joined;
    const extra = {
      provider: r.candidate.provider,
      model: r.candidate.model,
      fallback_index: r.state().index,
      continued_from: from,
    };
    return { ...joined, extra_fields: extra } as ChatChunk;
  };
  async function* chunks(): AsyncGenerator<ChatChunk, void, undefined> {
    try {
      while (true) {
        try {
          for (const c of s.first) {
            const o = out(c);
            if (o) yield o;
          }
          while (true) {
            const n = await s.rest.next();
            if (n.done) break;
            const o = out(n.value);
            if (o) yield o;
          }
          end({
            type: "success",
            status: 200,
            latencyMs: latency(),
            usage: usageFacts(s.usage()),
            ttftMs: stitch ? undefined : ttftMs,
            skippedEvents: s.skippedEvents(),
          });
          return;
        } catch (e) {
          // The client (or the gateway shutting down) ended it: not the provider's failure.
          if (signal.aborted) end({ type: "aborted", latencyMs: latency() });
          const failure = failureOf(e, clock.now());
          if (ended || !continuing || !sent!.continuable || sent!.text === "") {
            end({ type: "failure", failure, latencyMs: latency() });
            throw new StreamFailure(failure);
          }
          // Go on with the same answer on the next attempt (retry or fallback, as decided).
          const failed = r.candidate;
          continuing.partial = sent!.text;
          const resumed = await r.resume({ type: "failure", failure, latencyMs: latency() });
          if (!resumed.ok) {
            // The chain reported its own end (request.failed): nothing more to settle.
            ended = true;
            throw new StreamFailure({
              ...failure,
              message:
                `${failure.message}; no candidate could continue the answer (${resumed.failure.message})`,
            });
          }
          r = resumed;
          s = resumed.value;
          if (ended || signal.aborted) {
            // The client left while the next attempt started: settled as aborted, never relayed.
            if (ended) r.settle({ type: "aborted", latencyMs: latency() });
            else end({ type: "aborted", latencyMs: latency() });
            await s.rest.return(undefined).catch(() => {});
            return;
          }
          from.push({
            provider: failed.provider,
            model: failed.model,
            sent_chars: sent!.text.length,
            reason: failure.kind,
          });
          r.continued({
            fromProvider: failed.provider,
            fromModel: failed.model,
            mode: s.continuation ?? "continue",
            sentChars: sent!.text.length,
            reason: failure.kind,
          });
          stitch = new Stitcher(sent!);
        }
      }
    } finally {
      if (!ended) {
        end({ type: "aborted", latencyMs: latency() });
        await s.rest.return(undefined).catch(() => {});
      }
    }
  }
  const gen = chunks();
  return {
    chunks: gen,
    async cancel() {
      end({ type: "aborted", latencyMs: latency() });
      await gen.return(undefined).catch(() => {});
      await s.rest.return(undefined).catch(() => {});
    },
  };
}

/** A stream's continuation state: what was sent, and the partial answer the next attempt gets. */
export interface Continuing {
  sent: SentAnswer;
  /** Set when a committed stream failed: every later attempt continues this text. */
  partial?: string;
}

/** Runs one streaming attempt, as a continuation of `partial` when there is one. */
export async function streamAttempt(
  gw: Gateway,
  target: ProviderTarget,
  body: ChatRequest,
  spec: AttemptSpec,
  partial: string | undefined,
): Promise<AttemptResult<StartedStream>> {
  const exec = { http: gw.deps.http, clock: gw.deps.clock, logger: gw.deps.logger };
  if (partial === undefined) return executeStream(exec, target, body, spec);
  const refused = prefillRefused(gw);
  const id = `${target.adapter.family}\n${spec.model}`;
  let mode = continuationMode(target.adapter.family, spec.model, refused.has(id));
  let res = await executeStream(exec, target, continuationRequest(body, partial, mode), spec);
  if (mode === "prefill" && res.type === "failure" && isPrefillRefusal(res.failure)) {
    // This model will not take a prefill: remember, and ask it with a "continue" turn at once.
    refused.add(id);
    mode = "continue";
    res = await executeStream(exec, target, continuationRequest(body, partial, mode), spec);
  }
  if (res.type === "success") res.value.continuation = mode;
  return res;
}

/** (family, model) pairs seen refusing an assistant prefill, per gateway. */
const refusedPrefill = new WeakMap<Gateway, Set<string>>();
function prefillRefused(gw: Gateway): Set<string> {
  let set = refusedPrefill.get(gw);
  if (!set) refusedPrefill.set(gw, set = new Set());
  return set;
}
