export * from "./decider.ts";
export * from "./supervisor.ts";
