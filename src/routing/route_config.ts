// The `routes` section of gateway.json and its normal form. A route is a chain of ranks tried in
// order; a rank is one target or a group of equal-rank targets whose order is drawn per request
// (by weight, or by measured latency). Plain string arrays are the one-target-per-rank case.
//
//   "fast": ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]
//   "fast": [["groq/llama-3.1-8b-instant", {"target": "cerebras/llama3.1-8b", "weight": 2}],
//            "openai/gpt-4o-mini"]
//   "fast": {"chain": [{"group": ["groq/…", "cerebras/…"], "strategy": "latency"}, "openai/…"],
//            "sticky": {"header": "x-session-id", "ttlMs": 600000}}
import { z } from "zod";

/**
 * A union decided by the JSON type of the value (string, array or object), so a mistake is
 * reported at the exact field inside the one shape that applies instead of as "Invalid input"
 * for the whole union. The union itself still gives the types and the JSON Schema.
 */
function byJsonType<U extends z.ZodType>(
  union: U,
  shapes: { string?: z.ZodType; array?: z.ZodType; object?: z.ZodType },
  expected: string,
): U {
  const schema = z.unknown().transform((value, ctx) => {
    const kind = typeof value === "string"
      ? "string"
      : Array.isArray(value)
      ? "array"
      : value !== null && typeof value === "object"
      ? "object"
      : undefined;
    const shape = kind && shapes[kind];
    if (!shape) {
      ctx.addIssue({ code: "custom", message: `expected ${expected}` });
      return z.NEVER;
    }
    const r = shape.safeParse(value);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ ...issue } as z.core.$ZodRawIssue);
    return z.NEVER;
  }).meta({ anyOf: (z.toJSONSchema(union, { io: "input" }) as { anyOf: unknown[] }).anyOf });
  return schema as unknown as U;
}

const ref = z.string().regex(/^[a-z0-9_-]+\/.+$/, { message: 'must look like "provider/model"' });

const weight = z.number().nonnegative().describe(
  "share of requests that try this target first within its group; 0 = only after the others",
);
const WeightedTarget = z.strictObject({ target: ref, weight: weight.default(1) });
const Member = byJsonType(
  z.union([ref, WeightedTarget]),
  { string: ref, object: WeightedTarget },
  'a "provider/model" string or {"target", "weight"}',
);
const strategy = z.enum(["weighted", "latency"]).describe(
  "weighted: random order by weight; latency: power of two choices over the measured latency",
);

// One object shape for `{"target", "weight"}` and `{"group", "strategy"}`, so that every union
// here is decided by the JSON type alone and a mistake is reported at the exact field.
const RankObject = z.strictObject({
  target: ref.optional(),
  weight: weight.optional(),
  group: z.array(Member).min(1).optional(),
  strategy: strategy.optional(),
}).superRefine((o, ctx) => {
  if ((o.target === undefined) === (o.group === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: 'needs either "target" (one target) or "group" (targets of equal rank)',
    });
  } else if (o.group && o.weight !== undefined) {
    ctx.addIssue({ code: "custom", path: ["weight"], message: "weights go on group members" });
  } else if (o.target && o.strategy !== undefined) {
    ctx.addIssue({ code: "custom", path: ["strategy"], message: "a strategy needs a group" });
  }
});

const Rank = byJsonType(
  z.union([ref, z.array(Member).min(1), RankObject]),
  { string: ref, array: z.array(Member).min(1), object: RankObject },
  'a "provider/model" string, an array of equal-rank targets, or {"target"} / {"group"}',
);
const Chain = z.array(Rank).min(1);

const Sticky = z.strictObject({
  header: z.string().regex(/^[A-Za-z0-9_-]+$/, { message: "must be an HTTP header name" })
    .describe("client header naming the session, e.g. x-session-id"),
  ttlMs: z.number().int().positive().default(600_000),
  maxSessions: z.number().int().positive().default(10_000),
});

const RouteObject = z.strictObject({
  chain: Chain,
  sticky: Sticky.optional().describe(
    "keep a session on the target that last served it while that target is healthy",
  ),
});

export const RouteSchema = byJsonType(
  z.union([Chain, RouteObject]),
  { array: Chain, object: RouteObject },
  'an array of targets or {"chain", "sticky"}',
);

export type RouteInput = z.input<typeof RouteSchema>;
export type ParsedRoute = z.output<typeof RouteSchema>;

export type Strategy = "weighted" | "latency";

export interface RouteMember {
  target: string;
  weight: number;
}

export interface RouteRank {
  members: readonly RouteMember[];
  strategy: Strategy;
}

export interface StickyConfig {
  /** Lower-case header name. */
  header: string;
  ttlMs: number;
  maxSessions: number;
}

export interface RoutePlan {
  ranks: readonly RouteRank[];
  sticky?: StickyConfig;
}

type ParsedMember = z.output<typeof Member>;
type ParsedRank = z.output<typeof Rank>;

const member = (m: ParsedMember): RouteMember =>
  typeof m === "string" ? { target: m, weight: 1 } : { target: m.target, weight: m.weight };

function rank(r: ParsedRank): RouteRank {
  if (typeof r === "string") return { members: [member(r)], strategy: "weighted" };
  if (Array.isArray(r)) return { members: r.map(member), strategy: "weighted" };
  if (r.group) return { members: r.group.map(member), strategy: r.strategy ?? "weighted" };
  return { members: [{ target: r.target!, weight: r.weight ?? 1 }], strategy: "weighted" };
}

/** The normal form the balancer works on. */
export function toRoutePlan(route: ParsedRoute): RoutePlan {
  if (Array.isArray(route)) return { ranks: route.map(rank) };
  return {
    ranks: route.chain.map(rank),
    ...(route.sticky && { sticky: { ...route.sticky, header: route.sticky.header.toLowerCase() } }),
  };
}

/** Every target in declared order, for listings and start-up lines. */
export function planTargets(plan: RoutePlan): string[] {
  return plan.ranks.flatMap((r) => r.members.map((m) => m.target));
}

/**
 * Every target with its path inside the route as written (`[1]`, `[0][1].target`,
 * `.chain[0].group[1]`), so config errors can name the exact entry.
 */
export function routeTargetPaths(route: ParsedRoute): { path: string; target: string }[] {
  const chain = Array.isArray(route) ? route : route.chain;
  const prefix = Array.isArray(route) ? "" : ".chain";
  const out: { path: string; target: string }[] = [];
  const add = (m: ParsedMember, path: string) =>
    out.push(
      typeof m === "string" ? { path, target: m } : { path: `${path}.target`, target: m.target },
    );
  chain.forEach((r, i) => {
    const at = `${prefix}[${i}]`;
    if (typeof r === "string") add(r, at);
    else if (Array.isArray(r)) r.forEach((m, j) => add(m, `${at}[${j}]`));
    else if (r.group) r.group.forEach((m, j) => add(m, `${at}.group[${j}]`));
    else add({ target: r.target!, weight: r.weight ?? 1 }, at);
  });
  return out;
}

/** One line for start-up output: `a → {b ×2 | c} → d  (latency: {…}, sticky by x-session-id)`. */
export function describeRoute(plan: RoutePlan): string {
  const text = plan.ranks.map((r) => {
    if (r.members.length === 1 && r.strategy === "weighted") return r.members[0].target;
    const inner = r.members
      .map((
        m,
      ) => (r.strategy === "weighted" && m.weight !== 1 ? `${m.target} ×${m.weight}` : m.target))
      .join(" | ");
    return `${r.strategy === "latency" ? "fastest of " : ""}{${inner}}`;
  }).join(" → ");
  return plan.sticky ? `${text}  (sticky by ${plan.sticky.header})` : text;
}
