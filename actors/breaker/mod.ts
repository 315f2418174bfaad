export * from "./breaker.ts";
