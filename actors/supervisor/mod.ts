// The supervisor: one per request, it runs the candidate chain (retry, fall over, give up) as a
// pure decider (./decider.ts) in a shell that asks the provider actors and runs the attempts.
export {
  type AttemptSummary,
  type Candidate,
  type ChainStop,
  type ContinuedInfo,
  createSupervisorDecider,
  initialSupervisor,
  parseCandidate,
  type SupervisorCommand,
  type SupervisorConfig,
  type SupervisorState,
} from "./decider.ts";
export {
  type AttemptInput,
  type AttemptResult,
  type RequestInput,
  supervise,
  type Supervised,
  type SupervisorDeps,
} from "./supervisor.ts";
