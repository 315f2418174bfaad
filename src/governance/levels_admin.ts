// The admin operations on customers and teams (behind /admin/customers and /admin/teams): create,
// list and get (with usage this minute and spend this period), update and delete. A team may
// name a customer; a key may name a team (admin.ts checks that it exists). Deleting a team that
// live keys still name, or a customer that teams still name, is refused (409) rather than
// leaving keys pointing at nothing; a deleted level stays in the store as a tombstone.
import type { GatewayError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import { randomBytes, toHex } from "../lib/secrets.ts";
import type { Clock } from "../ports.ts";
import { type AdminResult, refused, unknownLevel } from "./admin.ts";
import type { KeyCache } from "./key_cache.ts";
import {
  applyLevelPatch,
  type LevelFields,
  levelKey,
  type LevelKind,
  type LevelPatch,
  type LevelRecord,
  levelUsageKey,
  type LevelView,
  levelView,
  parseLevel,
  readLevel,
} from "./levels.ts";
import { casUpdate, type KeyStore } from "./store.ts";
import { type KeyUsageView, usageView } from "./usage_view.ts";

export type LevelWithUsage = LevelView & { usage: KeyUsageView | null };

export interface LevelAdmin {
  createLevel(kind: LevelKind, fields: LevelFields): Promise<AdminResult<LevelView>>;
  listLevels(kind: LevelKind): Promise<LevelWithUsage[]>;
  getLevel(kind: LevelKind, id: string): Promise<AdminResult<LevelWithUsage>>;
  updateLevel(kind: LevelKind, id: string, patch: LevelPatch): Promise<AdminResult<LevelView>>;
  deleteLevel(kind: LevelKind, id: string): Promise<AdminResult<LevelView>>;
}

const notFound = (kind: LevelKind, id: string) =>
  refused(404, `${kind}_not_found`, `No ${kind} with id "${id}".`);

export function createLevelAdmin(deps: {
  cache: Pick<KeyCache, "allStored" | "declared">;
  store: KeyStore;
  clock: Clock;
  logger: Logger;
}): LevelAdmin {
  const { cache, store, clock, logger } = deps;

  const read = (kind: LevelKind, id: string) => readLevel(store, kind, id);

  /** A 400 naming `customer` when a team names a customer that does not exist. */
  async function unknownCustomer(id: string | null | undefined): Promise<GatewayError | undefined> {
    if (!id || await read("customer", id)) return;
    return unknownLevel("customer", id);
  }

  const withUsage = async (r: LevelRecord): Promise<LevelWithUsage> => ({
    ...levelView(r),
    usage: await usageView(store, clock, levelUsageKey(r), r.budget),
  });

  /** Who still names this level: live keys for a team, live teams for a customer. */
  async function users(kind: LevelKind, id: string): Promise<string[]> {
    if (kind === "team") {
      return [
        ...cache.declared.filter((k) => k.team === id).map((k) => `key ${k.id} (gateway.json)`),
        ...(await cache.allStored()).filter((k) => k.team === id && k.revokedAt === undefined)
          .map((k) => `key ${k.id}`),
      ];
    }
    const teams = [...(await store.list("team.")).values()]
      .map((e) => parseLevel(e.value, "team"))
      .filter((t) => t?.customer === id);
    return teams.map((t) => `team ${t!.id}`);
  }

  return {
    async createLevel(kind, fields) {
      const noCustomer = kind === "team" ? await unknownCustomer(fields.customer) : undefined;
      if (noCustomer) return noCustomer;
      const id = toHex(randomBytes(8));
      const now = clock.now();
      const { customer, ...rest } = fields;
      const record: LevelRecord = {
        id,
        kind,
        ...rest,
        ...(kind === "team" && customer ? { customer } : {}),
        createdAt: now,
        updatedAt: now,
      };
      if (await store.put(levelKey(kind, id), record, 0) === undefined) {
        throw new Error(`${kind} id ${id} already exists`);
      }
      logger.info(`${kind} created`, { id, name: record.name });
      return { ok: true, value: levelView(record) };
    },
    async listLevels(kind) {
      const records = [...(await store.list(`${kind}.`)).values()]
        .map((e) => parseLevel(e.value, kind))
        .filter((r): r is LevelRecord => r !== undefined)
        .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
      return await Promise.all(records.map(withUsage));
    },
    async getLevel(kind, id) {
      const r = await read(kind, id);
      return r ? { ok: true, value: await withUsage(r) } : notFound(kind, id);
    },
    async updateLevel(kind, id, patch) {
      const noCustomer = kind === "team" ? await unknownCustomer(patch.customer) : undefined;
      if (noCustomer) return noCustomer;
      const out = await casUpdate<AdminResult<LevelRecord>>(
        store,
        levelKey(kind, id),
        (current) => {
          const r = parseLevel(current, kind);
          if (!r) return { result: notFound(kind, id) };
          const next = applyLevelPatch(r, patch, clock.now());
          return { write: next, result: { ok: true as const, value: next } };
        },
      );
      return out.ok ? { ok: true, value: levelView(out.value) } : out;
    },
    async deleteLevel(kind, id) {
      const using = await users(kind, id);
      if (using.length) {
        return refused(
          409,
          `${kind}_in_use`,
          `The ${kind} "${id}" is still named by ${using.join(", ")}; ` +
            `move or revoke ${kind === "team" ? "those keys" : "those teams"} first.`,
        );
      }
      const out = await casUpdate(store, levelKey(kind, id), (current) => {
        const r = parseLevel(current, kind);
        if (!r) return { result: undefined };
        const now = clock.now();
        return { write: { ...r, deletedAt: now, updatedAt: now }, result: r };
      });
      if (!out) return notFound(kind, id);
      logger.info(`${kind} deleted`, { id, name: out.name });
      return { ok: true, value: levelView(out) };
    },
  };
}
