// Operator sessions for the dashboard in a browser: after the admin key was posted once to
// POST /dashboard/session, the browser holds a cookie with a signed, expiring token instead of the
// key itself, so the key never sits in a URL, a log line or the page's script.
//
// Token: `v1.<expiry ms>.<random nonce>.<HMAC-SHA256 of the first three parts, base64url>`. The
// HMAC key is derived from the admin key (SHA-256 under a fixed label), so a token proves that
// whoever issued it knew the admin key, changing the admin key ends every session, and no state is
// kept: any replica with the same admin key accepts it. Signatures are compared in constant time.
import { constantTimeEqual, randomBytes, toBase64Url, toHex } from "../lib/secrets.ts";

/** The cookie that carries the session. */
export const SESSION_COOKIE = "gateway_session";

/** How long a session lasts unless told otherwise: 12 hours. */
export const SESSION_TTL_MS = 12 * 3_600_000;

const TOKEN = /^v1\.(\d{1,16})\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;
const LABEL = "failover-gateway dashboard session v1\u0000";
const encoder = new TextEncoder();

export interface SessionSigner {
  /** A token valid until `now + ttlMs`. */
  issue(now: number): Promise<{ token: string; expiresAt: number }>;
  /** Whether `token` was issued with this admin key and has not expired at `now`. */
  verify(token: string, now: number): Promise<boolean>;
  ttlMs: number;
}

export function createSessionSigner(adminKey: string, ttlMs = SESSION_TTL_MS): SessionSigner {
  const key = crypto.subtle.digest("SHA-256", encoder.encode(LABEL + adminKey)).then((raw) =>
    crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
  );
  const sign = async (payload: string) =>
    toBase64Url(
      new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(payload))),
    );
  return {
    ttlMs,
    async issue(now) {
      const expiresAt = now + ttlMs;
      const payload = `v1.${expiresAt}.${toHex(randomBytes(16))}`;
      return { token: `${payload}.${await sign(payload)}`, expiresAt };
    },
    async verify(token, now) {
      const m = TOKEN.exec(token);
      if (!m) return false;
      const good = constantTimeEqual(await sign(`v1.${m[1]}.${m[2]}`), m[3]);
      return good && Number(m[1]) > now;
    },
  };
}

/**
 * The value of cookie `name` in a Cookie header, or undefined. Tolerant of anything a client may
 * send (no `=`, empty parts, quotes, stray bytes); the first occurrence wins.
 */
export function cookieValue(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    return value;
  }
  return undefined;
}

/** Set-Cookie for a new session: HttpOnly, SameSite=Strict, Path=/, Secure over https. */
export function sessionCookie(token: string, maxAgeMs: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    "HttpOnly",
    "SameSite=Strict",
    "Path=/",
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

/** Set-Cookie that ends the session in the browser. */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie("", 0, secure);
}
