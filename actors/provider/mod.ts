// The provider actor: one per configured provider, owning its breakers and rate limiters as a
// pure decider (./decider.ts), the actor shell around it, and the read-only availability check.
export {
  createProviderDecider,
  dueEpisodes,
  episodeKey,
  type FailureFacts,
  nextWakeAt,
  type Outcome,
  pickWeighted,
  PROBE_ELSEWHERE_RETRY_MS,
  probeEpisode,
  type ProviderActorConfig,
  type ProviderCommand,
  type ProviderState,
} from "./decider.ts";
export {
  type BreakerSnapshot,
  type LimiterSnapshot,
  type ProviderActor,
  type ProviderSnapshot,
  spawnProviderActor,
} from "./actor.ts";
export { type Availability, availability } from "./availability.ts";
export type { LeaseGrant, ProbeLeases } from "./probe_leases.ts";
