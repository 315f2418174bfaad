// The supervisor actor shell: runs one request through its candidates. It asks each provider
// actor to admit an attempt (a dead or throttled provider is skipped without a call), runs the
// attempt through the injected port, reports the outcome back to the provider actor and lets
// the decider pick the next step. A probe slot is released on every path (the report is in a
// `finally`), including client aborts and thrown errors.
import type { EventOf, GatewayEvent } from "../../src/events/catalogue.ts";
import type { Clock, Random } from "../../src/ports.ts";
import { spawn } from "../runtime/mod.ts";
import type { Outcome, ProviderActor } from "../provider/mod.ts";
import {
  type Candidate,
  type ChainStop,
  type ContinuedInfo,
  createSupervisorDecider,
  type SupervisorConfig,
  type SupervisorState,
} from "./decider.ts";

export interface AttemptInput {
  candidate: Candidate;
  key: string;
  requestId: string;
  attempt: number;
  /** The candidate's place in the chain: 0 = the requested model, 1 = the first fallback, … */
  fallbackIndex: number;
  /** The provider's breaker is half-open and admitted this attempt as a probe. */
  probe: boolean;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Set once a committed stream failed: this attempt continues an answer already begun. */
  continuation?: boolean;
  /** Clock time the request's budget (config `requestMs`) runs out; absent when unbounded. */
  deadlineAt?: number;
}

/**
 * What an attempt produced. A `pending` success (a stream that has started) is reported later
 * through `settle`, once the stream has ended one way or another.
 */
export type AttemptResult<T> =
  | (Extract<Outcome, { type: "success" }> & { value: T; pending?: false })
  | { type: "success"; pending: true; value: T; status: number; latencyMs: number }
  /** `stop`: a plugin ends the chain here, whatever the failure would otherwise have led to. */
  | (Exclude<Outcome, { type: "success" }> & { stop?: ChainStop });

export interface SupervisorDeps {
  config: SupervisorConfig;
  provider(id: string): ProviderActor | undefined;
  publish(event: GatewayEvent): void;
  clock: Clock;
  random: Random;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface RequestInput {
  requestId: string;
  model: string;
  candidates: Candidate[];
  stream: boolean;
  estTokens: number;
  signal: AbortSignal;
  /** Why a candidate cannot serve this request at all (skipped without asking its actor). */
  precheck?(candidate: Candidate): string | undefined;
}

export type Supervised<T> =
  | {
    ok: true;
    value: T;
    candidate: Candidate;
    state(): SupervisorState;
    /** For pending successes: report how the stream ended (idempotent). */
    settle(outcome: Outcome): void;
    /**
     * For a pending success whose stream failed after reaching the client: report `outcome`
     * (the failure) and run the chain on, so another attempt can continue the same answer.
     * Every later attempt runs with `AttemptInput.continuation` set. Settles this one.
     */
    resume(outcome: Outcome): Promise<Supervised<T>>;
    /** This (continuation) attempt's stream has taken over: publishes `stream.continued`. */
    continued(info: ContinuedInfo): void;
  }
  | { ok: false; failure: EventOf<"request.failed">; state: SupervisorState };

// One decider per config, not per request: it is pure and reads its config by reference.
const deciders = new WeakMap<SupervisorConfig, ReturnType<typeof createSupervisorDecider>>();
const deciderFor = (cfg: SupervisorConfig) => {
  let d = deciders.get(cfg);
  if (!d) deciders.set(cfg, d = createSupervisorDecider(cfg));
  return d;
};

export async function supervise<T>(
  deps: SupervisorDeps,
  input: RequestInput,
  run: (a: AttemptInput) => Promise<AttemptResult<T>>,
): Promise<Supervised<T>> {
  const sup = spawn(input.requestId, deciderFor(deps.config), {
    publish: deps.publish,
  });
  const { clock } = deps;
  sup.ask({
    kind: "start",
    now: clock.now(),
    requestId: input.requestId,
    model: input.model,
    candidates: input.candidates,
    stream: input.stream,
  });
  const failed = (): Supervised<T> | undefined => {
    const o = sup.state().outcome;
    return o?.type === "request.failed" ? { ok: false, failure: o, state: sup.state() } : undefined;
  };
  /** Decides after an attempt; waits out a retry's backoff. Undefined: run on. */
  const decide = async (continuation: boolean): Promise<Supervised<T> | undefined> => {
    const decided = sup.ask({
      kind: "next",
      now: clock.now(),
      rand: deps.random(),
      committed: false,
      continuable: continuation,
    });
    if (decided.length === 0) throw new Error(`supervisor ${input.requestId} made no decision`);
    const retrying = decided.find((e) => e.type === "attempt.retrying");
    if (retrying?.type === "attempt.retrying" && retrying.delayMs > 0) {
      await deps.sleep(retrying.delayMs, input.signal).catch(() => {});
    }
    return failed();
  };

  /** Walks the chain from where the supervisor stands until an answer or the end. */
  const drive = async (continuation: boolean): Promise<Supervised<T>> => {
    while (true) {
      if (input.signal.aborted) {
        // The client is gone: never start (another) upstream call for it.
        sup.ask({ kind: "abort", now: clock.now() });
        const gone = failed();
        if (gone) return gone;
      }
      const s = sup.state();
      const candidate = s.candidates[s.index];
      const actor = deps.provider(candidate.provider);
      if (!actor) throw new Error(`no actor for provider ${candidate.provider}`);
      const ref = { requestId: input.requestId, attempt: s.attempt, model: candidate.model };
      const unfit = input.precheck?.(candidate);
      if (unfit !== undefined) {
        sup.ask({ kind: "skip", now: clock.now(), message: unfit });
        const end = await decide(continuation);
        if (end) return end;
        continue;
      }
      const admitted = actor.ask({
        kind: "admit",
        now: clock.now(),
        estTokens: input.estTokens,
        rand: deps.random(),
        ...ref,
      });
      sup.hydrate(admitted);
      const started = admitted.find((e): e is EventOf<"attempt.started"> =>
        e.type === "attempt.started"
      );

      if (started) {
        const report = (outcome: Outcome) => {
          const events = actor.ask({
            kind: "report",
            now: clock.now(),
            key: started.key,
            probe: started.probe,
            reservedTokens: started.reservedTokens,
            outcome,
            rand: deps.random(),
            ...ref,
          });
          sup.hydrate(events);
        };
        let result: AttemptResult<T> | undefined;
        try {
          result = await run({
            candidate,
            key: started.key,
            requestId: input.requestId,
            attempt: s.attempt,
            fallbackIndex: s.index,
            probe: started.probe,
            signal: input.signal,
            continuation,
            deadlineAt: deps.config.requestMs === undefined
              ? undefined
              : s.startedAt + deps.config.requestMs,
          });
        } finally {
          if (!result) {
            report({
              type: "failure",
              failure: { kind: "unknown", message: "attempt crashed" },
              latencyMs: 0,
            });
          }
        }
        if (result.type === "success" && result.pending) {
          let settled = false;
          const settleOnce = (outcome: Outcome) => {
            if (settled) return false;
            settled = true;
            report(outcome);
            return true;
          };
          return {
            ok: true,
            value: result.value,
            candidate,
            state: sup.state,
            settle(outcome) {
              if (!settleOnce(outcome)) return;
              sup.ask({ kind: "next", now: clock.now(), rand: deps.random(), committed: true });
            },
            async resume(outcome) {
              if (!settleOnce(outcome)) throw new Error("resume after the attempt was settled");
              const decided = sup.ask({
                kind: "next",
                now: clock.now(),
                rand: deps.random(),
                committed: true,
                continuable: true,
              });
              if (decided.length === 0) {
                throw new Error(`supervisor ${input.requestId} made no decision`);
              }
              const retrying = decided.find((e) => e.type === "attempt.retrying");
              if (retrying?.type === "attempt.retrying" && retrying.delayMs > 0) {
                await deps.sleep(retrying.delayMs, input.signal).catch(() => {});
              }
              return failed() ?? drive(true);
            },
            continued(info) {
              sup.ask({ kind: "continued", now: clock.now(), ...info });
            },
          };
        }
        if (result.type === "success") {
          const { value, ...outcome } = result;
          report(outcome as Outcome);
          sup.ask({ kind: "next", now: clock.now(), rand: deps.random(), committed: false });
          const settled = () => Promise.reject(new Error("a complete answer cannot be resumed"));
          return {
            ok: true,
            value,
            candidate,
            state: sup.state,
            settle() {},
            resume: settled,
            continued() {},
          };
        }
        const { stop, ...outcome } = result;
        report(outcome);
        if (stop) {
          // The provider actor heard the real outcome; the chain ends here all the same.
          sup.ask({ kind: "stop", now: clock.now(), ...stop });
          const end = failed();
          if (end) return end;
        }
      }
      const end = await decide(continuation);
      if (end) return end;
    }
  };
  return await drive(false);
}
