// The events folder's public surface: the catalogue (the contract), its CloudEvents envelope,
// the two EventBus implementations and the one-line formatter used by `deno task events`.
export {
  EVENT_TYPES,
  type EventOf,
  type EventType,
  type FailureKind,
  type GatewayEvent,
  SCHEMA_VERSION,
  type SkipReason,
  subjectOf,
  type UsageFacts,
} from "./catalogue.ts";
export { type CloudEvent, fromCloudEvent, toCloudEvent } from "./envelope.ts";
export { formatEventLine } from "./format.ts";
export { createMemoryBus, type MemoryBusOptions } from "./memory_bus.ts";
export { createNatsBus, type NatsBusOptions } from "./nats_bus.ts";
