// The operator endpoints behind GATEWAY_ADMIN_KEY: one middleware in front of every operator read
// and the admin API (/v1/gateway/*: the event stream and provider state; /dashboard and anything
// under it; /admin/*). With an admin key set, a caller must present it as
// `Authorization: Bearer <key>` (401, OpenAI-shaped, with WWW-Authenticate, for a missing or wrong
// one; compared as digests in constant time), or, for reads (GET/HEAD) outside /admin, the
// dashboard's session cookie. With no admin key set nothing changes: the endpoints stay open.
//
// The dashboard in a browser: GET /dashboard without credentials answers a small login page (no
// data) whose form posts the key to POST /dashboard/session; that answers with an HttpOnly,
// SameSite=Strict session cookie (./session_token.ts) and sends the browser back to /dashboard,
// whose fetch and EventSource calls then carry the cookie. The key is never put in a URL.
// DELETE /dashboard/session ends the session in the browser.
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { Gateway } from "../gateway.ts";
import { bearerToken, secretMatcher } from "../lib/secrets.ts";
import { readBody } from "./body.ts";
import { escapeHtml } from "./dashboard_page.ts";
import { errorResponse } from "./errors.ts";
import {
  clearedSessionCookie,
  cookieValue,
  createSessionSigner,
  SESSION_COOKIE,
  sessionCookie,
  type SessionSigner,
} from "./session_token.ts";

/** Everything the gate stands in front of (Hono's `/x/*` also matches `/x`). */
export const OPERATOR_PATHS = ["/v1/gateway/*", "/dashboard/*", "/admin/*"];

/** Where the browser posts the admin key (and deletes its session); not itself behind the gate. */
export const SESSION_PATH = "/dashboard/session";

/** Bodies posted to the login route are tiny: a key in a form field. */
const MAX_LOGIN_BYTES = 8 * 1024;

const REALM = 'Bearer realm="failover-gateway admin"';

function denied(sent: boolean): Response {
  return errorResponse(
    401,
    sent
      ? "Wrong admin key."
      : "This endpoint needs `Authorization: Bearer <GATEWAY_ADMIN_KEY>` (or, in a browser, a dashboard session: open /dashboard).",
    "invalid_request_error",
    "invalid_admin_key",
    { headers: { "www-authenticate": REALM } },
  );
}

/** Whether the request came over https (directly, or through a proxy that says so). */
function overHttps(c: Context): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  return c.req.header("x-forwarded-proto")?.split(",")[0].trim().toLowerCase() === "https";
}

const wantsHtml = (c: Context) => /\btext\/html\b/i.test(c.req.header("accept") ?? "");

/** The login page: a form that posts the key (never in the URL). No gateway data in it. */
export function renderLoginPage(opts: { instance: string; nonce: string; error?: string }): string {
  const error = opts.error ? `<p class="error">${escapeHtml(opts.error)}</p>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>failover-gateway · sign in</title>
<style nonce="${opts.nonce}">
body { margin:0; min-height:100vh; display:grid; place-items:center; background:#0f1419; color:#d8e0ea;
  font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
form { background:#171e26; border:1px solid #263140; border-radius:8px; padding:20px 24px; width:340px; }
h1 { font-size:17px; margin:0 0 4px; } .dim { color:#8a97a8; font-size:12px; margin:0 0 14px; }
input, button { width:100%; box-sizing:border-box; padding:8px; margin-top:8px; border-radius:6px;
  border:1px solid #263140; background:#0f1419; color:inherit; font:inherit; }
button { background:#58a6ff; color:#0f1419; font-weight:600; cursor:pointer; }
.error { color:#f85149; margin:8px 0 0; }
</style></head>
<body><form method="post" action="${SESSION_PATH}">
<h1>failover-gateway</h1>
<p class="dim">${
    escapeHtml(opts.instance)
  } · the dashboard needs the admin key (GATEWAY_ADMIN_KEY)</p>
<label for="key">Admin key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open the dashboard</button>${error}
</form></body></html>
`;
}

function loginPage(gw: Gateway, status: 200 | 401, error?: string): Response {
  const nonce = crypto.randomUUID().replaceAll("-", "");
  const html = renderLoginPage({ instance: gw.deps.config.instance, nonce, error });
  return new Response(html, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": [
        "default-src 'none'",
        `style-src 'nonce-${nonce}'`,
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ].join("; "),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      ...(status === 401 ? { "www-authenticate": REALM } : {}),
    },
  });
}

/** The key posted to the login route: a form field or a JSON property named `key`. */
async function postedKey(c: Context): Promise<string | undefined> {
  const body = await readBody(c.req.raw, MAX_LOGIN_BYTES);
  if (!body.ok) return undefined;
  const type = c.req.header("content-type") ?? "";
  if (/^application\/json\b/i.test(type)) {
    try {
      const key = (JSON.parse(body.text) as { key?: unknown } | null)?.key;
      return typeof key === "string" ? key : undefined;
    } catch {
      return undefined;
    }
  }
  try {
    return new URLSearchParams(body.text).get("key") ?? undefined;
  } catch {
    return undefined;
  }
}

export interface OperatorGateOptions {
  /** Dashboard session length (default 12 h). */
  sessionTtlMs?: number;
}

/** The middleware: mount it on OPERATOR_PATHS (see mountOperatorGate). */
export function operatorGate(
  gw: Gateway,
  signer: SessionSigner | undefined,
  matches: ((sent: string) => Promise<boolean>) | undefined,
): MiddlewareHandler {
  return async (c, next) => {
    if (!matches || !signer) return await next(); // no admin key: open, as before
    const path = c.req.path;
    if (path === SESSION_PATH) return await next(); // the login itself
    const header = c.req.header("authorization");
    const sent = bearerToken(header);
    if (sent !== undefined && await matches(sent)) return await next();
    const read = c.req.method === "GET" || c.req.method === "HEAD";
    const admin = path === "/admin" || path.startsWith("/admin/");
    if (sent === undefined && read && !admin) {
      const token = cookieValue(c.req.header("cookie") ?? null, SESSION_COOKIE);
      if (token && await signer.verify(token, gw.deps.clock.now())) return await next();
      if (path === "/dashboard" && wantsHtml(c)) return loginPage(gw, 401);
    }
    return denied(header !== undefined);
  };
}

/** The gate on every operator path, and the dashboard's session routes. */
export function mountOperatorGate(app: Hono, gw: Gateway, opts: OperatorGateOptions = {}): void {
  const admin = gw.deps.config.adminKey;
  const signer = admin ? createSessionSigner(admin, opts.sessionTtlMs) : undefined;
  const matches = admin ? secretMatcher(admin, "admin") : undefined;
  const gate = operatorGate(gw, signer, matches);
  for (const path of OPERATOR_PATHS) app.use(path, gate);

  app.post(SESSION_PATH, async (c) => {
    if (!signer || !matches) {
      return errorResponse(
        404,
        "The dashboard is open: no GATEWAY_ADMIN_KEY is set, so there is nothing to sign in to.",
        "invalid_request_error",
        "admin_api_disabled",
      );
    }
    const key = await postedKey(c);
    if (key === undefined || !(await matches(key))) {
      return wantsHtml(c) ? loginPage(gw, 401, "Wrong admin key.") : denied(key !== undefined);
    }
    const { token } = await signer.issue(gw.deps.clock.now());
    return new Response(null, {
      status: 303,
      headers: {
        location: "/dashboard",
        "set-cookie": sessionCookie(token, signer.ttlMs, overHttps(c)),
        "cache-control": "no-store",
      },
    });
  });
  app.delete(SESSION_PATH, (c) =>
    new Response(null, {
      status: 204,
      headers: { "set-cookie": clearedSessionCookie(overHttps(c)), "cache-control": "no-store" },
    }));
}
