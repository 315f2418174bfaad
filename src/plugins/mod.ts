// Plugins: the interface, the runner the pipeline wraps around every attempt, the built-in
// plugins (response cache, guardrail, header/metadata forwarding) and their config.
export * from "./plugin.ts";
export * from "./chain.ts";
export * from "./cache.ts";
export * from "./nats_cache_store.ts";
export * from "./guardrail.ts";
export * from "./headers.ts";
export * from "./config.ts";
export * from "./glue.ts";
