// What a virtual key lets a request use, as the planner reads it: the providers (and, per
// provider, the models) it may use, each with a weight. Pure helpers over that list; the key
// itself (schema, storage, limits) lives in src/governance/.
import type { Candidate } from "../../actors/supervisor/mod.ts";

/** One entry of a key's `providers`: a provider, optionally only some of its models. */
export interface KeyTarget {
  provider: string;
  /** Upstream model names this key may use on the provider; absent = any. */
  models?: readonly string[];
  /** Share of traffic as the primary for a bare model; 0 = fallback only. */
  weight: number;
}

/** The part of a virtual key the planner needs: its name (for messages) and its targets. */
export interface KeyScope {
  name: string;
  providers: readonly KeyTarget[];
}

/** Whether the key may send `c.model` to `c.provider`. */
export function allows(targets: readonly KeyTarget[], c: Candidate): boolean {
  return targets.some((t) =>
    t.provider === c.provider && (!t.models || t.models.includes(c.model))
  );
}

/** "openai/*, anthropic/claude-3-5-haiku-latest": what a key may use, for error messages. */
export function allowedList(targets: readonly KeyTarget[]): string {
  return targets.flatMap((t) =>
    t.models ? t.models.map((m) => `${t.provider}/${m}`) : [`${t.provider}/*`]
  )
    .join(", ");
}

/** Providers that allow `model`, with their summed weights, in the order the key lists them. */
export function eligible(targets: readonly KeyTarget[], model: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of targets) {
    if (t.models && !t.models.includes(model)) continue;
    out.set(t.provider, (out.get(t.provider) ?? 0) + t.weight);
  }
  return out;
}

/** Weighted choice with a draw in [0, 1); all weights zero → the first. */
export function pickWeighted(entries: readonly [string, number][], draw: number): string {
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  if (total <= 0) return entries[0][0];
  let at = draw * total;
  for (const [id, w] of entries) {
    if (w > 0 && at < w) return id;
    at -= w;
  }
  return entries.filter(([, w]) => w > 0).at(-1)![0];
}

/** Heaviest first; equal weights keep the key's order. */
export function byWeight(entries: readonly [string, number][]): string[] {
  return entries.map((e, i) => ({ e, i }))
    .sort((a, b) => b.e[1] - a.e[1] || a.i - b.i)
    .map(({ e }) => e[0]);
}
