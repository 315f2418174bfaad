// Governance: virtual keys, their limits and budgets, and the store they live in. The public
// surface for the rest of the gateway.
export * from "./chain.ts";
export * from "./config_keys.ts";
export * from "./enforce.ts";
export * from "./governor.ts";
export * from "./keys.ts";
export * from "./memory_store.ts";
export * from "./nats_store.ts";
export * from "./periods.ts";
export * from "./pricing.ts";
export * from "./store.ts";
export * from "./usage.ts";
export * from "./store_for.ts";
