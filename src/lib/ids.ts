// Time-ordered ids: 12 hex digits of milliseconds, a per-process counter and random bits, so ids
// sort by creation time (useful in JetStream and logs) and never collide across replicas.
import type { IdGen } from "../ports.ts";

export function createIdGen(prefix = ""): IdGen {
  let lastMs = 0;
  let seq = 0;
  const rand = new Uint8Array(5);
  return {
    next() {
      const ms = Date.now();
      if (ms === lastMs) seq++;
      else {
        lastMs = ms;
        seq = 0;
      }
      crypto.getRandomValues(rand);
      let tail = "";
      for (const b of rand) tail += b.toString(16).padStart(2, "0");
      return prefix + ms.toString(16).padStart(12, "0") + seq.toString(16).padStart(4, "0") + tail;
    },
  };
}
