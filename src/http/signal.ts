// The abort signal of a call: the client going away, or the gateway's shutdown grace ending.
// The server hands its shutdown signal to the app as Hono's `env` instead of cloning every
// Request with a combined signal; routes ask for the combination only where they need it.
import type { Context } from "hono";

/** What startGateway passes to `app.fetch` as env. */
export interface ServeEnv {
  /** Aborted when the shutdown grace period ends. */
  closing?: AbortSignal;
  /** Set on a re-dispatch through a prefix alias (src/http/aliases.ts): the outer call. */
  outer?: Context;
}

export function callSignal(c: Context): AbortSignal {
  const closing = (c.env as ServeEnv | undefined)?.closing;
  return closing ? AbortSignal.any([c.req.raw.signal, closing]) : c.req.raw.signal;
}
