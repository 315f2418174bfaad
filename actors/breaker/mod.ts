// The circuit breaker: a pure state machine (closed → open → half-open with probe slots), one
// per model and one per provider, folded inside the provider actor.
export {
  attemptKey,
  type BreakerConfig,
  type BreakerEvent,
  type BreakerScope,
  type BreakerState,
  type BreakerStatus,
  evolveBreaker,
  failureStats,
  type Gate,
  gate,
  initialBreaker,
  judge,
  type Judgement,
  nextOpenMs,
  tick,
} from "./breaker.ts";
