// Public surface of the mock upstream used by tests, the README demo and benchmarks.
export { completionPieces, completionText, startMockUpstream } from "./server.ts";
export type { MockCallRecord, MockOptions, MockUpstream } from "./server.ts";
export { applies, FAULT_KINDS, parseFaults } from "./faults.ts";
export type { Fault } from "./faults.ts";
// The wire formats, for tools that list their routes or base URLs (see formats/format.ts).
export { FORMATS } from "./formats/mod.ts";
export type { MockFormat } from "./formats/mod.ts";
