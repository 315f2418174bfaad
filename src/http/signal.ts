// The abort signal of a call: the client going away, or the gateway's shutdown grace ending.
// The server gives each call one signal through Hono's `env` (src/server.ts) instead of cloning
// every Request with a combined signal.
import type { Context } from "hono";

/** What startGateway passes to `app.fetch` as env, one per call. */
export interface ServeEnv {
  /** Aborted when the client goes away or when the shutdown grace period ends. */
  signal?: AbortSignal;
  /** Set on a re-dispatch through a prefix alias (src/http/aliases.ts): the outer call. */
  outer?: Context;
}

/** The call's signal; without a serve env (in-process calls) the request's own. */
export function callSignal(c: Context): AbortSignal {
  return (c.env as ServeEnv | undefined)?.signal ?? c.req.raw.signal;
}
