export * from "./decider.ts";
export * from "./actor.ts";
export * from "./availability.ts";
