// A Google service-account key file (the JSON `gcloud iam service-accounts keys create` writes):
// the fields the OAuth 2.0 JWT-bearer flow needs (developers.google.com/identity/protocols/oauth2/service-account).

export interface ServiceAccount {
  clientEmail: string;
  /** PEM, PKCS#8 ("-----BEGIN PRIVATE KEY-----"). */
  privateKey: string;
  /** The key's id, sent as the JWT header's `kid`; absent in some hand-made files. */
  privateKeyId?: string;
  /** Where the signed JWT is exchanged for an access token. */
  tokenUri: string;
}

/** Google's token endpoint, for a key file that does not name one. */
export const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";

/** Thrown with the field that is wrong, for config errors and auth failures alike. */
export class ServiceAccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServiceAccountError";
  }
}

const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v : undefined);

/** Reads the key file's JSON text; throws a ServiceAccountError naming the field at fault. */
export function parseServiceAccount(text: string): ServiceAccount {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ServiceAccountError(`is not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ServiceAccountError("is not a JSON object (a service-account key file)");
  }
  const o = raw as Record<string, unknown>;
  if (o.type !== undefined && o.type !== "service_account") {
    throw new ServiceAccountError(
      `has type "${
        String(o.type)
      }"; a service-account key file ("type": "service_account") is needed`,
    );
  }
  const clientEmail = str(o.client_email);
  if (!clientEmail) throw new ServiceAccountError("has no client_email");
  const privateKey = str(o.private_key);
  if (!privateKey) throw new ServiceAccountError("has no private_key");
  if (!/-----BEGIN PRIVATE KEY-----/.test(privateKey)) {
    throw new ServiceAccountError(
      'private_key is not a PKCS#8 PEM key ("-----BEGIN PRIVATE KEY-----")',
    );
  }
  const tokenUri = str(o.token_uri) ?? GOOGLE_TOKEN_URI;
  if (!/^https?:\/\//.test(tokenUri)) {
    throw new ServiceAccountError(`token_uri is not an http(s) URL: ${tokenUri}`);
  }
  const privateKeyId = str(o.private_key_id);
  return { clientEmail, privateKey, tokenUri, ...(privateKeyId ? { privateKeyId } : {}) };
}

/** The DER bytes of a PKCS#8 PEM key (newlines given as literal "\n" are tolerated). */
export function pemToPkcs8(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/\\n/g, "\n")
    .replace(/-----(?:BEGIN|END) PRIVATE KEY-----/g, "")
    .replace(/\s+/g, "");
  let bin: string;
  try {
    bin = atob(body);
  } catch {
    throw new ServiceAccountError("private_key is not valid base64 PEM");
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
