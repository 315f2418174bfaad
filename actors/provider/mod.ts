export * from "./decider.ts";
export * from "./actor.ts";
