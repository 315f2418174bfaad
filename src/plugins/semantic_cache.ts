// Semantic response cache: answers a chat request from a stored answer to a question that MEANS
// the same, judged by the cosine similarity of embeddings.
//
// What is compared: the conversation's LAST USER TURN (its text) is embedded, through the
// gateway's own providers and their failover (`embed`, which runs the embeddings pipeline
// in-process). Everything before that turn (system prompt, earlier turns, tool results) is part
// of the scope and must match exactly. A conversation that does not end with a user turn, or whose
// last user turn carries anything but text (images, audio), is not cached.
//
// The scope: a SHA-256 (./cache.ts cacheKey) of the model chain (model + fallbacks as requested),
// every other body field but `stream`/`stream_options` (temperature, tools, response_format, …),
// the earlier messages, the embedding model, and who is asking (the virtual key, else the values
// of the `vary` headers: the API-key headers, so anonymous callers share only with anonymous
// ones). Answers never cross scopes.
//
// A hit (similarity ≥ threshold) makes no model call: `x-gateway-cache: hit`,
// `x-gateway-cache-similarity`, a `cache.hit` event carrying `similarity`; a stream request is
// answered as a stream. A miss says `x-gateway-cache: miss` and stores the final answer — of a
// JSON request, or of a stream once it ended well (put together from its chunks) — when every
// choice finished with `stop` or `tool_calls` (never errors, never an answer cut by `length` or
// `content_filter`, never a stream that broke off). `cache-control: no-cache` skips the lookup,
// `no-store` skips both. An embeddings or store failure is a miss, never a failed request.
import type { ChatCompletion, ChatRequest } from "../openai/types.ts";
import { CACHE_HEADER, cacheKey, DEFAULT_VARY } from "./cache.ts";
import type { AttemptContext, Plugin, RequestContext } from "./plugin.ts";
import { normalize, SemanticIndex } from "./semantic_index.ts";

/** Embeds one text through the gateway (its providers, fallbacks and keys); the raw vector. */
export type Embed = (input: string, opts: {
  model: string;
  fallbacks: readonly string[];
  /** The request the embedding is for; the embeddings call gets its own id derived from it. */
  requestId: string;
  /** The client's headers: the embeddings call runs as the same caller (its key is charged). */
  headers: Headers;
}) => Promise<number[]>;

export interface SemanticEntry {
  response: ChatCompletion;
  /** Who produced the answer. */
  provider: string;
  model: string;
}

export interface SemanticHit {
  entry: SemanticEntry;
  similarity: number;
  ageMs: number;
}

/** Where entries and their vectors live; `vector` is unit length (semantic_index.ts normalize). */
export interface SemanticStore {
  readonly describe: string;
  search(
    scope: string,
    vector: Float32Array,
    threshold: number,
    now: number,
  ): Promise<SemanticHit | undefined>;
  /** `id` names the entry within its scope (a later add with the same id replaces it). */
  add(
    scope: string,
    id: string,
    vector: Float32Array,
    entry: SemanticEntry,
    now: number,
  ): Promise<void>;
  close?(): Promise<void>;
}

export const SIMILARITY_HEADER = "x-gateway-cache-similarity";

/** The text compared, and the messages before it; undefined when the request is not cacheable. */
export function lastUserTurn(
  messages: ChatRequest["messages"],
): { text: string; earlier: ChatRequest["messages"] } | undefined {
  const last = messages[messages.length - 1];
  if (!last || last.role !== "user") return undefined;
  let text: string;
  if (typeof last.content === "string") text = last.content;
  else if (Array.isArray(last.content)) {
    if (!last.content.every((p) => p.type === "text")) return undefined;
    text = last.content.map((p) => (p as { text: string }).text).join("\n");
  } else return undefined;
  if (text.trim() === "") return undefined;
  return { text, earlier: messages.slice(0, -1) };
}

/** Only complete answers are stored: every choice ended with `stop` or `tool_calls`. */
export function storable(r: ChatCompletion): boolean {
  return Array.isArray(r.choices) && r.choices.length > 0 &&
    r.choices.every((c) => c.finish_reason === "stop" || c.finish_reason === "tool_calls");
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The scope key of a chat request: everything but its last user turn, and who is asking. */
export function semanticScope(
  body: ChatRequest,
  earlier: ChatRequest["messages"],
  requested: { model: string; fallbacks: readonly string[] },
  embedding: string,
  who: readonly (readonly [string, string | null])[],
): Promise<string> {
  return cacheKey(
    { kind: "chat", body: { ...body, messages: earlier, "semantic-cache": embedding } },
    requested,
    who,
  );
}

export interface SemanticCacheOptions {
  name?: string;
  /** "provider/model" of the embeddings (a route alias works too). */
  embedding: string;
  embeddingFallbacks?: readonly string[];
  /** Least cosine similarity that is a hit, in (0, 1]. */
  threshold: number;
  store: SemanticStore;
  embed: Embed;
  /** Request headers whose values scope entries when there is no virtual key. */
  vary?: readonly string[];
}

interface Pending {
  scope: string;
  id: string;
  vector: Float32Array;
}

export function semanticCachePlugin(opts: SemanticCacheOptions): Plugin {
  const vary = (opts.vary ?? DEFAULT_VARY).map((h) => h.toLowerCase());
  const PENDING = Symbol("semantic cache entry");
  const directives = (ctx: RequestContext) =>
    (ctx.headers.get("cache-control") ?? "").toLowerCase().split(",").map((d) => d.trim());
  /** Stores a miss's complete answer under the embedding its begin made. */
  const keep = async (ctx: AttemptContext, response: ChatCompletion) => {
    const p = ctx.scratch.get(PENDING) as Pending | undefined;
    if (!p || ctx.request.kind !== "chat") return;
    if (response.object !== "chat.completion" || !storable(response)) return;
    try {
      await opts.store.add(p.scope, p.id, p.vector, {
        response,
        provider: ctx.candidate.provider,
        model: ctx.candidate.model,
      }, ctx.now());
    } catch {
      // A failed store only costs a future hit.
    }
  };
  return {
    name: opts.name ?? "semantic-cache",
    async begin(ctx) {
      if (ctx.request.kind !== "chat") return;
      const cc = directives(ctx);
      if (cc.includes("no-store")) {
        ctx.responseHeaders[CACHE_HEADER] = "bypass";
        return;
      }
      const body = ctx.request.body;
      const turn = lastUserTurn(body.messages);
      if (!turn) return;
      const who = ctx.caller !== undefined
        ? [["virtual-key", ctx.caller] as const]
        : vary.map((h) => [h, ctx.headers.get(h)] as const);
      const scope = await semanticScope(body, turn.earlier, ctx.requested, opts.embedding, who);
      ctx.responseHeaders[CACHE_HEADER] = "miss";
      let vector: Float32Array | undefined;
      try {
        vector = normalizeVector(
          await opts.embed(turn.text, {
            model: opts.embedding,
            fallbacks: opts.embeddingFallbacks ?? [],
            requestId: ctx.requestId,
            headers: ctx.headers,
          }),
        );
      } catch {
        return; // No embedding: a miss that is not stored either.
      }
      if (!vector) return;
      ctx.scratch.set(
        PENDING,
        {
          scope,
          id: (await sha256Hex(turn.text)).slice(0, 32),
          vector,
        } satisfies Pending,
      );
      if (cc.includes("no-cache")) return;
      let hit: SemanticHit | undefined;
      try {
        hit = await opts.store.search(scope, vector, opts.threshold, ctx.now());
      } catch {
        hit = undefined; // An unreachable store is a miss.
      }
      if (!hit) return;
      const similarity = Math.round(hit.similarity * 10_000) / 10_000;
      ctx.responseHeaders[CACHE_HEADER] = "hit";
      ctx.responseHeaders[SIMILARITY_HEADER] = similarity.toFixed(4);
      ctx.publish({
        type: "cache.hit",
        at: ctx.now(),
        requestId: ctx.requestId,
        provider: hit.entry.provider,
        model: hit.entry.model,
        key: scope.slice(0, 16),
        ageMs: Math.round(hit.ageMs),
        similarity,
      });
      return {
        answer: {
          response: structuredClone(hit.entry.response),
          provider: hit.entry.provider,
          model: hit.entry.model,
          stream: true,
        },
      };
    },
    async post(ctx) {
      const out = ctx.outcome;
      if (out.type !== "success" || !out.response) return;
      await keep(ctx, out.response as ChatCompletion);
    },
    streamed: (ctx) => keep(ctx, ctx.response),
  };
}

function normalizeVector(v: unknown): Float32Array | undefined {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "number")) {
    return undefined;
  }
  return normalize(v);
}

/** Entries in this process's memory: LRU over `maxEntries` across all scopes, and a TTL. */
export function memorySemanticStore(maxEntries: number, ttlMs: number): SemanticStore {
  const index = new SemanticIndex<SemanticEntry>(maxEntries, ttlMs);
  return {
    describe: `in-memory index (${maxEntries} entries, TTL ${ttlMs} ms)`,
    search(scope, vector, threshold, now) {
      const hit = index.search(scope, vector, threshold, now);
      return Promise.resolve(
        hit && {
          entry: hit.entry.payload,
          similarity: hit.similarity,
          ageMs: Math.max(0, now - hit.entry.storedAt),
        },
      );
    },
    add(scope, id, vector, entry, now) {
      index.add({
        id: `${scope}.${id}`,
        scope,
        vector,
        storedAt: now,
        payload: structuredClone(entry),
      });
      return Promise.resolve();
    },
  };
}
