// Workers: one gateway per core on one port, sharing every number (docs/operations.md#workers).
export {
  planWorkers,
  reusePortUnavailable,
  type WorkerPlan,
  WorkersError,
  workersLine,
} from "./count.ts";
export { type RunningWorkers, runWorkers } from "./run.ts";
export { createHub, type Hub, type HubOptions } from "./hub.ts";
export { createWorkerLink, type WorkerLink } from "./link.ts";
export { createSharedBus, type SharedBusOptions } from "./shared_bus.ts";
export {
  sharedCacheStore,
  sharedKeyStore,
  sharedLeases,
  sharedResponseStore,
} from "./shared_stores.ts";
export { createLeaseTable, type LeaseTable } from "./lease_table.ts";
export { foldOtherWorkers } from "./fold_replicas.ts";
