// Exact-match response cache. The key is a SHA-256 of the canonical request: kind, `model` and
// `fallbacks` as requested, every other body field (keys sorted, `stream`/`stream_options` left
// out) and who is asking, so callers never share answers: the virtual key when virtual keys are
// on, else the values of the `vary` headers (by default the API-key headers the SDKs send).
// JSON answers only: streams are neither looked up nor stored.
//
// A hit answers from `begin` — no provider is asked, no upstream called — with
// `x-gateway-cache: hit` and a `cache.hit` event; a miss says `x-gateway-cache: miss` and the
// successful answer is stored from `post`. A client's `cache-control: no-cache` skips the lookup
// (the fresh answer is still stored), `no-store` skips both (`x-gateway-cache: bypass`).
import { TtlLru } from "../lib/ttl_lru.ts";
import type { CanonicalRequest, JsonResponse, Plugin, RequestContext } from "./plugin.ts";

export interface CacheEntry {
  response: JsonResponse;
  /** Who produced the answer. */
  provider: string;
  model: string;
}

/** Where entries live. Implementations enforce the TTL and their own size bound. */
export interface CacheStore {
  readonly describe: string;
  get(key: string, now: number): Promise<{ entry: CacheEntry; ageMs: number } | undefined>;
  set(key: string, entry: CacheEntry, now: number): Promise<void>;
}

export function memoryCacheStore(maxEntries: number, ttlMs: number): CacheStore {
  const lru = new TtlLru<string, CacheEntry>(maxEntries, ttlMs);
  return {
    describe: `in-memory LRU (${maxEntries} entries, TTL ${ttlMs} ms)`,
    get(key, now) {
      const hit = lru.lookup(key, now);
      // A copy, so whatever a caller does with the answer never changes the stored one.
      return Promise.resolve(hit && { entry: structuredClone(hit.value), ageMs: hit.ageMs });
    },
    set(key, entry, now) {
      lru.set(key, structuredClone(entry), now);
      return Promise.resolve();
    },
  };
}

/** JSON with object keys sorted at every level, so equal requests hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Hex SHA-256 of everything that makes two requests the same request. */
export async function cacheKey(
  request: CanonicalRequest,
  requested: { model: string; fallbacks: readonly string[] },
  vary: readonly (readonly [string, string | null])[],
): Promise<string> {
  const { model: _m, fallbacks: _f, stream: _s, stream_options: _o, ...params } = request
    .body as Record<string, unknown>;
  const text = canonicalJson({
    kind: request.kind,
    chain: [requested.model, ...requested.fallbacks],
    params,
    vary,
  });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export interface CacheOptions {
  name?: string;
  store: CacheStore;
  /** Request headers whose values are part of the key when there is no virtual key. */
  vary?: readonly string[];
}

export const CACHE_HEADER = "x-gateway-cache";

/** The headers OpenAI, Anthropic, Azure and Google SDKs carry their API key in. */
export const DEFAULT_VARY: readonly string[] = [
  "authorization",
  "x-api-key",
  "api-key",
  "x-goog-api-key",
];

export function cachePlugin(opts: CacheOptions): Plugin {
  const vary = (opts.vary ?? DEFAULT_VARY).map((h) => h.toLowerCase());
  // Per request: the key computed in begin, for post to store under.
  const KEY = Symbol("cache key");
  const directives = (ctx: RequestContext) =>
    (ctx.headers.get("cache-control") ?? "").toLowerCase().split(",").map((d) => d.trim());
  return {
    name: opts.name ?? "cache",
    async begin(ctx) {
      if (ctx.stream) return;
      const cc = directives(ctx);
      if (cc.includes("no-store")) {
        ctx.responseHeaders[CACHE_HEADER] = "bypass";
        return;
      }
      const key = await cacheKey(
        ctx.request,
        ctx.requested,
        ctx.caller !== undefined
          ? [["virtual-key", ctx.caller]]
          : vary.map((h) => [h, ctx.headers.get(h)] as const),
      );
      ctx.scratch.set(KEY, key);
      let hit;
      try {
        hit = cc.includes("no-cache") ? undefined : await opts.store.get(key, ctx.now());
      } catch {
        hit = undefined; // An unreachable cache is a miss, never a failed request.
      }
      if (!hit) {
        ctx.responseHeaders[CACHE_HEADER] = "miss";
        return;
      }
      ctx.responseHeaders[CACHE_HEADER] = "hit";
      ctx.publish({
        type: "cache.hit",
        at: ctx.now(),
        requestId: ctx.requestId,
        provider: hit.entry.provider,
        model: hit.entry.model,
        key: key.slice(0, 16),
        ageMs: Math.round(hit.ageMs),
      });
      return { answer: { ...hit.entry } };
    },
    async post(ctx) {
      const key = ctx.scratch.get(KEY) as string | undefined;
      if (key === undefined || ctx.outcome.type !== "success" || !ctx.outcome.response) return;
      await opts.store.set(key, {
        response: ctx.outcome.response,
        provider: ctx.candidate.provider,
        model: ctx.candidate.model,
      }, ctx.now());
    },
  };
}
