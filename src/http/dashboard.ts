// GET /dashboard: the live operator page (see dashboard_page.ts). A strict Content-Security-Policy
// with a per-response nonce: the page runs only its own inline script and talks only to this
// gateway (and to the configured NATS websocket URL, if any).
import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import { renderDashboardPage } from "./dashboard_page.ts";

/** The CSP for one response: nothing from elsewhere, connections to self and NATS only. */
export function dashboardCsp(nonce: string, natsWsUrl?: string): string {
  const connect = ["'self'"];
  if (natsWsUrl) connect.push(new URL(natsWsUrl).origin.replace(/^http/, "ws"));
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `connect-src ${connect.join(" ")}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function dashboard(gw: Gateway) {
  const natsWsUrl = gw.deps.config.dashboard?.natsWsUrl;
  const natsAuth = gw.deps.config.dashboard?.natsAuth;
  return (_c: Context): Response => {
    const nonce = crypto.randomUUID().replaceAll("-", "");
    const html = renderDashboardPage({
      instance: gw.deps.config.instance,
      natsWsUrl,
      natsAuth,
      nonce,
    });
    return new Response(html, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": dashboardCsp(nonce, natsWsUrl),
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
      },
    });
  };
}
