// Who is calling: a stored key (looked up by the id inside the credential, then its salted digest
// compared in constant time), a key declared in gateway.json (its digest compared against every
// declared one), nobody when the gateway is open, or a 401 (missing, unknown, revoked) or a 503
// (the store has never been reachable and there is no declared key to fall back on).
import { constantTimeEqual, saltedDigest, virtualKeyId } from "../lib/secrets.ts";
import type { KeyCache } from "./key_cache.ts";
import type { KeyPolicy, KeyRecord } from "./keys.ts";
import { type Deny, type Refusal, storeDown, unauthorized } from "./refusal.ts";
import { type KeyStore, StoreUnavailable } from "./store.ts";

/** The salt for digests of keys declared in gateway.json (they have no stored salt). */
const CONFIG_SALT = "config-key";

export type Authenticate = (
  credential: string | undefined,
  requestId: string,
) => Promise<{ ok: true; key?: KeyPolicy } | Refusal>;

export function createAuthenticate(
  deps: { cache: KeyCache; store: Pick<KeyStore, "describe">; deny: Deny },
): Authenticate {
  const { cache, store, deny } = deps;
  const { declared } = cache;
  const declaredDigests = Promise.all(declared.map((k) => saltedDigest(CONFIG_SALT, k.secret)));

  return async (credential, requestId) => {
    if (!(await cache.loaded()) && declared.length === 0) {
      return storeDown(`the key store (${store.describe}) is not reachable`);
    }
    if (!cache.required()) return { ok: true as const };
    if (!credential) {
      return unauthorized(
        deny,
        requestId,
        "unknown",
        "This gateway requires a virtual key: send it as `Authorization: Bearer vk-…` (or x-api-key / x-goog-api-key).",
        "missing_api_key",
      );
    }
    const id = virtualKeyId(credential);
    if (id !== undefined) {
      let record: KeyRecord | undefined;
      try {
        record = await cache.stored(id);
      } catch (err) {
        if (err instanceof StoreUnavailable) return storeDown(err.message);
        throw err;
      }
      if (record && constantTimeEqual(await saltedDigest(record.salt, credential), record.hash)) {
        if (record.revokedAt !== undefined) {
          return unauthorized(
            deny,
            requestId,
            "revoked",
            `The virtual key "${record.name}" was revoked.`,
            "revoked_api_key",
          );
        }
        return { ok: true as const, key: record };
      }
    } else if (declared.length > 0) {
      const digest = await saltedDigest(CONFIG_SALT, credential);
      const digests = await declaredDigests;
      const i = digests.findIndex((d) => constantTimeEqual(d, digest));
      if (i >= 0) return { ok: true as const, key: declared[i] };
    }
    return unauthorized(deny, requestId, "unknown", "Unknown virtual key.", "invalid_api_key");
  };
}
