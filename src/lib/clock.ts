import type { Clock } from "../ports.ts";

/** Epoch milliseconds with sub-millisecond resolution, monotonic within the process. */
export const systemClock: Clock = { now: () => performance.timeOrigin + performance.now() };
