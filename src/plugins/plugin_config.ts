// The `plugins` section of gateway.json: an ordered list of built-in plugins, each
// `{"type": …, "name"?: …, …options}`, and how it becomes running plugins.
import { z } from "zod";
import type { Logger } from "../lib/logger.ts";
import type { NatsAccess } from "../lib/nats_connect.ts";
import { cachePlugin, type CacheStore, DEFAULT_VARY, memoryCacheStore } from "./cache.ts";
import { guardrailPlugin } from "./guardrail.ts";
import { headersPlugin, UNFORWARDABLE } from "./headers.ts";
import { natsCacheStore } from "./nats_cache_store.ts";
import type { Plugin } from "./plugin.ts";
import { type Embed, memorySemanticStore, semanticCachePlugin } from "./semantic_cache.ts";
import { natsSemanticStore } from "./nats_semantic_store.ts";

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
  message: "must be 1-64 characters of [A-Za-z0-9_.-]",
}).optional().describe("names the plugin in events and errors; default: its type");
const header = z.string().regex(/^[A-Za-z0-9_-]+$/, { message: "must be an HTTP header name" })
  .transform((h) => h.toLowerCase());

const CachePlugin = z.strictObject({
  type: z.literal("cache"),
  name,
  ttlMs: z.number().int().positive().default(300_000),
  maxEntries: z.number().int().positive().default(1_000).describe("in-memory store only"),
  vary: z.array(header).default([...DEFAULT_VARY]).describe(
    "without virtual keys: request headers whose values are part of the key, so callers never share answers",
  ),
  store: z.enum(["auto", "memory", "nats"]).default("auto").describe(
    "auto: NATS JetStream KV when NATS is configured, else in memory",
  ),
  bucket: z.string().regex(/^[A-Za-z0-9_-]+$/).default("GATEWAY_CACHE").describe(
    "NATS KV bucket",
  ),
});

const SemanticCachePlugin = z.strictObject({
  type: z.literal("semantic-cache"),
  name,
  embedding: z.string().min(1).describe(
    'embeddings model ("provider/model" or a route alias) the last user turn is embedded with',
  ),
  embeddingFallbacks: z.array(z.string().min(1)).default([]),
  threshold: z.number().gt(0).max(1).default(0.95).describe(
    "least cosine similarity of the last user turn to a stored one that answers from it",
  ),
  ttlMs: z.number().int().positive().default(300_000),
  maxEntries: z.number().int().positive().default(1_000).describe(
    "bound of each replica's in-memory index (LRU)",
  ),
  vary: z.array(header).default([...DEFAULT_VARY]).describe(
    "without virtual keys: request headers whose values scope entries, so callers never share answers",
  ),
  store: z.enum(["auto", "memory", "nats"]).default("auto").describe(
    "auto: NATS JetStream KV when NATS is configured, else in memory",
  ),
  bucket: z.string().regex(/^[A-Za-z0-9_-]+$/).default("GATEWAY_SEMANTIC_CACHE").describe(
    "NATS KV bucket",
  ),
});

const GuardrailPlugin = z.strictObject({
  type: z.literal("guardrail"),
  name,
  maxTokens: z.number().int().positive().optional(),
  onMaxTokens: z.enum(["clamp", "reject"]).default("clamp"),
  deny: z.array(
    z.strictObject({
      name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
        message: "must be 1-64 characters of [A-Za-z0-9_.-]",
      }),
      pattern: z.string().min(1).describe("regular expression over each message's text"),
      flags: z.string().regex(/^[imsuv]*$/, { message: "only the flags i, m, s, u, v" })
        .default(""),
    }).superRefine((r, ctx) => {
      try {
        new RegExp(r.pattern, r.flags);
      } catch (e) {
        ctx.addIssue({ code: "custom", path: ["pattern"], message: (e as Error).message });
      }
    }),
  ).default([]),
});

const HeadersPlugin = z.strictObject({
  type: z.literal("headers"),
  name,
  forwardHeaders: z.array(
    header.refine((h) => !UNFORWARDABLE.has(h), {
      message: "credentials and connection headers are never forwarded",
    }),
  ).default([]),
  metadataHeader: z.union([header, z.literal(false)]).default("x-gateway-metadata"),
});

export const PluginsSchema = z.array(
  z.discriminatedUnion("type", [CachePlugin, SemanticCachePlugin, GuardrailPlugin, HeadersPlugin]),
).default([]).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((p, i) => {
    const n = p.name ?? p.type;
    if (seen.has(n)) {
      ctx.addIssue({
        code: "custom",
        path: [i, "name"],
        message: `another plugin is already named "${n}"; give this one its own "name"`,
      });
    }
    seen.add(n);
  });
}).describe("built-in plugins, in order: begin and pre run first to last, post last to first");

export type PluginConfig = z.output<typeof PluginsSchema>[number];

export interface PluginBuildDeps {
  /** NATS for stores that can live there (cache `store: "auto" | "nats"`); none = absent. */
  nats?: NatsAccess & { replicas?: number };
  logger: Logger;
  /** A cache's in-memory store (under workers without NATS: one in the main thread). */
  memoryStore?: (name: string, maxEntries: number, ttlMs: number) => CacheStore;
  /** The gateway's embeddings pipeline, in-process (the semantic cache); absent = every lookup misses. */
  embed?: Embed;
}

export interface BuiltPlugins {
  plugins: Plugin[];
  /** One line per plugin, for start-up output. */
  describe: string[];
  close(): Promise<void>;
}

export function buildPlugins(
  configs: readonly PluginConfig[],
  deps: PluginBuildDeps,
): BuiltPlugins {
  const plugins: Plugin[] = [];
  const describe: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  for (const c of configs) {
    switch (c.type) {
      case "cache": {
        const useNats = c.store === "nats" || (c.store === "auto" && !!deps.nats?.servers.length);
        if (useNats && !deps.nats?.servers.length) {
          throw new Error(`plugins: cache store "nats" needs NATS (nats.url or NATS_URL)`);
        }
        let store: CacheStore;
        if (useNats) {
          const kv = natsCacheStore({
            access: deps.nats!,
            replicas: deps.nats!.replicas,
            bucket: c.bucket,
            ttlMs: c.ttlMs,
            logger: deps.logger,
          });
          closers.push(() => kv.close());
          store = kv;
        } else {
          store = deps.memoryStore?.(c.name ?? "cache", c.maxEntries, c.ttlMs) ??
            memoryCacheStore(c.maxEntries, c.ttlMs);
        }
        plugins.push(cachePlugin({ name: c.name, store, vary: c.vary }));
        describe.push(`${c.name ?? "cache"}: response cache, ${store.describe}`);
        break;
      }
      case "semantic-cache": {
        const useNats = c.store === "nats" || (c.store === "auto" && !!deps.nats?.servers.length);
        if (useNats && !deps.nats?.servers.length) {
          throw new Error(`plugins: semantic-cache store "nats" needs NATS (nats.url or NATS_URL)`);
        }
        const store = useNats
          ? natsSemanticStore({
            access: deps.nats!,
            replicas: deps.nats!.replicas,
            bucket: c.bucket,
            ttlMs: c.ttlMs,
            maxEntries: c.maxEntries,
            logger: deps.logger,
          })
          : memorySemanticStore(c.maxEntries, c.ttlMs);
        if (store.close) closers.push(() => store.close!());
        const embed = deps.embed ??
          (() => Promise.reject(new Error("no embeddings pipeline in this gateway")));
        plugins.push(semanticCachePlugin({
          name: c.name,
          embedding: c.embedding,
          embeddingFallbacks: c.embeddingFallbacks,
          threshold: c.threshold,
          store,
          embed,
          vary: c.vary,
        }));
        describe.push(
          `${
            c.name ?? "semantic-cache"
          }: semantic cache (${c.embedding}, similarity ≥ ${c.threshold}), ${store.describe}`,
        );
        break;
      }
      case "guardrail":
        plugins.push(guardrailPlugin({
          name: c.name,
          maxTokens: c.maxTokens,
          onMaxTokens: c.onMaxTokens,
          deny: c.deny.map((r) => ({ name: r.name, pattern: new RegExp(r.pattern, r.flags) })),
        }));
        describe.push(
          `${c.name ?? "guardrail"}: ${c.deny.length} deny rule(s)` +
            (c.maxTokens ? `, max tokens ${c.maxTokens} (${c.onMaxTokens})` : ""),
        );
        break;
      case "headers":
        plugins.push(headersPlugin({
          name: c.name,
          forwardHeaders: c.forwardHeaders,
          metadataHeader: c.metadataHeader,
        }));
        describe.push(
          `${c.name ?? "headers"}: forward ${c.forwardHeaders.join(", ") || "nothing"}` +
            (c.metadataHeader ? `, metadata from ${c.metadataHeader}` : ""),
        );
        break;
    }
  }
  return {
    plugins,
    describe,
    close: async () => {
      await Promise.all(closers.map((c) => c().catch(() => {})));
    },
  };
}
