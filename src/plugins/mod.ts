// Plugins: the interface, the runner the pipeline wraps around every attempt, the built-in
// plugins (response cache, semantic cache, guardrail, header/metadata forwarding) and their config.
export type {
  Answer,
  AttemptContext,
  AttemptOutcome,
  CanonicalRequest,
  Plugin,
  PostContext,
  RequestContext,
  Stop,
} from "./plugin.ts";
export {
  createPluginChain,
  type PluginChain,
  type PluginChainDeps,
  type RequestPlugins,
} from "./chain.ts";
export { cachePlugin, type CacheStore, memoryCacheStore } from "./cache.ts";
export { natsCacheStore } from "./nats_cache_store.ts";
export {
  type Embed,
  memorySemanticStore,
  semanticCachePlugin,
  type SemanticStore,
} from "./semantic_cache.ts";
export { natsSemanticStore } from "./nats_semantic_store.ts";
export { guardrailPlugin } from "./guardrail.ts";
export { headersPlugin } from "./headers.ts";
export {
  buildPlugins,
  type BuiltPlugins,
  type PluginConfig,
  PluginsSchema,
} from "./plugin_config.ts";
export { answeredState, withUpstreamHeaders } from "./around_attempts.ts";
