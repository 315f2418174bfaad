// A worker learns its siblings' provider state events two ways at start-up: handed over by the
// main thread as they happen, and in the JetStream replay (with NATS), which may already hold
// events a sibling decided while this worker was still replaying. Folding one twice counts an
// outcome twice (a breaker opening one failure early), so both ways go through this filter: each
// state event is folded once, known by what identifies it (an attempt's request and number, a
// transition's scope and moment). Bounded: the oldest keys are forgotten first.
import type { GatewayEvent } from "../events/catalogue.ts";

/** What names one state event across the ways it arrives; undefined for other kinds. */
export function foldKey(e: GatewayEvent): string | undefined {
  switch (e.type) {
    case "attempt.started":
    case "attempt.succeeded":
    case "attempt.failed":
    case "attempt.aborted":
      return `${e.type} ${e.provider} ${e.requestId} ${e.attempt}`;
    case "breaker.opened":
      return `${e.type} ${e.provider} ${e.model ?? ""} ${e.at} ${e.until}`;
    case "breaker.half_opened":
    case "breaker.closed":
      return `${e.type} ${e.provider} ${e.model ?? ""} ${e.at}`;
    case "ratelimit.blocked":
      return `${e.type} ${e.provider} ${e.key} ${e.model ?? ""} ${e.at} ${e.until}`;
    case "ratelimit.refilled":
      return `${e.type} ${e.provider} ${e.key} ${e.model ?? ""} ${e.at}`;
    case "model.unavailable":
      return `${e.type} ${e.provider} ${e.model} ${e.at}`;
    default:
      return undefined;
  }
}

/** True the first time a state event is seen (and for events it cannot name), false after. */
export function createFoldOnce(max = 8_192): (e: GatewayEvent) => boolean {
  const seen = new Set<string>();
  return (e) => {
    const key = foldKey(e);
    if (key === undefined) return true;
    if (seen.has(key)) return false;
    seen.add(key);
    // A Set iterates in insertion order: its first key is the oldest.
    if (seen.size > max) seen.delete(seen.values().next().value!);
    return true;
  };
}
