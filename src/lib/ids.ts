// Time-ordered ids: 12 hex digits of milliseconds, a per-process counter and random bits, so ids
// sort by creation time (useful in JetStream and logs) and never collide across replicas.
import type { IdGen } from "../ports.ts";

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const TAIL_BYTES = 5;

export function createIdGen(prefix = ""): IdGen {
  let lastMs = 0;
  let seq = 0;
  // Random bytes drawn in batches: one call into the runtime per 800 ids rather than per id.
  const pool = new Uint8Array(TAIL_BYTES * 800);
  let at = pool.length;
  return {
    next() {
      const ms = Date.now();
      if (ms === lastMs) seq++;
      else {
        lastMs = ms;
        seq = 0;
      }
      if (at === pool.length) {
        crypto.getRandomValues(pool);
        at = 0;
      }
      let tail = "";
      for (let i = 0; i < TAIL_BYTES; i++) tail += HEX[pool[at++]];
      return prefix + ms.toString(16).padStart(12, "0") + seq.toString(16).padStart(4, "0") + tail;
    },
  };
}
