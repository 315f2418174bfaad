// Which ResponseStore a gateway uses: the NATS KV bucket when NATS is configured (every replica
// sees every response), else the in-process one.
import type { Config } from "../config.ts";
import type { Logger } from "../lib/logger.ts";
import type { Clock } from "../ports.ts";
import { createMemoryResponseStore } from "./memory_store.ts";
import { createNatsResponseStore } from "./nats_store.ts";
import type { ResponseStore } from "./store.ts";

export function responseStoreFor(
  config: Pick<Config, "nats" | "responses">,
  deps: { logger: Logger; clock: Clock },
): ResponseStore {
  const { ttlMs, bucket } = config.responses;
  if (!config.nats.url) return createMemoryResponseStore({ ttlMs, clock: deps.clock });
  // The gateway's own servers, credential and CA (config.nats.url is only the redacted display).
  return createNatsResponseStore({
    access: config.nats,
    replicas: config.nats.replicas,
    bucket,
    ttlMs,
    logger: deps.logger,
  });
}
