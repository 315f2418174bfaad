// A service account for tests: an RSA key pair generated in-test (Web Crypto), its private key
// exported as the PKCS#8 PEM a Google key file carries, and a JWT checker that verifies an
// assertion's RS256 signature with the public key, the way Google's token endpoint would.
import type { ServiceAccount } from "../../../src/providers/vertex/mod.ts";

const ALG = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

export interface TestAccount {
  account: ServiceAccount;
  /** The key file's JSON text, as GOOGLE_SERVICE_ACCOUNT_JSON would hold it. */
  json: string;
  publicKey: CryptoKey;
}

function pem(der: ArrayBuffer): string {
  const b64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  return `-----BEGIN PRIVATE KEY-----\n${
    b64.match(/.{1,64}/g)!.join("\n")
  }\n-----END PRIVATE KEY-----\n`;
}

export async function testAccount(tokenUri = "https://oauth2.test/token"): Promise<TestAccount> {
  const pair = await crypto.subtle.generateKey(
    { ...ALG, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
  const privateKey = pem(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const file = {
    type: "service_account",
    project_id: "proj-test",
    private_key_id: "kid-123",
    private_key: privateKey,
    client_email: "gateway@proj-test.iam.gserviceaccount.com",
    client_id: "1234567890",
    token_uri: tokenUri,
  };
  return {
    account: {
      clientEmail: file.client_email,
      privateKey,
      privateKeyId: file.private_key_id,
      tokenUri,
    },
    json: JSON.stringify(file),
    publicKey: pair.publicKey,
  };
}

function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - s.length % 4) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export interface VerifiedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  valid: boolean;
}

/** Decodes a JWT and checks its signature with `publicKey`. */
export async function verifyJwt(jwt: string, publicKey: CryptoKey): Promise<VerifiedJwt> {
  const [h, c, s] = jwt.split(".");
  const dec = (p: string) => JSON.parse(new TextDecoder().decode(fromB64url(p)));
  const valid = await crypto.subtle.verify(
    ALG,
    publicKey,
    fromB64url(s),
    new TextEncoder().encode(`${h}.${c}`),
  );
  return { header: dec(h), claims: dec(c), valid };
}
