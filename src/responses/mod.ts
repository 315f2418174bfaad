// Stored Responses API answers: the interface, its memory and NATS KV stores, and the choice.
export { conversationOf, ResponseStoreUnavailable } from "./store.ts";
export type { Item, ResponseStore, StoredResponse } from "./store.ts";
export { createMemoryResponseStore } from "./memory_store.ts";
export { createNatsResponseStore } from "./nats_store.ts";
export { responseStoreFor } from "./store_for.ts";
