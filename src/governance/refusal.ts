// Refusals before any upstream call: the one shape the governor answers with when a caller may not
// go on, and the `key.denied` event every such refusal publishes (never with a secret in it).
import type { GatewayError } from "../lib/errors.ts";
import type { GatewayEvent } from "../events/catalogue.ts";
import type { Clock } from "../ports.ts";

export type DenyReason =
  | "unknown"
  | "revoked"
  | "model_not_allowed"
  | "rate_limited"
  | "over_budget";

/** A refusal before any upstream call, for the pipeline to shape as its route's error. */
export type Refusal = GatewayError & {
  /** Set for refusals that are about the credentials (401): answer with WWW-Authenticate. */
  authenticate?: boolean;
};

/** Publishes a `key.denied` event and returns the refusal. */
export type Deny = (
  requestId: string,
  reason: DenyReason,
  refusal: Omit<Refusal, "ok">,
  extra?: {
    virtualKey?: string;
    model?: string;
    /** Which level refused (key, team or customer), and the key's team and customer ids. */
    level?: "key" | "team" | "customer";
    team?: string;
    customer?: string;
  },
) => Refusal;

export function createDeny(deps: { clock: Clock; publish(event: GatewayEvent): void }): Deny {
  return (requestId, reason, refusal, extra = {}) => {
    deps.publish({
      type: "key.denied",
      at: deps.clock.now(),
      requestId,
      reason,
      status: refusal.status,
      ...extra,
      ...(refusal.retryAfterMs !== undefined ? { retryAfterMs: refusal.retryAfterMs } : {}),
    });
    return { ok: false, ...refusal };
  };
}

/** A 401 about the credentials, published as a `key.denied`. */
export const unauthorized = (
  deny: Deny,
  requestId: string,
  reason: DenyReason,
  message: string,
  code: string,
): Refusal =>
  deny(requestId, reason, {
    status: 401,
    type: "invalid_request_error",
    code,
    message,
    param: null,
    authenticate: true,
  });

/** A 503 for when keys cannot be checked at all (no event: nobody was refused for who they are). */
export const storeDown = (what: string): Refusal => ({
  ok: false,
  status: 503,
  type: "unavailable",
  code: "key_store_unavailable",
  message: `The gateway cannot check virtual keys right now (${what}); retry shortly.`,
  param: null,
  retryAfterMs: 1_000,
});
