// Load balancing: route config (ranks and groups), the pure orderings (weighted, latency P2C,
// sticky sessions) and the balancer that holds their live state.
export * from "./route_config.ts";
export * from "./weighted.ts";
export * from "./latency.ts";
export * from "./order.ts";
export * from "./balancer.ts";
