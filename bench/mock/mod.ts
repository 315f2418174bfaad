// Public surface of the mock upstream used by tests, the README demo and benchmarks.
export { completionText, parseFaults, startMockUpstream } from "./server.ts";
export type { Fault, MockOptions, MockUpstream } from "./server.ts";
