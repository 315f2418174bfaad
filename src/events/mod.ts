// The events folder's public surface: the catalogue (the contract), its CloudEvents envelope,
// the two EventBus implementations and the one-line formatter used by `deno task events`.
export * from "./catalogue.ts";
export * from "./envelope.ts";
export * from "./format.ts";
export * from "./memory_bus.ts";
export * from "./nats_bus.ts";
