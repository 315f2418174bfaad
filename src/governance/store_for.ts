// Which KeyStore a gateway uses: the NATS KV bucket when NATS is configured (so every replica
// shares keys, usage and spend), else the in-process one.
import type { Config } from "../config.ts";
import type { Logger } from "../lib/logger.ts";
import { createMemoryKeyStore } from "./memory_store.ts";
import { createNatsKeyStore } from "./nats_store.ts";
import type { KeyStore } from "./store.ts";

export function keyStoreFor(
  config: Pick<Config, "nats" | "instance">,
  logger: Logger,
): KeyStore {
  if (!config.nats.url) return createMemoryKeyStore();
  return createNatsKeyStore({
    access: config.nats,
    replicas: config.nats.replicas,
    instance: config.instance,
    logger,
  });
}
