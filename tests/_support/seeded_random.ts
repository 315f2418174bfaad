// A small seeded PRNG (mulberry32) for tests that need many reproducible draws in [0, 1).
import type { Random } from "../../src/ports.ts";

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws from a fixed list, in order (then fails loudly). */
export function scriptedRandom(draws: number[]): Random {
  let i = 0;
  return () => {
    if (i >= draws.length) throw new Error(`scriptedRandom: only ${draws.length} draws scripted`);
    return draws[i++];
  };
}
