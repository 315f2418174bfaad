// The in-process bus: used when NATS_URL is not set, and as the local fan-out inside the NATS bus.
import type { BusStats, EventBus } from "../ports.ts";
import type { GatewayEvent } from "./catalogue.ts";
import { createLogger, type Logger } from "../lib/logger.ts";

export interface MemoryBusOptions {
  /** Where a throwing listener is reported (default: stderr). */
  logger?: Logger;
}

export function createMemoryBus(opts: MemoryBusOptions = {}): EventBus {
  const logger = opts.logger ?? createLogger("warn");
  // Replaced, never changed in place (subscribing is rare, publishing is per transition): a
  // publish walks the array it started with, so a listener that unsubscribes itself does not skip
  // its neighbour, and no snapshot is copied per event. With no subscriber a publish is a count.
  let listeners: readonly ((event: GatewayEvent) => void)[] = [];
  let published = 0;
  return {
    kind: "memory",
    describe: "in-process event bus (NATS_URL not set)",
    publish(event) {
      published++;
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (err) {
          // One broken consumer (metrics, an SSE relay) must never fail a request or starve others.
          logger.error("event listener threw", { type: event.type, error: String(err) });
        }
      }
    },
    subscribe(listener) {
      // Wrapped so the same function subscribed twice gets two independent subscriptions.
      const entry = (event: GatewayEvent) => listener(event);
      listeners = [...listeners, entry];
      return () => void (listeners = listeners.filter((l) => l !== entry));
    },
    stats(): BusStats {
      return { published, dropped: 0, buffered: 0, connected: true };
    },
    close() {
      listeners = [];
      return Promise.resolve();
    },
  };
}
