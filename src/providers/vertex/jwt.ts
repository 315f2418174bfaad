// The RS256-signed JWT a service account exchanges for an access token (RFC 7523 JWT bearer
// grant, as Google documents it: iss = client_email, scope, aud = token_uri, iat, exp ≤ 1 h).
// Web Crypto only: RSASSA-PKCS1-v1_5 with SHA-256 over `base64url(header).base64url(claims)`.
import { pemToPkcs8, type ServiceAccount, ServiceAccountError } from "./service_account.ts";

/** The OAuth scope Vertex AI calls need. */
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** Google accepts assertions valid for at most an hour. */
export const JWT_LIFETIME_SEC = 3600;

const ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** RFC 4648 base64url without padding. */
export function base64url(bytes: Uint8Array | string): string {
  const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  let bin = "";
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Imports the account's PEM key for signing; a key Web Crypto refuses is a ServiceAccountError. */
export async function importSigningKey(privateKeyPem: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey("pkcs8", pemToPkcs8(privateKeyPem), ALGORITHM, false, [
      "sign",
    ]);
  } catch (e) {
    if (e instanceof ServiceAccountError) throw e;
    throw new ServiceAccountError(
      `private_key cannot be used for RS256 signing (${(e as Error).message})`,
    );
  }
}

export interface JwtInput {
  account: ServiceAccount;
  key: CryptoKey;
  /** Unix seconds: `iat`; `exp` is `iat` + JWT_LIFETIME_SEC. */
  nowSec: number;
  scope?: string;
}

/** The signed assertion, `header.claims.signature`. */
export async function signServiceAccountJwt(input: JwtInput): Promise<string> {
  const { account, key, nowSec } = input;
  const header = {
    alg: "RS256",
    typ: "JWT",
    ...(account.privateKeyId ? { kid: account.privateKeyId } : {}),
  };
  const claims = {
    iss: account.clientEmail,
    scope: input.scope ?? CLOUD_PLATFORM_SCOPE,
    aud: account.tokenUri,
    iat: nowSec,
    exp: nowSec + JWT_LIFETIME_SEC,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign(
    ALGORITHM,
    key,
    new TextEncoder().encode(signingInput),
  );
  return `${signingInput}.${base64url(new Uint8Array(signature))}`;
}
