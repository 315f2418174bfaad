import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import { storeContract } from "./_store_contract.ts";

storeContract("memory", () => {
  const store = createMemoryKeyStore();
  return Promise.resolve({ store, close: () => store.close() });
});
