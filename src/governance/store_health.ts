// Whether the shared store answered the last time admission or charging needed it. When it does
// not, keyed requests are served without their limits (rather than all failing); the change
// either way is logged once, not per request.
import type { Logger } from "../lib/logger.ts";

export interface StoreHealth {
  /** The store failed during `what`: warn the first time in a row. */
  failed(what: string, err: unknown): void;
  /** The store answered: say so if it had been failing. */
  recovered(): void;
}

export function createStoreHealth(logger: Logger): StoreHealth {
  let failing = false;
  return {
    failed(what, err) {
      if (!failing) {
        logger.warn(`virtual keys: ${what} without the shared store; limits not enforced`, {
          error: String(err),
        });
      }
      failing = true;
    },
    recovered() {
      if (failing) logger.info("virtual keys: shared store reachable again");
      failing = false;
    },
  };
}
