// The one candidate planner: every request's `model` and `fallbacks` become the ordered chain the
// supervisor runs, with or without a virtual key.
//
// - A route alias expands to its targets in the order the balancer draws for this request
//   (weights, measured latency, a sticky session); a "provider/model" is itself; the request's
//   fallbacks follow, each a "provider/model" whose provider is configured.
// - A virtual key only narrows and weights that plan:
//   - a route alias keeps the targets the key allows, in the drawn order;
//   - "provider/model" must be allowed; without request fallbacks, the other providers that
//     allow the same model follow it by the key's weights;
//   - a bare model (no alias) is the key's own chain: a weighted-random primary among the
//     providers that allow it, then the others by weight, unless the request names fallbacks;
//   - every fallback the request names must be allowed.
//
// Refusals are data: 400 for a reference that is malformed or names no configured provider, 403
// for what the key may not use. Pure but for the balancer's choice and the random draw, which
// come in through the deps.
import type { GatewayError } from "../lib/errors.ts";
import type { Candidate } from "../../actors/supervisor/mod.ts";
import type { Random } from "../ports.ts";
import type { RouteChoice } from "./balancer.ts";
import {
  allowedList,
  allows,
  byWeight,
  eligible,
  type KeyScope,
  pickWeighted,
} from "./key_scope.ts";

/** What the planner reads from the config. */
export interface RoutingConfig {
  /** Every target of each route alias, in declared order. */
  routes: Readonly<Record<string, readonly string[]>>;
  providers: Readonly<Record<string, unknown>>;
}

/** What a request asks for. */
export interface PlanRequest {
  model: string;
  fallbacks?: readonly string[];
  /** The client's headers: a sticky route reads its session from them. */
  headers?: Headers;
}

/** Why no chain: the field at fault, as the client named it (`model`, `fallbacks[1]`). */
export type PlanError = GatewayError & {
  status: 400 | 403;
  type: "invalid_request_error";
  param: string;
};

export interface Planned {
  ok: true;
  candidates: Candidate[];
  /** The request was served by `candidate`: a sticky route pins its session there. */
  served(candidate: Candidate): void;
}

export type Plan = Planned | PlanError;

/** Plans one request; `key` is the virtual key that authenticated it, if any. */
export type Planner = (request: PlanRequest, key?: KeyScope) => Plan;

export interface PlannerDeps {
  config: RoutingConfig;
  /** This request's order of a route alias (see ./balancer.ts); absent = as declared. */
  choose?(alias: string, headers?: Headers): RouteChoice | undefined;
  random: Random;
}

const NO_OP = () => {};

/** Splits "provider/model" at the first slash; the provider must be configured. */
export function parseRef(
  ref: string,
  param: string,
  config: RoutingConfig,
  aliases: readonly string[] = Object.keys(config.routes),
): Candidate | PlanError {
  const slash = ref.indexOf("/");
  if (slash <= 0 || slash === ref.length - 1) {
    return {
      ok: false,
      status: 400,
      type: "invalid_request_error",
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
      status: 400,
      type: "invalid_request_error",
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

const failed = (c: Candidate | PlanError): c is PlanError => "ok" in c;

function notAllowed(key: KeyScope, what: string, param: string): PlanError {
  return {
    ok: false,
    status: 403,
    type: "invalid_request_error",
    code: "model_not_allowed",
    param,
    message: `${param}: the key "${key.name}" may not use ${what}. It may use: ${
      allowedList(key.providers)
    }.`,
  };
}

export function createPlanner(deps: PlannerDeps): Planner {
  const { config } = deps;

  /** `model` as candidates: a route alias in this request's order, else one "provider/model". */
  function expand(model: string, headers: Headers | undefined) {
    if (!Object.hasOwn(config.routes, model)) {
      const c = parseRef(model, "model", config);
      return failed(c) ? c : { candidates: [c], served: NO_OP };
    }
    const choice = deps.choose?.(model, headers);
    const candidates: Candidate[] = [];
    for (const ref of choice?.targets ?? config.routes[model]) {
      const c = parseRef(ref, "model", config);
      if (failed(c)) return c;
      candidates.push(c);
    }
    return { candidates, served: choice?.served ?? NO_OP };
  }

  function open(req: PlanRequest): Plan {
    const head = expand(req.model, req.headers);
    if ("ok" in head) return head;
    const candidates = head.candidates;
    for (const [i, ref] of (req.fallbacks ?? []).entries()) {
      const c = parseRef(ref, `fallbacks[${i}]`, config);
      if (failed(c)) return c;
      candidates.push(c);
    }
    return { ok: true, candidates, served: head.served };
  }

  function keyed(req: PlanRequest, key: KeyScope): Plan {
    const { model } = req;
    // A stored key may name a provider this replica's config no longer has: it is skipped.
    const configured = (p: string) => Object.hasOwn(config.providers, p);
    // The request's own fallbacks first, each a "provider/model" the key allows.
    const named: Candidate[] = [];
    for (const [i, ref] of (req.fallbacks ?? []).entries()) {
      const param = `fallbacks[${i}]`;
      const c = parseRef(ref, param, config, []);
      if (failed(c)) return c;
      if (!allows(key.providers, c)) return notAllowed(key, `"${ref}"`, param);
      named.push(c);
    }

    let head: Candidate[];
    let served: (c: Candidate) => void = NO_OP;
    let sameModel: string | undefined; // the model that key-chosen fallbacks serve
    const isAlias = Object.hasOwn(config.routes, model);
    if (isAlias || model.indexOf("/") > 0) {
      const planned = expand(model, req.headers);
      if ("ok" in planned) return planned;
      head = planned.candidates.filter((c) => allows(key.providers, c));
      if (head.length === 0 || (!isAlias && head.length !== planned.candidates.length)) {
        return notAllowed(
          key,
          isAlias ? `any model of the route "${model}"` : `"${model}"`,
          "model",
        );
      }
      served = planned.served;
      sameModel = isAlias ? undefined : head[0].model;
    } else {
      const pool = [...eligible(key.providers, model)].filter(([p]) => configured(p));
      if (pool.length === 0) return notAllowed(key, `"${model}"`, "model");
      head = [{ provider: pickWeighted(pool, deps.random()), model }];
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
      const ref = `${c.provider}/${c.model}`;
      if (seen.has(ref)) return false;
      seen.add(ref);
      return true;
    });
    return { ok: true, candidates, served };
  }

  return (request, key) => key ? keyed(request, key) : open(request);
}
