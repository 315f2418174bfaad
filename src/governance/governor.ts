// The governor: virtual keys at run time. It keeps the known keys in memory (loaded from the
// store, then kept current by a watch, so checking a key costs no round trip), authenticates
// callers, admits the chain the planner gives their key against rpm/tpm/budget in the shared store
// and charges what they spent. Every refusal is a `key.denied` event and every charge a
// `key.spend` event; neither ever carries a secret.
import type { GatewayError } from "../lib/errors.ts";
import type { Candidate } from "../../actors/supervisor/mod.ts";
import type { Config } from "../config.ts";
import type { GatewayEvent, UsageFacts } from "../events/catalogue.ts";
import type { Logger } from "../lib/logger.ts";
import { constantTimeEqual, newVirtualKey, saltedDigest, virtualKeyId } from "../lib/secrets.ts";
import type { Clock } from "../ports.ts";
import type { Plan, Planned } from "../routing/plan.ts";
import type { VirtualKeyConfig } from "./config_keys.ts";
import {
  applyPatch,
  type KeyFields,
  type KeyPatch,
  type KeyPolicy,
  type KeyRecord,
  type KeyView,
  keyView,
  parseRecord,
  unknownProviders,
} from "./keys.ts";
import { periodEnd, periodStart, WINDOW_MS } from "./periods.ts";
import { costNanoUsd, priceOf, toUsd } from "./pricing.ts";
import { casUpdate, type KeyStore, StoreUnavailable } from "./store.ts";
import { currentSpend, currentWindow, parseUsage, usageDecider, type UsageEvent } from "./usage.ts";

export type DenyReason =
  | "unknown"
  | "revoked"
  | "model_not_allowed"
  | "rate_limited"
  | "over_budget";

/** A refusal before any upstream call, for the pipeline to shape as its route's error. */
export type Refusal = GatewayError & {
  /** Set for refusals that are about the credentials (401): answer with WWW-Authenticate. */
  authenticate?: boolean;
};

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

/** What the admin API shows for a key: its view plus its current usage. */
export interface KeyUsageView {
  minute: { requests: number; tokens: number; resets_at: string };
  spend: {
    period: string;
    period_start: string;
    resets_at: string;
    spent_usd: number;
    budget_usd: number | null;
    remaining_usd: number | null;
  };
}

export type AdminResult<T> = { ok: true; value: T } | {
  ok: false;
  status: number;
  code: string;
  message: string;
};

export interface Governor {
  /** Whether callers must present a key: some key is declared or stored (revoked ones count). */
  required(): boolean;
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
  createKey(fields: KeyFields): Promise<AdminResult<{ view: KeyView; secret: string }>>;
  listKeys(): Promise<(KeyView & { usage: KeyUsageView | null })[]>;
  getKey(id: string): Promise<AdminResult<KeyView & { usage: KeyUsageView | null }>>;
  updateKey(id: string, patch: KeyPatch): Promise<AdminResult<KeyView>>;
  revokeKey(id: string): Promise<AdminResult<KeyView>>;
  /** Start-up lines about keys and the admin API. */
  describe(): string[];
  /** Waits (bounded) until stored keys are loaded; false if they could not be. */
  loaded(): Promise<boolean>;
  close(): Promise<void>;
}

const CONFIG_SALT = "config-key";
const usageKey = (id: string) => `usage.${id}`;
const recordKey = (id: string) => `key.${id}`;
const isoOf = (ms: number) => new Date(ms).toISOString();

export function createGovernor(deps: GovernorDeps): Governor {
  const { config, store, clock, logger } = deps;
  const syncWaitMs = deps.syncWaitMs ?? 5_000;
  /** Stored (admin-created) keys by id, with the revision we last saw. */
  const cache = new Map<string, { record: KeyRecord; revision: number }>();
  const declared: readonly VirtualKeyConfig[] = config.virtualKeys;
  const declaredDigests = Promise.all(declared.map((k) => saltedDigest(CONFIG_SALT, k.secret)));
  let synced = false;
  let closed = false;
  let stopWatch: (() => void) | undefined;
  let resync: ReturnType<typeof setInterval> | undefined;
  let storeFailing = false;
  const unpriced = new Set<string>();
  const charges = new Set<Promise<void>>();

  function apply(key: string, entry: { value: unknown; revision: number } | undefined) {
    const id = key.slice("key.".length);
    if (!entry) return void cache.delete(id);
    const record = parseRecord(entry.value);
    const known = cache.get(id);
    if (!record || (known && known.revision >= entry.revision)) return;
    cache.set(id, { record, revision: entry.revision });
  }

  async function syncOnce() {
    // Watch first, then list: a write between the two is seen by one or the other, and
    // revisions decide which is newer.
    stopWatch ??= await store.watch("key.", apply);
    for (const [key, entry] of await store.list("key.")) apply(key, entry);
  }

  let wakeSync: (() => void) | undefined;
  const syncing: Promise<void> = (async () => {
    let warned = false;
    while (!closed) {
      try {
        await syncOnce();
        synced = true;
        if (store.kind === "nats") {
          logger.info("virtual keys loaded", {
            stored: cache.size,
            declared: declared.length,
            mode: required() ? "keys required" : "open",
          });
          resync = setInterval(
            () => syncOnce().catch(() => {}),
            deps.resyncMs ?? 30_000,
          );
        }
        return;
      } catch (err) {
        if (!warned) logger.warn("virtual keys: store not reachable yet", { error: String(err) });
        warned = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 500);
          wakeSync = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();

  async function loaded(): Promise<boolean> {
    if (synced) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([syncing, new Promise((r) => timer = setTimeout(r, syncWaitMs))]);
    clearTimeout(timer);
    return synced;
  }

  function required(): boolean {
    return declared.length > 0 || cache.size > 0;
  }

  function deny(
    requestId: string,
    reason: DenyReason,
    refusal: Omit<Refusal, "ok">,
    extra: { virtualKey?: string; model?: string } = {},
  ): Refusal {
    deps.publish({
      type: "key.denied",
      at: clock.now(),
      requestId,
      reason,
      status: refusal.status,
      ...extra,
      ...(refusal.retryAfterMs !== undefined ? { retryAfterMs: refusal.retryAfterMs } : {}),
    });
    return { ok: false, ...refusal };
  }

  const unauthorized = (requestId: string, reason: DenyReason, message: string, code: string) =>
    deny(requestId, reason, {
      status: 401,
      type: "invalid_request_error",
      code,
      message,
      param: null,
      authenticate: true,
    });

  const storeDown = (what: string): Refusal => ({
    ok: false,
    status: 503,
    type: "unavailable",
    code: "key_store_unavailable",
    message: `The gateway cannot check virtual keys right now (${what}); retry shortly.`,
    param: null,
    retryAfterMs: 1_000,
  });

  async function storedRecord(id: string): Promise<KeyRecord | undefined> {
    const known = cache.get(id);
    if (known) return known.record;
    // Created on another replica a moment ago: the watch has not brought it yet.
    const entry = await store.get(recordKey(id));
    if (!entry) return undefined;
    apply(recordKey(id), entry);
    return parseRecord(entry.value);
  }

  async function authenticate(credential: string | undefined, requestId: string) {
    if (!(await loaded()) && declared.length === 0) {
      return storeDown(`the key store (${store.describe}) is not reachable`);
    }
    if (!required()) return { ok: true as const };
    if (!credential) {
      return unauthorized(
        requestId,
        "unknown",
        "This gateway requires a virtual key: send it as `Authorization: Bearer vk-…` (or x-api-key / x-goog-api-key).",
        "missing_api_key",
      );
    }
    const id = virtualKeyId(credential);
    if (id !== undefined) {
      let record: KeyRecord | undefined;
      try {
        record = await storedRecord(id);
      } catch (err) {
        if (err instanceof StoreUnavailable) return storeDown(err.message);
        throw err;
      }
      if (record && constantTimeEqual(await saltedDigest(record.salt, credential), record.hash)) {
        if (record.revokedAt !== undefined) {
          return unauthorized(
            requestId,
            "revoked",
            `The virtual key "${record.name}" was revoked.`,
            "revoked_api_key",
          );
        }
        return { ok: true as const, key: record };
      }
    } else if (declared.length > 0) {
      const digest = await saltedDigest(CONFIG_SALT, credential);
      const digests = await declaredDigests;
      const i = digests.findIndex((d) => constantTimeEqual(d, digest));
      if (i >= 0) return { ok: true as const, key: declared[i] };
    }
    return unauthorized(requestId, "unknown", "Unknown virtual key.", "invalid_api_key");
  }

  /** The latest policy for a key (a PATCH on any replica applies to the next request). */
  const latest = (key: KeyPolicy): KeyPolicy => cache.get(key.id)?.record ?? key;

  async function admit(
    given: KeyPolicy,
    requestId: string,
    model: string,
    plan: (key: KeyPolicy) => Plan,
  ) {
    const key = latest(given);
    const chain = plan(key);
    if (!chain.ok) {
      // The plan's own error, as it is; a 403 is also a key.denied.
      return chain.status === 403
        ? deny(requestId, "model_not_allowed", chain, { virtualKey: key.id, model })
        : chain;
    }
    const { limits, budget } = key;
    if (limits?.rpm === undefined && limits?.tpm === undefined && !budget) return chain;
    let verdict: UsageEvent;
    try {
      verdict = await casUpdate(store, usageKey(key.id), (current) => {
        const state = parseUsage(current);
        const [event] = usageDecider.decide(state, {
          kind: "admit",
          now: clock.now(),
          limits,
          budget,
        });
        const write = event.type === "admitted" ? usageDecider.evolve(state, event) : undefined;
        return { write, result: event };
      });
      storeRecovered();
    } catch (err) {
      // The shared counters are out of reach: serve rather than fail every keyed request.
      storeFailed("admission", err);
      return chain;
    }
    if (verdict.type === "over_budget") {
      return deny(requestId, "over_budget", {
        status: 402,
        type: "quota",
        code: "budget_exceeded",
        param: null,
        message: `The virtual key "${key.name}" has spent its budget of $${budget!.usd} for this ${
          budget!.period === "1d" ? "day" : budget!.period === "1w" ? "week" : "month"
        } ($${toUsd(verdict.spentNanoUsd).toFixed(6)}); it resets at ${isoOf(verdict.resetsAt)}.`,
        retryAfterMs: verdict.retryAfterMs,
      }, { virtualKey: key.id, model });
    }
    if (verdict.type === "rate_limited") {
      return deny(requestId, "rate_limited", {
        status: 429,
        type: "rate_limit",
        code: "rate_limit_exceeded",
        param: null,
        message:
          `The virtual key "${key.name}" is over its ${verdict.limit} limit (${verdict.used} of ${verdict.max} this minute).`,
        retryAfterMs: verdict.retryAfterMs,
      }, { virtualKey: key.id, model });
    }
    return chain;
  }

  function storeFailed(what: string, err: unknown) {
    if (!storeFailing) {
      logger.warn(`virtual keys: ${what} without the shared store; limits not enforced`, {
        error: String(err),
      });
    }
    storeFailing = true;
  }
  function storeRecovered() {
    if (storeFailing) logger.info("virtual keys: shared store reachable again");
    storeFailing = false;
  }

  async function record(key: KeyPolicy, requestId: string, served: Candidate, usage?: UsageFacts) {
    const promptTokens = usage?.promptTokens ?? 0;
    const completionTokens = usage?.completionTokens ?? 0;
    const price = priceOf(config.pricing, served.provider, served.model);
    const ref = `${served.provider}/${served.model}`;
    if (!price && !unpriced.has(ref)) {
      unpriced.add(ref);
      logger.warn("no pricing for a model served to a virtual key; its spend counts as $0", {
        model: ref,
      });
    }
    const cost = price ? costNanoUsd(price, { promptTokens, completionTokens }) : 0;
    const period = latest(key).budget?.period ?? "1M";
    const now = clock.now();
    let spent: number;
    try {
      spent = await casUpdate(store, usageKey(key.id), (current) => {
        const state = parseUsage(current);
        const next = usageDecider.decide(state, {
          kind: "record",
          now,
          tokens: promptTokens + completionTokens,
          costNanoUsd: cost,
          period,
        }).reduce(usageDecider.evolve, state);
        return { write: next, result: next.spentNanoUsd };
      });
      storeRecovered();
    } catch (err) {
      storeFailed("spend recording", err);
      return;
    }
    const budget = latest(key).budget;
    deps.publish({
      type: "key.spend",
      at: now,
      requestId,
      virtualKey: key.id,
      provider: served.provider,
      model: served.model,
      promptTokens,
      completionTokens,
      costUsd: toUsd(cost),
      priced: price !== undefined,
      periodSpentUsd: toUsd(spent),
      ...(budget ? { budgetUsd: budget.usd } : {}),
    });
  }

  function charge(key: KeyPolicy, requestId: string, served: Candidate, usage?: UsageFacts) {
    const p = record(key, requestId, served, usage).catch((err) =>
      logger.error("virtual keys: charging failed", { virtualKey: key.id, error: String(err) })
    );
    charges.add(p);
    return p.finally(() => charges.delete(p));
  }

  async function usageOf(key: KeyPolicy): Promise<KeyUsageView | null> {
    let state;
    try {
      state = parseUsage((await store.get(usageKey(key.id)))?.value);
    } catch {
      return null;
    }
    const now = clock.now();
    const period = key.budget?.period ?? "1M";
    const start = periodStart(now, period);
    const w = currentWindow(state, now);
    const spent = toUsd(currentSpend(state, now, period));
    return {
      minute: {
        requests: w.requests,
        tokens: w.tokens,
        resets_at: isoOf(Math.floor(now / WINDOW_MS) * WINDOW_MS + WINDOW_MS),
      },
      spend: {
        period,
        period_start: isoOf(start),
        resets_at: isoOf(periodEnd(start, period)),
        spent_usd: spent,
        budget_usd: key.budget?.usd ?? null,
        remaining_usd: key.budget ? Math.max(0, key.budget.usd - spent) : null,
      },
    };
  }

  const notFound = (id: string) => ({
    ok: false as const,
    status: 404,
    code: "key_not_found",
    message: `No virtual key with id "${id}".`,
  });
  const fromConfig = (id: string) => ({
    ok: false as const,
    status: 409,
    code: "key_declared_in_config",
    message: `The virtual key "${id}" is declared in gateway.json; change it there.`,
  });
  const badProviders = (problems: string[]) => ({
    ok: false as const,
    status: 400,
    code: "unknown_provider",
    message: problems.join(" "),
  });

  async function allStored(): Promise<KeyRecord[]> {
    const out: KeyRecord[] = [];
    for (const [key, entry] of await store.list("key.")) {
      apply(key, entry);
      const r = parseRecord(entry.value);
      if (r) out.push(r);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  return {
    required,
    authenticate,
    admit,
    charge,
    loaded,
    async createKey(fields) {
      const problems = unknownProviders(fields.providers, config.providers);
      if (problems.length) return badProviders(problems);
      const { id, secret, salt } = newVirtualKey();
      const now = clock.now();
      const record: KeyRecord = {
        id,
        ...fields,
        createdAt: now,
        updatedAt: now,
        salt,
        hash: await saltedDigest(salt, secret),
      };
      const revision = await store.put(recordKey(id), record, 0);
      if (revision === undefined) throw new Error(`virtual key id ${id} already exists`);
      apply(recordKey(id), { value: record, revision });
      logger.info("virtual key created", { id, name: record.name });
      return { ok: true, value: { view: keyView(record, "admin"), secret } };
    },
    async listKeys() {
      const keys: [KeyPolicy, "config" | "admin"][] = [
        ...declared.map((k) => [k, "config"] as [KeyPolicy, "config"]),
        ...(await allStored()).map((r) => [r, "admin"] as [KeyPolicy, "admin"]),
      ];
      return await Promise.all(
        keys.map(async ([k, source]) => ({ ...keyView(k, source), usage: await usageOf(k) })),
      );
    },
    async getKey(id) {
      const d = declared.find((k) => k.id === id);
      if (d) return { ok: true, value: { ...keyView(d, "config"), usage: await usageOf(d) } };
      const entry = await store.get(recordKey(id));
      const r = entry && parseRecord(entry.value);
      if (!r) return notFound(id);
      return { ok: true, value: { ...keyView(r, "admin"), usage: await usageOf(r) } };
    },
    async updateKey(id, patch) {
      if (declared.some((k) => k.id === id)) return fromConfig(id);
      if (patch.providers) {
        const problems = unknownProviders(patch.providers, config.providers);
        if (problems.length) return badProviders(problems);
      }
      const out = await casUpdate<AdminResult<KeyRecord>>(store, recordKey(id), (current) => {
        const r = parseRecord(current);
        if (!r) return { result: notFound(id) };
        if (r.revokedAt !== undefined) {
          return {
            result: {
              ok: false as const,
              status: 409,
              code: "key_revoked",
              message: `The virtual key "${id}" is revoked; create a new one.`,
            },
          };
        }
        const next = applyPatch(r, patch, clock.now());
        return { write: next, result: { ok: true as const, value: next } };
      });
      if (!out.ok) return out;
      cache.set(id, { record: out.value, revision: cache.get(id)?.revision ?? 0 });
      return { ok: true, value: keyView(out.value, "admin") };
    },
    async revokeKey(id) {
      if (declared.some((k) => k.id === id)) return fromConfig(id);
      const out = await casUpdate(store, recordKey(id), (current) => {
        const r = parseRecord(current);
        if (!r) return { result: undefined };
        if (r.revokedAt !== undefined) return { result: r };
        const now = clock.now();
        const next = { ...r, revokedAt: now, updatedAt: now };
        return { write: next, result: next };
      });
      if (!out) return notFound(id);
      cache.set(id, { record: out, revision: cache.get(id)?.revision ?? 0 });
      logger.info("virtual key revoked", { id, name: out.name });
      return { ok: true, value: keyView(out, "admin") };
    },
    describe() {
      const admin = config.adminKey
        ? "admin API: /admin/keys (Authorization: Bearer $GATEWAY_ADMIN_KEY)"
        : "admin API: off (set GATEWAY_ADMIN_KEY to manage virtual keys over HTTP)";
      const names = declared.map((k) => k.name).join(", ");
      // A memory store starts empty with its process: nothing to wait for.
      const known = synced || store.kind === "memory";
      let keys: string;
      if (!known && declared.length === 0) {
        keys = `virtual keys: none in config; loading stored keys from ${store.describe} ` +
          "(requests wait for it; the gateway stays open if there are none)";
      } else if (!required()) {
        keys = config.adminKey
          ? "virtual keys: none — the gateway is open; POST /admin/keys to require keys"
          : "virtual keys: none — the gateway is open; set GATEWAY_ADMIN_KEY and POST /admin/keys to require keys";
      } else {
        const parts = [
          declared.length ? `${declared.length} from config (${names})` : "",
          known
            ? `${cache.size} in ${store.describe}`
            : `stored keys loading from ${store.describe}`,
        ].filter((s) => s !== "");
        keys = `virtual keys: required — ${parts.join(", ")}`;
      }
      return [keys, admin];
    },
    async close() {
      closed = true;
      wakeSync?.();
      clearInterval(resync);
      stopWatch?.();
      // Spend still being written is worth a short wait; a stuck store is not.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all([...charges]),
        new Promise((r) => timer = setTimeout(r, 2_000)),
      ]);
      clearTimeout(timer);
      await store.close();
      await syncing;
    },
  };
}
