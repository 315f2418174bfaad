// Turns `model` + `fallbacks` into the ordered candidate chain. A bare model may be a route alias
// from config; every provider named must be configured.
import type { Candidate } from "../actors/supervisor/mod.ts";
import type { Config } from "./config.ts";

export type Resolution =
  | { ok: true; candidates: Candidate[] }
  | { ok: false; message: string; param: string; code: string };

function parseRef(
  ref: string,
  param: string,
  config: Config,
): Candidate | Extract<Resolution, { ok: false }> {
  const slash = ref.indexOf("/");
  if (slash <= 0 || slash === ref.length - 1) {
    const aliases = Object.keys(config.routes);
    return {
      ok: false,
      param,
      code: "invalid_model",
      message: `${param}: "${ref}" must be "provider/model" (e.g. "openai/gpt-4o-mini")` +
        (aliases.length ? ` or one of the route aliases: ${aliases.join(", ")}` : ""),
    };
  }
  const provider = ref.slice(0, slash);
  if (!Object.hasOwn(config.providers, provider)) {
    const known = Object.keys(config.providers);
    return {
      ok: false,
      param,
      code: "unknown_provider",
      message: `${param}: unknown provider "${provider}". Configured providers: ${
        known.length
          ? known.join(", ")
          : "none (set OPENAI_API_KEY / ANTHROPIC_API_KEY or GATEWAY_CONFIG)"
      }.`,
    };
  }
  return { provider, model: ref.slice(slash + 1) };
}

/**
 * `order`, when given, says in which order this request tries a route's targets (the load
 * balancer's per-request draw); without it a route is tried in its declared order.
 */
export function resolveCandidates(
  config: Config,
  model: string,
  fallbacks: readonly string[] = [],
  order?: (alias: string) => readonly string[] | undefined,
): Resolution {
  const refs: [string, string][] = Object.hasOwn(config.routes, model)
    ? (order?.(model) ?? config.routes[model]).map((r) => [r, "model"])
    : [[model, "model"]];
  fallbacks.forEach((f, i) => refs.push([f, `fallbacks[${i}]`]));
  const candidates: Candidate[] = [];
  for (const [ref, param] of refs) {
    const c = parseRef(ref, param, config);
    if ("ok" in c) return c;
    candidates.push(c);
  }
  return { ok: true, candidates };
}
