// The HTTP edge of telemetry: `GET /metrics`, and one middleware that sees every answer. It
// records what no event carries — method, route pattern and status of each answer (validation
// errors and 404s included) and the gateway overhead from `x-gateway-overhead-ms` — and wraps the
// request in its SERVER span. Prefix aliases (/openai/v1/…) re-dispatch into the same app; that
// inner pass is recognised and counted once, under the alias prefix plus the route that answered.
import type { Context, Hono, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { errorResponse } from "../http/errors.ts";
import type { ServeEnv } from "../http/signal.ts";
import { bearerToken, secretMatcher } from "../lib/secrets.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { startServerSpan } from "./spans.ts";

/** The route that answered an inner pass, kept for the outer pass's context to record. */
const innerRoutes = new WeakMap<Context, string>();

/** Route label for requests no route matched (only the middleware itself ran). */
export const UNMATCHED_ROUTE = "unmatched";

function routeOf(c: Context): string {
  const route = routePath(c);
  return route === "/*" || route === "*" ? UNMATCHED_ROUTE : route;
}

/** The route that answered, under the alias prefix it was reached through (if any). */
function labelOf(c: Context): string {
  const route = routeOf(c);
  const inner = innerRoutes.get(c);
  if (inner === undefined) return route;
  return route.endsWith("/*") ? route.slice(0, -2) + inner : inner;
}

/** The middleware: HTTP metrics and the SERVER span of every request. */
export function observeHttp(metrics: GatewayMetrics): MiddlewareHandler {
  return async (c, next) => {
    const outer = (c.env as ServeEnv | undefined)?.outer;
    if (outer) {
      // A re-dispatch inside the same request: the outer pass records it.
      await next();
      innerRoutes.set(outer, routeOf(c));
      return;
    }
    const span = startServerSpan(c.req.raw);
    await span.run(next);
    const route = labelOf(c);
    const overhead = c.res.headers.get("x-gateway-overhead-ms");
    metrics.observeHttp(
      c.req.method,
      route,
      c.res.status,
      overhead === null ? undefined : Number(overhead),
    );
    // Only a recording span wraps the body (to end with it); Hono copies any Response assigned.
    const ended = span.end(c.res, route);
    if (ended !== c.res) c.res = ended;
  };
}

/**
 * `GET /metrics`: the Prometheus text exposition of this gateway's registry. With `token` (the
 * METRICS_TOKEN) it wants `Authorization: Bearer <token>`, compared in constant time; else 401.
 */
export function metricsEndpoint(metrics: GatewayMetrics, token?: string) {
  const matches = token ? secretMatcher(token, "metrics") : undefined;
  return async (c: Context) => {
    if (matches) {
      const sent = bearerToken(c.req.header("authorization"));
      if (sent === undefined || !(await matches(sent))) {
        return errorResponse(
          401,
          sent === undefined
            ? "GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`."
            : "Wrong metrics token.",
          "invalid_request_error",
          "invalid_metrics_token",
          { headers: { "www-authenticate": 'Bearer realm="failover-gateway metrics"' } },
        );
      }
    }
    return c.body(await metrics.scrape(), 200, { "content-type": metrics.contentType });
  };
}

/** Mounts the middleware (first, so it sees every route) and `GET /metrics`. */
export function mountTelemetry(
  app: Hono,
  gw: { metrics: GatewayMetrics; deps?: { config: { metricsToken?: string } } },
): void {
  app.use("*", observeHttp(gw.metrics));
  app.get("/metrics", metricsEndpoint(gw.metrics, gw.deps?.config.metricsToken));
}
