export { type Decider, DomainError, replay } from "./decider.ts";
export { type ActorOptions, type ActorRef, spawn } from "./actor.ts";
export { Registry, type Stoppable } from "./actor_registry.ts";
