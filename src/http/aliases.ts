// Prefix aliases for clients whose base URL carries a path: `/openai/v1/…` is `/v1/…`, and
// `/litellm/…` and `/langchain/…` accept both `<base>/chat/completions` and
// `<base>/v1/chat/completions`. A request is re-dispatched into the same app with the path
// rewritten, so every /v1 route (present or added later) answers under each prefix with the
// very same handler, headers, body, abort signal and streaming.
import type { Hono } from "hono";
import type { ServeEnv } from "./signal.ts";

interface Alias {
  prefix: string;
  /** Also accept paths without the `/v1` segment (LiteLLM proxy clients omit it). */
  bare: boolean;
}

export const ALIASES: readonly Alias[] = [
  { prefix: "/openai", bare: false },
  { prefix: "/litellm", bare: true },
  { prefix: "/langchain", bare: true },
];

/** The /v1 path an aliased path stands for, or undefined when it stands for none. */
export function aliasTarget(pathname: string, alias: Alias): string | undefined {
  if (!pathname.startsWith(`${alias.prefix}/`)) return undefined;
  const rest = pathname.slice(alias.prefix.length);
  if (rest === "/v1" || rest.startsWith("/v1/")) return rest;
  return alias.bare ? `/v1${rest}` : undefined;
}

export function mountAliases(app: Hono): void {
  for (const alias of ALIASES) {
    app.all(`${alias.prefix}/*`, (c) => {
      const url = new URL(c.req.url);
      const target = aliasTarget(url.pathname, alias);
      if (target === undefined) return c.notFound();
      url.pathname = target;
      // The original Request as init keeps method, headers, body stream and abort signal.
      const env: ServeEnv = { ...(c.env as ServeEnv | undefined), outer: c };
      return app.fetch(new Request(url, c.req.raw), env);
    });
  }
}
