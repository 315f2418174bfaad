// The start-up lines about virtual keys (open or required, and where they come from) and the
// admin API (on or off). Never a secret: declared keys are named, not shown.
import type { KeyCache } from "./key_cache.ts";
import type { KeyStore } from "./store.ts";

export function describeKeys(deps: {
  adminKey: string | undefined;
  cache: Pick<KeyCache, "declared" | "synced" | "size" | "required">;
  store: Pick<KeyStore, "kind" | "describe">;
}): string[] {
  const { adminKey, cache, store } = deps;
  const { declared } = cache;
  const admin = adminKey
    ? "admin API: /admin/keys (Authorization: Bearer $GATEWAY_ADMIN_KEY)"
    : "admin API: off (set GATEWAY_ADMIN_KEY to manage virtual keys over HTTP)";
  const names = declared.map((k) => k.name).join(", ");
  // A memory store starts empty with its process: nothing to wait for.
  const known = cache.synced() || store.kind === "memory";
  let keys: string;
  if (!known && declared.length === 0) {
    keys = `virtual keys: none in config; loading stored keys from ${store.describe} ` +
      "(requests wait for it; the gateway stays open if there are none)";
  } else if (!cache.required()) {
    keys = adminKey
      ? "virtual keys: none — the gateway is open; POST /admin/keys to require keys"
      : "virtual keys: none — the gateway is open; set GATEWAY_ADMIN_KEY and POST /admin/keys to require keys";
  } else {
    const parts = [
      declared.length ? `${declared.length} from config (${names})` : "",
      known ? `${cache.size()} in ${store.describe}` : `stored keys loading from ${store.describe}`,
    ].filter((s) => s !== "");
    keys = `virtual keys: required — ${parts.join(", ")}`;
  }
  return [keys, admin];
}
