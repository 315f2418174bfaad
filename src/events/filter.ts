// Client-side filters over gateway CloudEvents, shared by `deno task events`, `deno task audit`
// and the SSE relay. NATS subjects already filter by category, event and provider; these add
// what a subject cannot say (a fallback away from a provider, a list of types).
import { EVENT_TYPES } from "./catalogue.ts";
import type { CloudEvent } from "./envelope.ts";

/** The provider ids a CloudEvent concerns: its own, and for fallback.taken the one left behind. */
export function providersOf(ce: CloudEvent): string[] {
  const data = (ce?.data ?? {}) as { provider?: unknown; fromProvider?: unknown };
  const out: string[] = [];
  if (typeof data.provider === "string") out.push(data.provider);
  if (typeof data.fromProvider === "string" && data.fromProvider !== data.provider) {
    out.push(data.fromProvider);
  }
  return out;
}

/** True when the event is about `provider` (including a fallback away from it). */
export function concernsProvider(ce: CloudEvent, provider: string): boolean {
  return providersOf(ce).includes(provider);
}

export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterError";
  }
}

/**
 * Parses a comma-separated type list into a predicate over CloudEvent types. Each entry is an
 * event type (`fallback.taken`, with or without the `gateway.` prefix), a category (`breaker`)
 * or a category wildcard (`breaker.*`). An entry that matches no catalogue type is an error, so
 * a typo does not silently filter everything out.
 */
export function typeMatcher(list: string): (ce: CloudEvent) => boolean {
  const entries = list.split(",").map((s) => s.trim().replace(/^gateway\./, "")).filter(Boolean);
  if (entries.length === 0) throw new FilterError("empty type list");
  const wanted = new Set<string>();
  for (const entry of entries) {
    const category = entry.endsWith(".*") ? entry.slice(0, -2) : entry.includes(".") ? "" : entry;
    const hits = category
      ? EVENT_TYPES.filter((t) => t.startsWith(`${category}.`))
      : EVENT_TYPES.filter((t) => t === entry);
    if (hits.length === 0) {
      throw new FilterError(
        `unknown event type "${entry}"; known types: ${EVENT_TYPES.join(", ")}`,
      );
    }
    for (const t of hits) wanted.add(`gateway.${t}`);
  }
  return (ce) => wanted.has(ce?.type);
}
