// The levels above a virtual key: customers → teams → keys. A team (optionally under a customer)
// and a customer each have a name, an optional budget and optional rpm/tpm limits of the same
// shape as a key's. Every level's usage lives in the store like a key's (one entry per level,
// each update a compare-and-set), so the same usage decider admits and charges every level.
import { z } from "zod";
import { BudgetSchema, type KeyPolicy, LimitsSchema } from "./keys.ts";
import type { KeyStore } from "./store.ts";
import type { Budget, Limits } from "./usage.ts";

export type LevelKind = "customer" | "team";

const name = z.string().trim().min(1).max(100);
const ref = z.string().trim().min(1).max(100);

export const CustomerFieldsSchema = z.strictObject({
  name,
  budget: BudgetSchema.optional(),
  limits: LimitsSchema.optional(),
});

export const TeamFieldsSchema = CustomerFieldsSchema.extend({
  customer: ref.optional().describe("the id of the customer this team belongs to"),
});

/** PATCH /admin/customers/{id} and /admin/teams/{id}: any field; `null` removes it. */
export const CustomerPatchSchema = z.strictObject({
  name: name.optional(),
  budget: BudgetSchema.nullable().optional(),
  limits: LimitsSchema.nullable().optional(),
});

export const TeamPatchSchema = CustomerPatchSchema.extend({
  customer: ref.nullable().optional(),
});

export type LevelFields = z.output<typeof TeamFieldsSchema>;
export type LevelPatch = z.output<typeof TeamPatchSchema>;

/** A customer or team as the store holds it (`customer` only on teams). */
export interface LevelRecord {
  id: string;
  kind: LevelKind;
  name: string;
  customer?: string;
  budget?: Budget;
  limits?: Limits;
  createdAt: number;
  updatedAt: number;
  /** Deleted levels stay as tombstones so a compare-and-set never revives them. */
  deletedAt?: number;
}

/** One level a request is admitted against and charged to. */
export interface Level {
  kind: "key" | LevelKind;
  id: string;
  name: string;
  limits?: Limits;
  budget?: Budget;
}

/** Where a customer's or team's record lives in the store. */
export const levelKey = (kind: LevelKind, id: string) => `${kind}.${id}`;

/** Where a level's usage lives: a key's stays at usage.<id>, as before. */
export const levelUsageKey = (l: Pick<Level, "kind" | "id">) =>
  l.kind === "key" ? `usage.${l.id}` : `usage.${l.kind}.${l.id}`;

/** A stored, live record of that kind, or undefined (absent, deleted, foreign or corrupt). */
export function parseLevel(value: unknown, kind: LevelKind): LevelRecord | undefined {
  const v = value as LevelRecord | undefined;
  if (
    !v || typeof v !== "object" || v.kind !== kind || typeof v.id !== "string" ||
    typeof v.name !== "string" || v.deletedAt !== undefined
  ) return undefined;
  return v;
}

/** The live record of a customer or team in the store, or undefined (see parseLevel). */
export async function readLevel(
  store: Pick<KeyStore, "get">,
  kind: LevelKind,
  id: string,
): Promise<LevelRecord | undefined> {
  return parseLevel((await store.get(levelKey(kind, id)))?.value, kind);
}

export function applyLevelPatch(r: LevelRecord, patch: LevelPatch, now: number): LevelRecord {
  const next: LevelRecord = { ...r, updatedAt: now };
  if (patch.name !== undefined) next.name = patch.name;
  for (const f of ["budget", "limits", "customer"] as const) {
    if (patch[f] === null) delete next[f];
    else if (patch[f] !== undefined) (next as unknown as Record<string, unknown>)[f] = patch[f];
  }
  return next;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** What the admin API shows for a customer or team. */
export function levelView(r: LevelRecord) {
  return {
    id: r.id,
    object: r.kind,
    name: r.name,
    ...(r.kind === "team" ? { customer: r.customer ?? null } : {}),
    budget: r.budget ?? null,
    limits: r.limits ?? null,
    created_at: iso(r.createdAt),
    updated_at: iso(r.updatedAt),
  };
}

export type LevelView = ReturnType<typeof levelView>;

const asLevel = (r: LevelRecord): Level => ({
  kind: r.kind,
  id: r.id,
  name: r.name,
  ...(r.limits ? { limits: r.limits } : {}),
  ...(r.budget ? { budget: r.budget } : {}),
});

/**
 * The levels a request with `key` counts against, innermost first: the key, its team, the team's
 * customer. Read from the store each time, so a PATCH on any replica applies to the next request.
 * A team or customer that is gone (deleted in a race) no longer counts.
 */
export async function levelsOf(store: KeyStore, key: KeyPolicy): Promise<Level[]> {
  const levels: Level[] = [{
    kind: "key",
    id: key.id,
    name: key.name,
    ...(key.limits ? { limits: key.limits } : {}),
    ...(key.budget ? { budget: key.budget } : {}),
  }];
  if (!key.team) return levels;
  const team = await readLevel(store, "team", key.team);
  if (!team) return levels;
  levels.push(asLevel(team));
  if (!team.customer) return levels;
  const customer = await readLevel(store, "customer", team.customer);
  if (customer) levels.push(asLevel(customer));
  return levels;
}
