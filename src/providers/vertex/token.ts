// OAuth 2.0 access tokens for a service account (the JWT-bearer grant, RFC 7523): sign a JWT with
// the account's key, POST it form-encoded to its token_uri, keep the access token until shortly
// before `expires_in` runs out. One exchange is in flight at a time; every caller waiting for a
// token shares it. Time comes from the injected clock and the exchange goes through ProviderHttp,
// so tests drive both.
//
// Failures are the provider's auth failures, never crashes: a key Web Crypto refuses, a key file
// that is not one, or a token endpoint that refuses the assertion throw an UpstreamStreamError with
// status 401 (classified as `auth`: the provider-wide breaker), naming the provider and what to
// fix. A token endpoint that cannot be reached or fails on its side is a 503 (transient).
import type { Clock, ProviderHttp } from "../../ports.ts";
import { UpstreamStreamError } from "../adapter.ts";
import { importSigningKey, signServiceAccountJwt } from "./jwt.ts";
import {
  parseServiceAccount,
  type ServiceAccount,
  ServiceAccountError,
} from "./service_account.ts";

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** Refresh this long before the token expires (at most half its lifetime). */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** How long a token exchange may take. */
export const TOKEN_TIMEOUT_MS = 10_000;

export interface TokenSourceOptions {
  /** Provider id, for messages. */
  provider: string;
  /** The key file, parsed (from config) or as JSON text (read on first use). */
  account: ServiceAccount | string;
  /** Where the key file came from, e.g. "GOOGLE_SERVICE_ACCOUNT_JSON", for messages. */
  source?: string;
  http: ProviderHttp;
  clock: Clock;
  timeoutMs?: number;
}

/** Resolves to a bearer token for the account; cached and refreshed as needed. */
export type TokenSource = () => Promise<string>;

interface Cached {
  token: string;
  refreshAt: number;
}

export function createTokenSource(opts: TokenSourceOptions): TokenSource {
  const who = `vertex provider "${opts.provider}"`;
  const where = opts.source ? ` (${opts.source})` : "";
  let account: ServiceAccount | undefined;
  let key: Promise<CryptoKey> | undefined;
  let cached: Cached | undefined;
  let inflight: Promise<string> | undefined;

  const authFailure = (message: string, code: string) =>
    new UpstreamStreamError({ message: `${who}: ${message}`, type: "UNAUTHENTICATED", code }, 401);
  const unavailable = (message: string, code: string) =>
    new UpstreamStreamError({ message: `${who}: ${message}`, type: "UNAVAILABLE", code }, 503);

  async function signingKey(): Promise<[ServiceAccount, CryptoKey]> {
    try {
      account ??= typeof opts.account === "string"
        ? parseServiceAccount(opts.account)
        : opts.account;
      key ??= importSigningKey(account.privateKey);
      return [account, await key];
    } catch (e) {
      key = undefined; // a fixed key file is read again on the next call
      if (!(e instanceof ServiceAccountError)) throw e;
      throw authFailure(
        `the service account key file in credentials${where} ${e.message}; ` +
          "set it to the JSON of a key created for the service account",
        "invalid_credentials",
      );
    }
  }

  async function exchange(): Promise<string> {
    const [sa, k] = await signingKey();
    const startedAt = opts.clock.now();
    const assertion = await signServiceAccountJwt({
      account: sa,
      key: k,
      nowSec: Math.floor(startedAt / 1000),
    });
    const ctl = new AbortController();
    const timer = setTimeout(
      () =>
        ctl.abort(new DOMException("the token endpoint did not answer in time", "TimeoutError")),
      opts.timeoutMs ?? TOKEN_TIMEOUT_MS,
    );
    let status: number;
    let text: string;
    try {
      const res = await opts.http.fetch(sa.tokenUri, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
        signal: ctl.signal,
      });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const reason = ctl.signal.aborted ? String(ctl.signal.reason?.message) : String(e);
      throw unavailable(
        `cannot reach the token endpoint ${sa.tokenUri}: ${reason}`,
        "token_endpoint_unreachable",
      );
    } finally {
      clearTimeout(timer);
    }
    let body: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed === "object") body = parsed;
    } catch { /* described below by status */ }
    if (status < 200 || status > 299) {
      // RFC 6749 §5.2: {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
      const detail = [body.error, body.error_description].filter((v) => typeof v === "string")
        .join(": ") || text.slice(0, 200);
      if (status >= 500 || status === 429) {
        throw unavailable(
          `the token endpoint ${sa.tokenUri} failed (${status} ${detail})`,
          "token_endpoint_error",
        );
      }
      throw authFailure(
        `the token endpoint ${sa.tokenUri} refused the service account ${sa.clientEmail} ` +
          `(${status} ${detail}); check the key file in credentials${where} (a current key of ` +
          "an enabled service account) and its Vertex AI permissions",
        "token_exchange_refused",
      );
    }
    const token = typeof body.access_token === "string" ? body.access_token : "";
    if (token === "") {
      throw unavailable(
        `the token endpoint ${sa.tokenUri} answered without an access_token`,
        "token_endpoint_error",
      );
    }
    const lifetimeMs =
      (typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 3600) * 1000;
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
    cached = { token, refreshAt: startedAt + lifetimeMs - margin };
    return token;
  }

  return () => {
    if (cached && opts.clock.now() < cached.refreshAt) return Promise.resolve(cached.token);
    inflight ??= exchange().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };
}
