// Routing: the one candidate planner every request uses, and the load balancing it draws route
// orders from (route config as ranks and groups, the balancer that holds their live state).
export {
  createPlanner,
  type Plan,
  type PlanError,
  type Planned,
  type Planner,
  type PlannerDeps,
  type PlanRequest,
  type RoutingConfig,
} from "./plan.ts";
export { type KeyScope, type KeyTarget } from "./key_scope.ts";
export {
  actorHealth,
  type Balancer,
  type BalancerDeps,
  createBalancer,
  type RouteChoice,
} from "./balancer.ts";
export {
  describeRoute,
  type ParsedRoute,
  planTargets,
  type RouteInput,
  type RoutePlan,
  RouteSchema,
  type StickyConfig,
  type Strategy,
  toRoutePlan,
} from "./route_config.ts";
export { type LatencyStat } from "./latency.ts";
