// Governance: virtual keys, their limits and budgets, and the store they live in. The public
// surface for the rest of the gateway (the HTTP admission hooks are src/http/admission.ts).
export { createGovernor, type Governor, type GovernorDeps } from "./governor.ts";
export { type AdminResult, type KeyUsageView } from "./admin.ts";
export {
  CustomerFieldsSchema,
  CustomerPatchSchema,
  type LevelKind,
  type LevelView,
  TeamFieldsSchema,
  TeamPatchSchema,
} from "./levels.ts";
export { type LevelWithUsage } from "./levels_admin.ts";
export { type DenyReason, type Refusal } from "./refusal.ts";
export {
  type KeyFields,
  KeyFieldsSchema,
  type KeyPatch,
  KeyPatchSchema,
  type KeyPolicy,
  type KeyRecord,
  type KeyTarget,
  type KeyView,
} from "./keys.ts";
export {
  type ConfigKeyInput,
  configKeySchema,
  resolveConfigKeys,
  type VirtualKeyConfig,
} from "./config_keys.ts";
export {
  casUpdate,
  type KeyStore,
  StoreContention,
  StoreUnavailable,
  type Versioned,
} from "./store.ts";
export { createMemoryKeyStore } from "./memory_store.ts";
export { createNatsKeyStore, type NatsKeyStoreOptions } from "./nats_store.ts";
export { keyStoreFor } from "./store_for.ts";
export { type Budget, type Limits } from "./usage.ts";
export { type Price, priceOf, toUsd } from "./pricing.ts";
export { type Period, PERIODS } from "./periods.ts";
