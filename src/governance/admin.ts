// The admin operations on virtual keys (behind /admin/keys): create (the secret is shown once;
// the store keeps a salted digest), list, get (with current usage and spend), update and revoke.
// Keys declared in gateway.json are listed but changed only there. Results are data: a value, or
// a status, code and message for the HTTP layer to answer with.
import type { Config } from "../config.ts";
import type { GatewayError, Result } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { newVirtualKey, saltedDigest } from "../lib/secrets.ts";
import type { Clock } from "../ports.ts";
import { type KeyCache, recordKey } from "./key_cache.ts";
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
import { type LevelKind, readLevel } from "./levels.ts";
import { casUpdate, type KeyStore } from "./store.ts";
import { usageKey } from "./usage.ts";
import { type KeyUsageView, usageView } from "./usage_view.ts";

export type { KeyUsageView } from "./usage_view.ts";

/** An admin answer, or the gateway's one error (`invalid_request_error`, no param). */
export type AdminResult<T> = Result<T>;

/** A refusal of an admin request: the status, a code the client can branch on, and why. */
export const refused = (status: number, code: string, message: string): GatewayError => ({
  ok: false,
  status,
  type: "invalid_request_error",
  code,
  param: null,
  message,
});

export interface KeyAdmin {
  createKey(fields: KeyFields): Promise<AdminResult<{ view: KeyView; secret: string }>>;
  listKeys(): Promise<(KeyView & { usage: KeyUsageView | null })[]>;
  getKey(id: string): Promise<AdminResult<KeyView & { usage: KeyUsageView | null }>>;
  updateKey(id: string, patch: KeyPatch): Promise<AdminResult<KeyView>>;
  revokeKey(id: string): Promise<AdminResult<KeyView>>;
}

/** A 400 naming the field (`team`, `customer`) whose id names no such level. */
export const unknownLevel = (kind: LevelKind, id: string): GatewayError => ({
  ...refused(
    400,
    `unknown_${kind}`,
    `${kind}: no ${kind} with id "${id}"; create it with POST /admin/${kind}s.`,
  ),
  param: kind,
});

const notFound = (id: string) => refused(404, "key_not_found", `No virtual key with id "${id}".`);
const fromConfig = (id: string) =>
  refused(
    409,
    "key_declared_in_config",
    `The virtual key "${id}" is declared in gateway.json; change it there.`,
  );
const badProviders = (problems: string[]) => refused(400, "unknown_provider", problems.join(" "));

export function createKeyAdmin(deps: {
  providers: Config["providers"];
  cache: KeyCache;
  store: KeyStore;
  clock: Clock;
  logger: Logger;
}): KeyAdmin {
  const { cache, store, clock, logger } = deps;
  const { declared } = cache;

  const usageOf = (key: KeyPolicy) => usageView(store, clock, usageKey(key.id), key.budget);

  /** A 400 naming `team` when the key names a team that does not exist. */
  async function unknownTeam(team: string | null | undefined): Promise<GatewayError | undefined> {
    if (!team || await readLevel(store, "team", team)) return;
    return unknownLevel("team", team);
  }

  return {
    async createKey(fields) {
      const problems = unknownProviders(fields.providers, deps.providers);
      if (problems.length) return badProviders(problems);
      const noTeam = await unknownTeam(fields.team);
      if (noTeam) return noTeam;
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
      cache.apply(recordKey(id), { value: record, revision });
      logger.info("virtual key created", { id, name: record.name });
      return { ok: true, value: { view: keyView(record, "admin"), secret } };
    },
    async listKeys() {
      const keys: [KeyPolicy, "config" | "admin"][] = [
        ...declared.map((k) => [k, "config"] as [KeyPolicy, "config"]),
        ...(await cache.allStored()).map((r) => [r, "admin"] as [KeyPolicy, "admin"]),
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
        const problems = unknownProviders(patch.providers, deps.providers);
        if (problems.length) return badProviders(problems);
      }
      const noTeam = await unknownTeam(patch.team);
      if (noTeam) return noTeam;
      const out = await casUpdate<AdminResult<KeyRecord>>(store, recordKey(id), (current) => {
        const r = parseRecord(current);
        if (!r) return { result: notFound(id) };
        if (r.revokedAt !== undefined) {
          return {
            result: refused(
              409,
              "key_revoked",
              `The virtual key "${id}" is revoked; create a new one.`,
            ),
          };
        }
        const next = applyPatch(r, patch, clock.now());
        return { write: next, result: { ok: true as const, value: next } };
      });
      if (!out.ok) return out;
      cache.remember(out.value);
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
      cache.remember(out);
      logger.info("virtual key revoked", { id, name: out.name });
      return { ok: true, value: keyView(out, "admin") };
    },
  };
}
