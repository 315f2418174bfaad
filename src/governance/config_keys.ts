// Virtual keys declared in gateway.json under "virtualKeys": the admin API's fields plus
// "key": "env:NAME". Their id is "cfg-<name>", stable across replicas so their usage and spend
// (in the shared store) add up; their secrets stay in memory and never reach the store. A
// declared key may name a team (by id): teams live in the store, so one not created yet is
// warned about once the store is read, and applies from the moment it exists.
import { z } from "zod";
import type { Logger } from "../lib/logger.ts";
import { KeyFieldsSchema, type KeyPolicy, unknownProviders } from "./keys.ts";
import { readLevel } from "./levels.ts";
import type { KeyStore } from "./store.ts";

export function configKeySchema(envRef: z.ZodString) {
  return KeyFieldsSchema.extend({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
      message: "names of keys in gateway.json are 1-64 of [A-Za-z0-9_.-] (the id is cfg-<name>)",
    }),
    key: envRef.describe('the secret clients send, e.g. "env:TEAM_A_KEY" (at least 16 characters)'),
  });
}

export type ConfigKeyInput = z.output<ReturnType<typeof configKeySchema>>;

/** A declared key with its secret resolved from the environment. */
export interface VirtualKeyConfig extends KeyPolicy {
  secret: string;
  /** The environment variable the secret came from (shown at start-up instead of the secret). */
  env: string;
}

export const MIN_SECRET_LENGTH = 16;

/** Resolves secrets and checks providers; every problem is pushed to `problems` naming the field. */
export function resolveConfigKeys(
  entries: readonly ConfigKeyInput[],
  providers: Readonly<Record<string, unknown>>,
  resolve: (ref: string, field: string) => { name: string; secret: string },
  problems: string[],
): VirtualKeyConfig[] {
  const names = new Set<string>();
  const secrets = new Map<string, string>();
  return entries.map((e, i) => {
    const field = `virtualKeys[${i}]`;
    if (names.has(e.name)) problems.push(`  - ${field}.name: "${e.name}" is declared twice`);
    names.add(e.name);
    for (const p of unknownProviders(e.providers, providers, `${field}.providers`)) {
      problems.push(`  - ${p}`);
    }
    const { name, secret } = resolve(e.key, `${field}.key`);
    if (secret !== "" && secret.length < MIN_SECRET_LENGTH) {
      problems.push(
        `  - ${field}.key: the secret in ${name} is shorter than ${MIN_SECRET_LENGTH} characters`,
      );
    }
    const twin = secrets.get(secret);
    if (secret !== "" && twin !== undefined) {
      problems.push(`  - ${field}.key: same secret as virtualKeys "${twin}"`);
    }
    secrets.set(secret, e.name);
    const { key: _ref, ...fields } = e;
    return { ...fields, id: `cfg-${e.name}`, secret, env: name };
  });
}

/** Warns once for each declared key whose team is not in the store (a typo, or not created yet). */
export async function warnUnknownTeams(
  declared: readonly KeyPolicy[],
  store: Pick<KeyStore, "get">,
  logger: Logger,
): Promise<void> {
  for (const k of declared) {
    if (!k.team) continue;
    try {
      if (await readLevel(store, "team", k.team)) continue;
    } catch {
      return; // The store cannot be read: its own health line says so.
    }
    logger.warn(
      "a virtual key in gateway.json names a team that does not exist (yet); its budget and " +
        "limits apply once it is created with POST /admin/teams",
      { key: k.id, team: k.team },
    );
  }
}
