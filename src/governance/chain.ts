// Which candidates a virtual key's request runs through. A key lists the providers (and, per
// provider, the models) it may use, each with a weight:
//
// - a bare model ("gpt-4o-mini", not a route alias) gets a weighted-random primary among the
//   providers that allow it, then the other allowed providers by weight, unless the request
//   names its own fallbacks;
// - "provider/model" must be allowed; without fallbacks, the other providers that allow the same
//   model follow it by weight;
// - a route alias keeps only the entries the key allows;
// - every fallback the request names must be allowed.
//
// Pure: the random draw arrives as an argument.
import type { Candidate } from "../../actors/supervisor/mod.ts";
import type { Config } from "../config.ts";
import { resolveCandidates } from "../routing.ts";
import type { KeyPolicy, KeyTarget } from "./keys.ts";

export type KeyChain =
  | { ok: true; candidates: Candidate[] }
  | { ok: false; status: 400 | 403; message: string; code: string; param: string };

type RoutingConfig = Pick<Config, "routes" | "providers">;

/** Whether the key may send `model` to `provider`. */
export function allows(targets: readonly KeyTarget[], c: Candidate): boolean {
  return targets.some((t) =>
    t.provider === c.provider && (!t.models || t.models.includes(c.model))
  );
}

/** "openai/*, anthropic/claude-3-5-haiku-latest": what a key may use, for error messages. */
export function allowedList(targets: readonly KeyTarget[]): string {
  return targets.flatMap((t) =>
    t.models ? t.models.map((m) => `${t.provider}/${m}`) : [`${t.provider}/*`]
  )
    .join(", ");
}

/** Providers that allow `model`, with their summed weights, in the order the key lists them. */
export function eligible(targets: readonly KeyTarget[], model: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of targets) {
    if (t.models && !t.models.includes(model)) continue;
    out.set(t.provider, (out.get(t.provider) ?? 0) + t.weight);
  }
  return out;
}

/** Weighted choice with a draw in [0, 1); all weights zero → the first. */
export function pickWeighted(entries: readonly [string, number][], draw: number): string {
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  if (total <= 0) return entries[0][0];
  let at = draw * total;
  for (const [id, w] of entries) {
    if (w > 0 && at < w) return id;
    at -= w;
  }
  return entries.filter(([, w]) => w > 0).at(-1)![0];
}

/** Heaviest first; equal weights keep the key's order. */
function byWeight(entries: readonly [string, number][]): string[] {
  return entries.map((e, i) => ({ e, i }))
    .sort((a, b) => b.e[1] - a.e[1] || a.i - b.i)
    .map(({ e }) => e[0]);
}

function notAllowed(key: KeyPolicy, what: string, param: string): KeyChain {
  return {
    ok: false,
    status: 403,
    code: "model_not_allowed",
    param,
    message: `${param}: the key "${key.name}" may not use ${what}. It may use: ${
      allowedList(key.providers)
    }.`,
  };
}

const refOf = (c: Candidate) => `${c.provider}/${c.model}`;

export function keyChain(
  config: RoutingConfig,
  key: KeyPolicy,
  model: string,
  fallbacks: readonly string[] | undefined,
  draw: number,
): KeyChain {
  // A stored key may name a provider this replica's config no longer has: it is skipped.
  const configured = (p: string) => Object.hasOwn(config.providers, p);
  // The request's own fallbacks, each checked like a model.
  const named: Candidate[] = [];
  for (const [i, ref] of (fallbacks ?? []).entries()) {
    const param = `fallbacks[${i}]`;
    const r = resolveCandidates({ ...config, routes: {} } as Config, ref);
    if (!r.ok) {
      return { ...r, status: 400, param, message: r.message.replace(/^model:/, `${param}:`) };
    }
    if (!allows(key.providers, r.candidates[0])) return notAllowed(key, `"${ref}"`, param);
    named.push(r.candidates[0]);
  }

  let head: Candidate[];
  let sameModel: string | undefined; // the model that key-chosen fallbacks serve
  const isAlias = Object.hasOwn(config.routes, model);
  const slash = model.indexOf("/");
  if (isAlias || slash > 0) {
    const r = resolveCandidates(config as Config, model);
    if (!r.ok) return { ...r, status: 400 };
    head = r.candidates.filter((c) => allows(key.providers, c));
    if (head.length === 0 || (!isAlias && head.length !== r.candidates.length)) {
      return notAllowed(key, isAlias ? `any model of the route "${model}"` : `"${model}"`, "model");
    }
    sameModel = isAlias ? undefined : head[0].model;
  } else {
    const pool = [...eligible(key.providers, model)].filter(([p]) => configured(p));
    if (pool.length === 0) return notAllowed(key, `"${model}"`, "model");
    head = [{ provider: pickWeighted(pool, draw), model }];
    sameModel = model;
  }

  let tail = named;
  if (named.length === 0 && sameModel !== undefined) {
    const m = sameModel;
    tail = byWeight([...eligible(key.providers, m)].filter(([p]) => configured(p)))
      .map((provider) => ({ provider, model: m }));
  }
  const seen = new Set<string>();
  const candidates = [...head, ...tail].filter((c) => {
    const ref = refOf(c);
    if (seen.has(ref)) return false;
    seen.add(ref);
    return true;
  });
  return { ok: true, candidates };
}
