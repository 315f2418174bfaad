// The two hooks the pipeline calls around every routed request (chat, embeddings, and every
// drop-in route, since they all go through src/http/pipeline.ts):
//
// - authenticateCall, as the body is read: who is calling (401 for a missing, unknown or
//   revoked key while keys are required);
// - admitCall, before the supervisor runs: the chain (the key's own for a bare model), refused
//   with 403/429/402 when the key may not have it now; its `meter` and `settle` charge the served
//   attempt's usage to the key, at once for a JSON answer and when the stream ends for a stream.
//
// Refusals come back as CallError data, which each route shapes in its own wire format.
import type {
  AttemptInput,
  AttemptResult,
  Candidate,
  Supervised,
} from "../../actors/supervisor/mod.ts";
import type { Gateway } from "../gateway.ts";
import type { CallError, CallStart } from "../http/call.ts";
import type { Refusal } from "./governor.ts";

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

export function refusalToCallError(start: CallStart, r: Refusal): CallError {
  const headers: Record<string, string> = { "x-request-id": start.requestId };
  if (r.authenticate) headers["www-authenticate"] = 'Bearer realm="failover-gateway"';
  return {
    ok: false,
    status: r.status,
    message: r.message,
    type: r.type,
    code: r.code,
    param: r.param,
    headers,
    ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}),
  };
}

/** Authenticates the caller and remembers its key on `start`; a CallError when refused. */
export async function authenticateCall(
  gw: Gateway,
  start: CallStart,
  req: Request,
): Promise<CallError | undefined> {
  const auth = await gw.governor.authenticate(credentialOf(req), start.requestId);
  if (!auth.ok) return refusalToCallError(start, auth);
  start.virtualKey = auth.key;
  return undefined;
}

type Attempt<T> = (a: AttemptInput) => Promise<AttemptResult<T>>;

export interface Admission {
  ok: true;
  /** The chain to run; undefined = resolve model and fallbacks as usual (no key applies). */
  candidates?: Candidate[];
  /** Wraps the attempt runner: a JSON success is charged to the key at once. */
  meter<T>(attempt: Attempt<T>): Attempt<T>;
  /** Wraps a supervised result: a stream is charged when it ends successfully. */
  settle<T>(result: Supervised<T>): Supervised<T>;
}

const OPEN: Admission = { ok: true, meter: (a) => a, settle: (r) => r };

/** Admits a call before its supervisor runs: the key's chain, or a 401/403/429/402 CallError. */
export async function admitCall(
  gw: Gateway,
  start: CallStart,
  model: string,
  fallbacks: readonly string[] | undefined,
): Promise<CallError | Admission> {
  const g = gw.governor;
  const key = start.virtualKey;
  if (!key) {
    if (!g.required()) return OPEN;
    // A route that skipped authentication, or keys appeared since it ran: refuse like one.
    const auth = await g.authenticate(undefined, start.requestId);
    return auth.ok ? OPEN : refusalToCallError(start, auth);
  }
  const admitted = await g.admit(key, start.requestId, model, fallbacks);
  if (!admitted.ok) return refusalToCallError(start, admitted);
  let charged = false;
  return {
    ok: true,
    candidates: admitted.candidates,
    meter: (attempt) => async (a) => {
      const r = await attempt(a);
      if (r.type === "success" && !r.pending && !charged) {
        charged = true;
        g.charge(key, start.requestId, a.candidate, r.usage);
      }
      return r;
    },
    settle: function settle<T>(result: Supervised<T>): Supervised<T> {
      if (!result.ok) return result;
      return {
        ...result,
        settle(outcome) {
          if (outcome.type === "success" && !charged) {
            charged = true;
            g.charge(key, start.requestId, result.candidate, outcome.usage);
          }
          result.settle(outcome);
        },
        // A continued stream is charged when the attempt that finishes it succeeds.
        resume: async (outcome) => settle(await result.resume(outcome)),
      };
    },
  };
}
