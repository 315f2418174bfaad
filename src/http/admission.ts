// The two hooks the pipeline calls around every routed request (chat, embeddings, and every
// drop-in route, since they all go through ./pipeline.ts). They take the governor and the
// planner, not the whole gateway:
//
// - authenticateCall, as the body is read: who is calling (401 for a missing, unknown or
//   revoked key while keys are required);
// - admitCall, before the supervisor runs: the planned chain (narrowed by the caller's key, and
//   the key's own for a bare model), refused with 400/403/429/402 when it may not run now; its
//   `meter` and `settle` charge the served attempt's usage to the key, at once for a JSON answer
//   and when the stream ends for a stream.
//
// Refusals come back as CallError data, which each route shapes in its own wire format.
import type { AttemptInput, AttemptResult, Supervised } from "../../actors/supervisor/mod.ts";
import type { Governor, Refusal } from "../governance/governor.ts";
import type { Planned, Planner, PlanRequest } from "../routing/plan.ts";
import type { CallError, CallStart } from "./call.ts";

/** What admission needs of the governor. */
export type Admitter = Pick<Governor, "required" | "authenticate" | "admit" | "charge">;

/**
 * The credential a client sent: `Authorization: Bearer …` (OpenAI SDKs, LangChain, LiteLLM, the
 * AWS SDK's bearer token), `x-api-key` (Anthropic SDKs), `x-goog-api-key` or, on /genai, `?key=`
 * (Google GenAI).
 */
export function credentialOf(req: Request): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  if (bearer) return bearer;
  const header = req.headers.get("x-api-key")?.trim() || req.headers.get("x-goog-api-key")?.trim();
  if (header) return header;
  if (!req.url.includes("/genai/")) return undefined; // (no URL parsing on every other call)
  const url = new URL(req.url);
  return url.pathname.startsWith("/genai/") ? url.searchParams.get("key") || undefined : undefined;
}

/** The governor's or the planner's error as the call answers it: with the request id header. */
export function refusalToCallError(start: CallStart, r: Refusal): CallError {
  const { authenticate, ...error } = r;
  const headers: Record<string, string> = { "x-request-id": start.requestId };
  if (authenticate) headers["www-authenticate"] = 'Bearer realm="failover-gateway"';
  return { ...error, headers };
}

/** Authenticates the caller and remembers its key on `start`; a CallError when refused. */
export async function authenticateCall(
  governor: Pick<Governor, "authenticate">,
  start: CallStart,
  req: Request,
): Promise<CallError | undefined> {
  const auth = await governor.authenticate(credentialOf(req), start.requestId);
  if (!auth.ok) return refusalToCallError(start, auth);
  start.virtualKey = auth.key;
  return undefined;
}

export interface Admission {
  ok: true;
  /** The chain to run, and whom to tell which candidate served (sticky routes). */
  plan: Planned;
  /**
   * Sees each attempt's result (the attempt pipeline's outermost layer): a JSON success is
   * charged to the key at once. Absent when the call has no key to charge.
   */
  meter?(a: AttemptInput, r: AttemptResult<unknown>): void;
  /** Wraps a supervised result: a stream is charged when it ends successfully. */
  settle<T>(result: Supervised<T>): Supervised<T>;
}

function open(start: CallStart, plan: Planner, request: PlanRequest): CallError | Admission {
  const planned = plan(request);
  if (!planned.ok) return refusalToCallError(start, planned);
  return { ok: true, plan: planned, settle: (r) => r };
}

/**
 * Admits a call before its supervisor runs: its chain, or a 400/401/403/429/402 CallError. A call
 * without a key on an open gateway is planned at once, with no promise (the common case).
 */
export function admitCall(
  governor: Admitter,
  plan: Planner,
  start: CallStart,
  request: PlanRequest,
): CallError | Admission | Promise<CallError | Admission> {
  if (!start.virtualKey && !governor.required()) return open(start, plan, request);
  return admitKeyed(governor, plan, start, request);
}

async function admitKeyed(
  governor: Admitter,
  plan: Planner,
  start: CallStart,
  request: PlanRequest,
): Promise<CallError | Admission> {
  const key = start.virtualKey;
  if (!key) {
    // A route that skipped authentication, or keys appeared since it ran: refuse like one.
    const auth = await governor.authenticate(undefined, start.requestId);
    return auth.ok ? open(start, plan, request) : refusalToCallError(start, auth);
  }
  const admitted = await governor.admit(
    key,
    start.requestId,
    request.model,
    (latest) => plan(request, latest),
  );
  if (!admitted.ok) return refusalToCallError(start, admitted);
  let charged = false;
  return {
    ok: true,
    plan: admitted,
    meter(a, r) {
      if (r.type === "success" && !r.pending && !charged) {
        charged = true;
        governor.charge(key, start.requestId, a.candidate, r.usage);
      }
    },
    settle: function settle<T>(result: Supervised<T>): Supervised<T> {
      if (!result.ok) return result;
      return {
        ...result,
        settle(outcome) {
          if (outcome.type === "success" && !charged) {
            charged = true;
            governor.charge(key, start.requestId, result.candidate, outcome.usage);
          }
          result.settle(outcome);
        },
        // A continued stream is charged when the attempt that finishes it succeeds.
        resume: async (outcome) => settle(await result.resume(outcome)),
      };
    },
  };
}
