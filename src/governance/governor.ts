// The governor: virtual keys at run time, composed from one part per job — the key cache
// (key_cache.ts: stored keys loaded, then kept current by a watch, so checking a key costs no
// round trip), authentication (authenticate.ts), admission of the planned chain against
// rpm/tpm/budget in the shared store (admit.ts), charging what was spent (spend.ts), the admin
// operations (admin.ts) and the start-up lines (describe.ts). Every refusal is a `key.denied`
// event (refusal.ts) and every charge a `key.spend` event; neither ever carries a secret.
import type { Candidate } from "../../actors/supervisor/mod.ts";
import type { Config } from "../config.ts";
import type { GatewayEvent, UsageFacts } from "../events/catalogue.ts";
import type { Logger } from "../lib/logger.ts";
import type { Clock } from "../ports.ts";
import type { Plan, Planned } from "../routing/plan.ts";
import { createKeyAdmin, type KeyAdmin } from "./admin.ts";
import { createAdmit } from "./admit.ts";
import { createAuthenticate } from "./authenticate.ts";
import { warnUnknownTeams } from "./config_keys.ts";
import { describeKeys } from "./describe.ts";
import { createKeyCache } from "./key_cache.ts";
import type { KeyPolicy } from "./keys.ts";
import { createDeny, type Refusal } from "./refusal.ts";
import { createLevelAdmin, type LevelAdmin } from "./levels_admin.ts";
import { createSpend } from "./spend.ts";
import type { KeyStore } from "./store.ts";
import { createStoreHealth } from "./store_health.ts";

// Kept importable from here, where they were first declared.
export type { AdminResult, KeyUsageView } from "./admin.ts";
export type { DenyReason, Refusal } from "./refusal.ts";

export interface GovernorDeps {
  config: Pick<Config, "providers" | "pricing" | "virtualKeys" | "adminKey">;
  store: KeyStore;
  clock: Clock;
  publish(event: GatewayEvent): void;
  logger: Logger;
  /** How long the first requests wait for stored keys to load (default 5000 ms). */
  syncWaitMs?: number;
  /** Full reload of stored keys, a safety net for the watch (default 30 s; NATS only). */
  resyncMs?: number;
}

/**
 * The admin operations on keys come from KeyAdmin, those on customers and teams from LevelAdmin.
 */
export interface Governor extends KeyAdmin, LevelAdmin {
  /** Whether callers must present a key: some key is declared or stored (revoked ones count). */
  required(): boolean;
  /**
   * True when a call needs no key right now (stored keys loaded, none declared or stored): what
   * `authenticate` would answer for any credential, known without awaiting it.
   */
  open(): boolean;
  /** Who the caller is: a key, nobody (the gateway is open), or a refusal (401, or 503). */
  authenticate(
    credential: string | undefined,
    requestId: string,
  ): Promise<{ ok: true; key?: KeyPolicy } | Refusal>;
  /**
   * Plans the request with the key's latest policy (`plan`, the gateway's one planner) and admits
   * that chain against the key's limits and budget. A 403 from the plan is a `key.denied`.
   */
  admit(
    key: KeyPolicy,
    requestId: string,
    model: string,
    plan: (key: KeyPolicy) => Plan,
  ): Promise<Planned | Refusal>;
  /** Charges a served attempt's usage to the key (usage and spend in the shared store). */
  charge(key: KeyPolicy, requestId: string, served: Candidate, usage?: UsageFacts): Promise<void>;
  /** Start-up lines about keys and the admin API. */
  describe(): string[];
  /** Waits (bounded) until stored keys are loaded; false if they could not be. */
  loaded(): Promise<boolean>;
  close(): Promise<void>;
}

export function createGovernor(deps: GovernorDeps): Governor {
  const { config, store, clock, logger } = deps;
  const cache = createKeyCache({
    store,
    logger,
    declared: config.virtualKeys,
    syncWaitMs: deps.syncWaitMs,
    resyncMs: deps.resyncMs,
  });
  const deny = createDeny({ clock, publish: deps.publish });
  // Declared keys naming a team not in the store: said once the store has been read.
  if (config.virtualKeys.some((k) => k.team)) {
    void cache.loaded().then((ok) =>
      ok ? warnUnknownTeams(config.virtualKeys, store, logger) : undefined
    );
  }
  const health = createStoreHealth(logger);
  const spend = createSpend({
    pricing: config.pricing,
    cache,
    store,
    clock,
    publish: deps.publish,
    logger,
    health,
  });
  return {
    required: cache.required,
    open: () => cache.synced() && !cache.required(),
    authenticate: createAuthenticate({ cache, store, deny }),
    admit: createAdmit({ cache, store, clock, deny, health }),
    charge: spend.charge,
    loaded: cache.loaded,
    ...createKeyAdmin({ providers: config.providers, cache, store, clock, logger }),
    ...createLevelAdmin({ cache, store, clock, logger }),
    describe: () => describeKeys({ adminKey: config.adminKey, cache, store }),
    async close() {
      cache.stop();
      // Spend still being written is worth a short wait; a stuck store is not.
      await spend.drain(2_000);
      await store.close();
      await cache.settled;
    },
  };
}
