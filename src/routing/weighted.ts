// Weighted order among equal-rank targets: the first is drawn with probability weight/total, the
// next among those left, and so on (sampling without replacement). One draw per position, all
// from the injected random source, so a seeded source gives a reproducible order.
import { pickWeighted } from "../../actors/provider/mod.ts";
import type { Random } from "../ports.ts";

export function weightedOrder<T extends { weight: number }>(
  items: readonly T[],
  random: Random,
): T[] {
  const left = items.map((item, i) => ({ item, i, weight: item.weight }));
  const out: T[] = [];
  while (left.length > 1) {
    const pick = pickWeighted(left, random());
    out.push(pick.item);
    left.splice(left.indexOf(pick), 1);
  }
  if (left.length === 1) out.push(left[0].item);
  return out;
}
