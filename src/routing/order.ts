// One request's candidate order for a route: each rank in turn, the members of a group ordered by
// its strategy, and, for a sticky session, the target it is pinned to moved to the front while
// that target is healthy. Pure: randomness, latency and health come in through `env`.
import type { Random } from "../ports.ts";
import { type LatencyView, p2cOrder } from "./latency.ts";
import type { RoutePlan, RouteRank } from "./route_config.ts";
import { weightedOrder } from "./weighted.ts";

export interface OrderEnv extends LatencyView {
  random: Random;
}

function orderRank(r: RouteRank, env: OrderEnv): string[] {
  if (r.members.length === 1) return [r.members[0].target];
  if (r.strategy === "latency") {
    return p2cOrder(r.members.map((m) => m.target), env, [env.random(), env.random()]);
  }
  return weightedOrder(r.members, env.random).map((m) => m.target);
}

export function orderRoute(plan: RoutePlan, env: OrderEnv, pinned?: string): string[] {
  const order = plan.ranks.flatMap((r) => orderRank(r, env));
  if (pinned === undefined || !order.includes(pinned) || !env.healthy(pinned)) return order;
  return [pinned, ...order.filter((t) => t !== pinned)];
}
