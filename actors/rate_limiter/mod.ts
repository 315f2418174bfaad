export * from "./limiter.ts";
