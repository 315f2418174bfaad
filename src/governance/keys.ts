// What a virtual key is: a name, the providers and models it may use (each with a weight), its
// limits and its budget. The same fields are accepted by POST /admin/keys and under
// "virtualKeys" in gateway.json. A stored record keeps only a salted digest of the secret.
import { z } from "zod";
import { PERIODS } from "./periods.ts";
import type { Budget, Limits } from "./usage.ts";

export const KeyTargetSchema = z.strictObject({
  provider: z.string().regex(/^[a-z0-9_-]+$/, { message: "provider ids are lowercase [a-z0-9_-]" }),
  models: z.array(z.string().min(1)).min(1).optional().describe(
    "upstream model names this key may use on that provider; absent = any",
  ),
  weight: z.number().nonnegative().default(1).describe(
    "share of traffic as the primary for a bare model; 0 = fallback only",
  ),
});

export const LimitsSchema = z.strictObject({
  rpm: z.number().int().positive().optional().describe("requests per minute"),
  tpm: z.number().int().positive().optional().describe("tokens per minute"),
});

export const BudgetSchema = z.strictObject({
  usd: z.number().nonnegative(),
  period: z.enum(PERIODS).describe("calendar period in UTC: day, week (from Monday) or month"),
});

/** The MCP servers and tools a key may see and call (absent: all; src/mcp/access.ts). */
export const KeyMcpSchema = z.strictObject({
  servers: z.array(z.string().min(1)).optional().describe("MCP server names"),
  tools: z.array(z.string().min(1)).optional().describe("public tool names, <server>__<tool>"),
});

export const KeyFieldsSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  providers: z.array(KeyTargetSchema).min(1),
  mcp: KeyMcpSchema.optional(),
  limits: LimitsSchema.optional(),
  budget: BudgetSchema.optional(),
  team: z.string().trim().min(1).max(100).optional().describe(
    "the id of the team whose (and whose customer's) budget and limits also apply",
  ),
});

/** PATCH /admin/keys/{id}: any field; `null` removes limits or budget. */
export const KeyPatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  providers: z.array(KeyTargetSchema).min(1).optional(),
  mcp: KeyMcpSchema.nullable().optional(),
  limits: LimitsSchema.nullable().optional(),
  budget: BudgetSchema.nullable().optional(),
  team: z.string().trim().min(1).max(100).nullable().optional(),
});

export type KeyTarget = z.output<typeof KeyTargetSchema>;
export type KeyFields = z.output<typeof KeyFieldsSchema>;
export type KeyPatch = z.output<typeof KeyPatchSchema>;

/** The parts of a key that enforcement needs. */
export interface KeyPolicy {
  id: string;
  name: string;
  providers: readonly KeyTarget[];
  limits?: Limits;
  budget?: Budget;
  /** MCP servers and tools this key may use; absent = all. */
  mcp?: z.output<typeof KeyMcpSchema>;
  /** The team (id) this key belongs to; its and its customer's budget and limits apply too. */
  team?: string;
}

/** A key as the store holds it (admin-created keys only; config keys never reach the store). */
export interface KeyRecord extends KeyPolicy {
  createdAt: number;
  updatedAt: number;
  revokedAt?: number;
  /** Salted SHA-256 of the secret; the secret itself is never stored. */
  salt: string;
  hash: string;
}

/** What the admin API shows: never the secret, its salt or its digest. */
export interface KeyView {
  id: string;
  name: string;
  source: "admin" | "config";
  providers: KeyTarget[];
  limits: Limits | null;
  budget: Budget | null;
  team: string | null;
  created_at: string | null;
  updated_at: string | null;
  revoked: boolean;
  revoked_at: string | null;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function keyView(k: KeyPolicy & Partial<KeyRecord>, source: KeyView["source"]): KeyView {
  return {
    id: k.id,
    name: k.name,
    source,
    providers: k.providers.map((t) => ({ ...t })),
    limits: k.limits ?? null,
    budget: k.budget ?? null,
    team: k.team ?? null,
    created_at: iso(k.createdAt),
    updated_at: iso(k.updatedAt),
    revoked: k.revokedAt !== undefined,
    revoked_at: iso(k.revokedAt),
  };
}

/** The record after a PATCH: absent fields stay, `null` limits/budget are removed. */
export function applyPatch(r: KeyRecord, patch: KeyPatch, now: number): KeyRecord {
  const next: KeyRecord = { ...r, updatedAt: now };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.providers !== undefined) next.providers = patch.providers;
  if (patch.mcp === null) delete next.mcp;
  else if (patch.mcp !== undefined) next.mcp = patch.mcp;
  if (patch.limits === null) delete next.limits;
  else if (patch.limits !== undefined) next.limits = patch.limits;
  if (patch.budget === null) delete next.budget;
  else if (patch.budget !== undefined) next.budget = patch.budget;
  if (patch.team === null) delete next.team;
  else if (patch.team !== undefined) next.team = patch.team;
  return next;
}

/** Providers a key names that the gateway does not have, as `providers[i].provider` issues. */
export function unknownProviders(
  targets: readonly KeyTarget[],
  configured: Readonly<Record<string, unknown>>,
  field = "providers",
): string[] {
  return targets.flatMap((t, i) =>
    Object.hasOwn(configured, t.provider) ? [] : [
      `${field}[${i}].provider: unknown provider "${t.provider}". Configured providers: ${
        Object.keys(configured).join(", ") || "none"
      }.`,
    ]
  );
}

/** A stored record, or undefined if the value is not one (a foreign or corrupt entry). */
export function parseRecord(value: unknown): KeyRecord | undefined {
  const v = value as KeyRecord | undefined;
  if (
    !v || typeof v !== "object" || typeof v.id !== "string" || typeof v.hash !== "string" ||
    typeof v.salt !== "string" || !Array.isArray(v.providers) || typeof v.name !== "string"
  ) return undefined;
  return v;
}
