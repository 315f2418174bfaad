// Virtual-key secrets: generated from the system's cryptographic random source and kept at rest
// only as a salted SHA-256 digest (Web Crypto). This file and the other lib/ files are the only
// ones that touch the world; everything that decides stays pure.

const encoder = new TextEncoder();

/** `count` bytes from crypto.getRandomValues. */
export function randomBytes(count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  crypto.getRandomValues(bytes);
  return bytes;
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** RFC 4648 base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Hex SHA-256 of `salt` followed by the UTF-8 bytes of `secret`. */
export async function saltedDigest(salt: string, secret: string): Promise<string> {
  const data = encoder.encode(`${salt}:${secret}`);
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

/** Compares two strings in time that depends only on their lengths, not on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** A fresh virtual key: `vk-<id>-<43 base64url chars>` (256 random bits), its id and salt. */
export function newVirtualKey(): { id: string; secret: string; salt: string } {
  const id = toHex(randomBytes(8));
  return { id, secret: `vk-${id}-${toBase64Url(randomBytes(32))}`, salt: toHex(randomBytes(16)) };
}

/** The key id embedded in a secret that newVirtualKey made, or undefined for any other string. */
export function virtualKeyId(secret: string): string | undefined {
  return /^vk-([0-9a-f]{16})-[A-Za-z0-9_-]{43}$/.exec(secret)?.[1];
}

/** The token of an `Authorization: Bearer <token>` header, or undefined for anything else. */
export function bearerToken(header: string | null | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
}

/**
 * A check of presented credentials against one secret, in time that depends on neither the
 * secret's length nor where a guess differs: both sides are hashed (SHA-256, with `salt`) and the
 * fixed-length digests compared byte by byte with no early exit.
 */
export function secretMatcher(secret: string, salt: string): (sent: string) => Promise<boolean> {
  const expected = saltedDigest(salt, secret);
  return async (sent) => constantTimeEqual(await saltedDigest(salt, sent), await expected);
}
