// Public surface of the mock upstream used by tests, the README demo and benchmarks.
export { completionText, parseFaults, startMockUpstream } from "./server.ts";
export type { Fault, MockOptions, MockUpstream } from "./server.ts";
// The wire formats, for tools that list their routes or base URLs (see formats/format.ts).
export { FORMATS } from "./formats/mod.ts";
export type { MockFormat } from "./formats/mod.ts";
