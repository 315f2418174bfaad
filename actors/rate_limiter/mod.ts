// Rate limiting: token buckets for RPM and TPM per key and model, and the blocks an upstream 429
// sets, as pure functions folded inside the provider actor.
export {
  evolveLimiter,
  initialLimiter,
  type LimiterConfig,
  type LimiterEvent,
  limiterGate,
  type LimiterState,
  limiterTick,
  refill,
} from "./limiter.ts";
