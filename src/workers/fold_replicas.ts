// Without NATS, the workers of one process are replicas of one another exactly as gateways on
// one NATS are (src/events/follow_replicas.ts): each hands the provider state events of the
// *other* workers, as the main thread brings them (only those, never its own: they were folded
// when decided), to its provider actors, which fold them without publishing.
import type { ProviderActor } from "../../actors/provider/mod.ts";
import type { Registry } from "../../actors/runtime/mod.ts";
import { stateEventProvider } from "../events/replay.ts";
import type { GatewayEvent } from "../events/catalogue.ts";
import type { Logger } from "../lib/logger.ts";
import type { WorkerLink } from "./link.ts";

export interface FoldOptions {
  link: Pick<WorkerLink, "onState">;
  /** False for an event already folded (./fold_once.ts); default: fold all. */
  once?: (event: GatewayEvent) => boolean;
  actors: Registry<ProviderActor>;
  logger: Logger;
}

/** Starts folding; returns the function that stops it, with the count folded so far. */
export function foldOtherWorkers(o: FoldOptions): { stop(): void; readonly folded: number } {
  let folded = 0;
  const stop = o.link.onState((event) => {
    const provider = stateEventProvider(event);
    if (provider === undefined) return;
    const actor = o.actors.get(provider);
    if (!actor || o.once?.(event) === false) return;
    folded++;
    try {
      actor.hydrate([event]);
    } catch (err) {
      o.logger.error("folding another worker's event failed", {
        type: event.type,
        error: String(err),
      });
    }
  });
  return {
    stop,
    get folded() {
      return folded;
    },
  };
}
