// gateway.json → a frozen, typed Config. Validated with zod; secrets are referenced as
// "env:NAME" and resolved here, so a missing variable stops start-up naming the field.
import { z } from "zod";
import { PROVIDER_TYPES, type ProviderType, providerTypeInfo } from "./providers/provider_types.ts";
import { type PluginConfig, PluginsSchema } from "./plugins/plugin_config.ts";
import {
  planTargets,
  type RoutePlan,
  RouteSchema,
  routeTargetPaths,
  toRoutePlan,
} from "./routing/route_config.ts";
import {
  configKeySchema,
  resolveConfigKeys,
  type VirtualKeyConfig,
} from "./governance/config_keys.ts";
import {
  type AttemptTimeouts,
  DEFAULT_REQUEST_MS,
  DEFAULT_TIMEOUTS,
  resolveTimeouts,
} from "./providers/timeouts.ts";
import {
  parseServiceAccount,
  type ServiceAccount,
  ServiceAccountError,
  vertexBaseUrl,
} from "./providers/vertex/mod.ts";
import {
  authFromEnv,
  describeServers,
  type NatsAccess,
  type NatsAuth,
  parseServers,
} from "./lib/nats_connect.ts";
import { type McpConfig, McpSchema, resolveMcp } from "./mcp/config.ts";

const envRef = z.string().regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/, {
  message:
    'must reference an environment variable, like "env:OPENAI_API_KEY" (secrets are never inlined)',
});
const NatsAuthSchema = z.strictObject({
  user: z.string().optional().describe('user name, or "env:NAME"'),
  password: envRef.optional(),
  token: envRef.optional(),
  nkeySeed: envRef.optional(),
  creds: z.string().optional().describe('path of a .creds file (JWT + seed), or "env:NAME"'),
});
const ms = (d: number) => z.number().int().nonnegative().default(d);

const BreakerSchema = z.strictObject({
  failureRateThreshold: z.number().gt(0).lte(1).default(0.5),
  minimumRequests: z.number().int().positive().default(5),
  windowMs: z.number().int().positive().default(30_000),
  // Short and capped, so traffic returns to a recovered model within ~20 s of its recovery
  // (an openMs above maxOpenMs raises the cap).
  openMs: z.number().int().positive().default(10_000),
  maxOpenMs: z.number().int().positive().default(20_000),
  halfOpenProbes: z.number().int().positive().default(1),
});

const LimitSchema = z.strictObject({
  rpm: z.number().int().nonnegative().default(0).describe(
    "requests per minute per key, 0 = unlimited",
  ),
  tpm: z.number().int().nonnegative().default(0).describe(
    "tokens per minute per key, 0 = unlimited",
  ),
});

const timeoutMs = z.number().int().positive();

/** Per-model overrides (e.g. a slow reasoning model): any of the four; the rest from above. */
const ModelTimeoutsSchema = z.strictObject({
  headersMs: timeoutMs.optional(),
  firstTokenMs: timeoutMs.optional(),
  idleMs: timeoutMs.optional(),
  totalMs: timeoutMs.optional(),
});

/** A provider's overrides of the top-level `timeouts`, and per-model ones under `models`. */
const ProviderTimeoutsSchema = z.strictObject({
  ...ModelTimeoutsSchema.shape,
  models: z.record(z.string().min(1), ModelTimeoutsSchema).optional().describe(
    'model → timeouts, e.g. {"o3": {"firstTokenMs": 120000, "headersMs": 300000}}',
  ),
});

const RateLimitSchema = LimitSchema.extend({
  models: z.record(z.string().min(1), LimitSchema).optional().describe(
    'per (key, model) limits, e.g. {"gpt-4o": {"rpm": 500, "tpm": 30000}}',
  ),
});

const TimeoutsSchema = z.strictObject({
  headersMs: timeoutMs.default(DEFAULT_TIMEOUTS.headersMs).describe(
    "no response headers within it: the attempt failed (timeout)",
  ),
  firstTokenMs: timeoutMs.default(DEFAULT_TIMEOUTS.firstTokenMs).describe(
    "streams: no first content within it: the attempt failed (timeout)",
  ),
  idleMs: timeoutMs.default(DEFAULT_TIMEOUTS.idleMs).describe(
    "streams: no chunk for it after the first: the stream stalled (timeout)",
  ),
  totalMs: timeoutMs.default(DEFAULT_TIMEOUTS.totalMs).describe("one whole attempt"),
  requestMs: timeoutMs.default(DEFAULT_REQUEST_MS).describe(
    "the whole call across all attempts and retry waits",
  ),
});

const KeySchema = z.strictObject({
  value: envRef,
  weight: z.number().nonnegative().default(1),
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional().describe(
    "label in events; default <provider>-<index>",
  ),
});

export { PROVIDER_TYPES, type ProviderType };

const ProviderSchema = z.strictObject({
  type: z.enum(PROVIDER_TYPES),
  baseUrl: z.url().optional(),
  keys: z.array(KeySchema).default([]),
  models: z.array(z.string().min(1)).default([]).describe("models listed by GET /v1/models"),
  breaker: BreakerSchema.default(BreakerSchema.parse({})),
  rateLimit: RateLimitSchema.default(RateLimitSchema.parse({})),
  timeouts: ProviderTimeoutsSchema.optional(),
  modelCooldownMs: ms(300_000),
  quotaCooldownMs: ms(60_000).describe(
    "how long a key the upstream says is out of quota or credit is skipped (without Retry-After)",
  ),
  headers: z.record(z.string(), z.string()).optional().describe(
    "static extra headers sent upstream",
  ),
  responsesApi: z.boolean().optional().describe(
    "pass POST /v1/responses through to this provider's own Responses API (default: openai at " +
      "api.openai.com, azure)",
  ),
  apiVersion: z.string().optional().describe("azure: api-version"),
  deployments: z.record(z.string(), z.string()).optional().describe("azure: model → deployment"),
  region: z.string().regex(/^[a-z0-9-]+$/).optional().describe(
    'bedrock: AWS region; vertex: Google Cloud location ("us-central1", "global")',
  ),
  // Project ids are lowercase letters, digits and hyphens; legacy domain-scoped ones are
  // "example.com:my-project".
  project: z.string().regex(/^[a-z0-9][a-z0-9.:-]*[a-z0-9]$/, {
    message: "must be a Google Cloud project id (lowercase letters, digits, hyphens)",
  }).optional().describe("vertex: Google Cloud project id"),
  credentials: envRef.optional().describe(
    "vertex: env:NAME of a variable holding a service account key file's JSON",
  ),
  accessKeyId: envRef.optional().describe("bedrock: env:AWS_ACCESS_KEY_ID"),
  secretAccessKey: envRef.optional().describe("bedrock: env:AWS_SECRET_ACCESS_KEY"),
  sessionToken: envRef.optional().describe("bedrock: env:AWS_SESSION_TOKEN (optional)"),
});

const ref = z.string().regex(/^[a-z0-9_-]+\/.+$/, { message: 'must look like "provider/model"' });

const WS_URL = /^wss?:\/\/[^\s/]+(\/\S*)?$/;

export const ConfigSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().regex(/^[^\s/]+$/, { message: "must be an address to listen on" }).optional()
    .describe(
      'listen address (HOST overrides): "0.0.0.0" (default) all IPv4 interfaces, "127.0.0.1" this machine only, "::" all',
    ),
  instance: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
  workers: z.number().int().min(1).max(256).optional()
    .describe(
      "gateway workers on one port (WORKERS overrides); default 1 (WORKERS=auto: one per core)",
    ),
  providers: z.record(
    z.string().regex(/^[a-z0-9_-]+$/, { message: "provider ids are lowercase [a-z0-9_-]" }),
    ProviderSchema,
  ).default({}),
  routes: z.record(z.string().regex(/^[^/]+$/), RouteSchema).default({})
    .describe(
      'bare aliases: "fast": ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]; a nested array (or {"group"}) is a group of equal rank',
    ),
  plugins: PluginsSchema,
  timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
  retries: z.strictObject({
    max: z.number().int().min(0).max(5).default(1),
    baseMs: ms(100),
    maxMs: ms(2_000),
    maxRetryAfterMs: ms(3_000).describe(
      "a 429 asking to wait at most this long is retried once on the same model after the wait; longer: fall over at once",
    ),
  }).default({ max: 1, baseMs: 100, maxMs: 2_000, maxRetryAfterMs: 3_000 }),
  limits: z.strictObject({
    maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
    // Requests and streams served at once; past it new calls get 503 at once (0: no bound).
    maxInFlight: z.number().int().min(0).default(1024),
  }).default({ maxBodyBytes: 4 * 1024 * 1024, maxInFlight: 1024 }),
  streams: z.strictObject({
    continuation: z.boolean().default(true).describe(
      "a stream that fails after content reached the client is continued by the next attempt",
    ),
  }).default({ continuation: true }),
  responses: z.strictObject({
    ttlMs: z.number().int().positive().default(24 * 3_600_000).describe(
      "how long POST /v1/responses answers are kept for previous_response_id and GET",
    ),
    bucket: z.string().regex(/^[A-Za-z0-9_-]+$/).default("GATEWAY_RESPONSES").describe(
      "NATS KV bucket holding them when NATS is configured",
    ),
  }).default({ ttlMs: 24 * 3_600_000, bucket: "GATEWAY_RESPONSES" }),
  nats: z.strictObject({
    url: z.union([z.string(), z.array(z.string()).min(1)]).optional().describe(
      "websocket URL(s) of nats-server: one, a comma-separated list or an array (a cluster)",
    ),
    stream: z.string().regex(/^[A-Za-z0-9_-]+$/).default("GATEWAY_EVENTS"),
    maxAgeMs: z.number().int().positive().default(24 * 3_600_000),
    replicas: z.number().int().min(1).max(5).default(1).describe(
      "replicas of the events stream and KV buckets (3 on a 3-node cluster)",
    ),
    allowMutableStream: z.boolean().default(false).describe(
      "accept an existing events stream that allows deleting or purging messages",
    ),
    auth: NatsAuthSchema.optional().describe(
      "one credential: user+password, token, nkeySeed or creds (a .creds file path)",
    ),
    tls: z.strictObject({
      ca: z.string().optional().describe("PEM file of the CA of the servers' wss:// certificates"),
    }).optional(),
  }).default({
    stream: "GATEWAY_EVENTS",
    maxAgeMs: 24 * 3_600_000,
    replicas: 1,
    allowMutableStream: false,
  }),
  dashboard: z.strictObject({
    natsWsUrl: z.string().regex(WS_URL, { message: "must be a ws:// or wss:// URL" }).optional()
      .describe("NATS websocket URL the dashboard page connects to itself (all replicas' events)"),
    natsAuth: z.strictObject({
      user: z.string().optional(),
      password: envRef.optional(),
      token: envRef.optional(),
    }).optional().describe(
      "a READ-ONLY identity (the observer) the page logs in with: every browser that loads it gets it",
    ),
  }).default({}),
  pricing: z.record(
    ref,
    z.strictObject({
      inputPerMTok: z.number().nonnegative().describe("USD per million input tokens"),
      outputPerMTok: z.number().nonnegative().describe("USD per million output tokens"),
    }),
  ).default({}).describe('"provider/model" → USD per million input and output tokens'),
  virtualKeys: z.array(configKeySchema(envRef)).default([])
    .describe("virtual keys clients must present (see also POST /admin/keys)"),
  mcp: McpSchema.default({ allowStdio: false, servers: {} }).describe(
    "MCP servers whose tools the gateway serves (docs/mcp.md)",
  ),
});

export type ConfigFile = z.input<typeof ConfigSchema>;
type Parsed = z.output<typeof ConfigSchema>;

/** A provider's timeouts, every layer resolved: model → provider → top-level → defaults. */
export interface ProviderTimeouts extends AttemptTimeouts {
  /** Models with their own overrides, each fully resolved; any other model uses the above. */
  models: Readonly<Record<string, AttemptTimeouts>>;
}

export interface ProviderConfig extends
  Omit<
    Parsed["providers"][string],
    | "keys"
    | "baseUrl"
    | "accessKeyId"
    | "secretAccessKey"
    | "sessionToken"
    | "timeouts"
    | "credentials"
  > {
  id: string;
  timeouts: ProviderTimeouts;
  baseUrl: string;
  keys: { id: string; weight: number; secret: string; env: string }[];
  /** Resolved AWS credentials (bedrock only). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The service account key file, read from `credentials` (vertex only). */
  serviceAccount?: ServiceAccount;
  /** The variable `credentials` named, for messages (vertex only). */
  serviceAccountEnv?: string;
}

export interface Config {
  port: number;
  /** The address to listen on (HOST, else `host`, else 0.0.0.0: every IPv4 interface). */
  host: string;
  instance: string;
  /** Workers asked for in gateway.json (WORKERS overrides; default 1; WORKERS=auto: one per core). */
  workers?: number;
  providers: Readonly<Record<string, ProviderConfig>>;
  /** Every target of each route alias, in declared order (groups flattened). */
  routes: Readonly<Record<string, readonly string[]>>;
  /** Each route alias as ranks and groups, with its sticky settings (src/routing). */
  routePlans: Readonly<Record<string, RoutePlan>>;
  /** Built-in plugins in the order they run (src/plugins). */
  plugins: readonly PluginConfig[];
  /** The gateway's attempt timeouts (under any provider's or model's) and the request budget. */
  timeouts: Parsed["timeouts"];
  retries: Parsed["retries"];
  limits: Parsed["limits"];
  /** Mid-stream continuation (src/http/continuation.ts). */
  streams: Parsed["streams"];
  /** Stored Responses API answers (src/responses/). */
  responses: Parsed["responses"];
  /**
   * NATS when `url` is set (shown redacted, servers comma-separated); `servers`, `auth` and `ca`
   * are what connections use (src/lib/nats_connect.ts).
   */
  nats: Omit<Parsed["nats"], "url" | "auth" | "tls"> & NatsAccess & { url?: string };
  /** GET /dashboard: a NATS websocket URL for browsers (else the page uses the SSE relay). */
  dashboard: { natsWsUrl?: string; natsAuth?: DashboardNatsAuth };
  /** USD per million tokens, keyed "provider/model" (the model as sent upstream). */
  pricing: Readonly<Parsed["pricing"]>;
  /** Virtual keys declared in gateway.json, secrets resolved from the environment. */
  virtualKeys: readonly VirtualKeyConfig[];
  /** MCP servers (src/mcp/), env references resolved. */
  mcp: McpConfig;
  /**
   * GATEWAY_ADMIN_KEY: enables /admin/keys and puts the operator endpoints (/v1/gateway/*,
   * /dashboard) behind it; absent = the admin API is off and the operator endpoints are open.
   */
  adminKey?: string;
  /** METRICS_TOKEN: GET /metrics wants it as a bearer token; absent = /metrics is open. */
  metricsToken?: string;
  /** Where the config came from, for the start-up lines. */
  source: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = (name: string) => string | undefined;

/** Env vars that make a provider appear when there is no gateway.json (one per catalogue type). */
const ENV_PROVIDERS = PROVIDER_TYPES.flatMap((type) => {
  const t = providerTypeInfo(type);
  return t?.envKey ? [{ id: type, type, env: t.envKey, envBaseUrl: t.envBaseUrl }] : [];
});

function formatIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")
      .replace(/^\./, "");
    // A record key issue says only "Invalid key in record"; the key's own message says why.
    const inner = i.code === "invalid_key" ? i.issues.map((x) => x.message) : [];
    return `  - ${path || "(root)"}: ${inner.length ? inner.join("; ") : i.message}`;
  });
  return `invalid configuration in ${source}:\n${lines.join("\n")}`;
}

/** Validates a parsed JSON document and resolves secrets and defaults. */
export function buildConfig(raw: unknown, env: Env, source: string): Config {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, source));
  const c = parsed.data;
  const missing: string[] = [];
  const providers: Record<string, ProviderConfig> = {};
  const resolve = (ref: string, field: string) => {
    const name = ref.slice(4);
    const secret = env(name);
    if (secret === undefined || secret === "") {
      missing.push(`  - ${field}: environment variable ${name} is not set`);
    }
    return { name, secret: secret ?? "" };
  };
  for (const [id, raw] of Object.entries(c.providers)) {
    const {
      accessKeyId,
      secretAccessKey,
      sessionToken,
      timeouts: own,
      credentials: keyFile,
      ...p
    } = raw;
    const { models: perModel, ...providerOwn } = own ?? {};
    const base = resolveTimeouts(providerOwn, c.timeouts);
    const timeouts: ProviderTimeouts = {
      ...base,
      models: Object.fromEntries(
        Object.entries(perModel ?? {}).map(([m, t]) => [m, resolveTimeouts(t, base)]),
      ),
    };
    const keys = p.keys.map((k, i) => {
      const { name, secret } = resolve(k.value, `providers.${id}.keys[${i}].value`);
      return { id: k.id ?? `${id}-${i}`, weight: k.weight, secret, env: name };
    });
    const info = providerTypeInfo(p.type);
    // Bedrock's endpoint is regional; every other type has one documented URL or needs baseUrl.
    const vertex = p.type === "vertex" ? vertexSettings(id, p, keyFile, resolve, missing) : {};
    const baseUrl = vertex.baseUrl ?? p.baseUrl ?? info?.baseUrl ??
      (p.region ? `https://bedrock-runtime.${p.region}.amazonaws.com` : undefined);
    if (!baseUrl && p.type !== "vertex") {
      missing.push(`  - providers.${id}.baseUrl: required for type "${p.type}"`);
    }
    let credentials: ProviderConfig["credentials"];
    if (accessKeyId && secretAccessKey) {
      credentials = {
        accessKeyId: resolve(accessKeyId, `providers.${id}.accessKeyId`).secret,
        secretAccessKey: resolve(secretAccessKey, `providers.${id}.secretAccessKey`).secret,
        sessionToken: sessionToken
          ? resolve(sessionToken, `providers.${id}.sessionToken`).secret
          : undefined,
      };
    } else if (accessKeyId || secretAccessKey) {
      missing.push(`  - providers.${id}: accessKeyId and secretAccessKey go together`);
    }
    providers[id] = {
      ...p,
      id,
      baseUrl: (baseUrl ?? "").replace(/\/+$/, ""),
      keys,
      credentials,
      timeouts,
      ...(vertex.serviceAccount
        ? { serviceAccount: vertex.serviceAccount, serviceAccountEnv: vertex.serviceAccountEnv }
        : {}),
    };
  }
  for (const [alias, route] of Object.entries(c.routes)) {
    for (const { path, target } of routeTargetPaths(route)) {
      const pid = target.slice(0, target.indexOf("/"));
      if (!Object.hasOwn(providers, pid)) {
        missing.push(`  - routes.${alias}${path}: unknown provider "${pid}"`);
      }
    }
  }
  const routePlans = Object.fromEntries(
    Object.entries(c.routes).map(([alias, route]) => [alias, toRoutePlan(route)]),
  );
  if (missing.length) {
    throw new ConfigError(`invalid configuration in ${source}:\n${missing.join("\n")}`);
  }
  const virtualKeys = resolveConfigKeys(c.virtualKeys, providers, resolve, missing);
  const mcp = resolveMcp(c.mcp, env, missing);
  if (missing.length) {
    throw new ConfigError(`invalid configuration in ${source}:\n${missing.join("\n")}`);
  }
  const portEnv = env("PORT");
  const port = portEnv !== undefined && portEnv !== "" ? Number(portEnv) : c.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`invalid configuration: PORT must be a port number, got "${portEnv}"`);
  }
  const host = env("HOST") || c.host || "0.0.0.0";
  if (/[\s/]/.test(host)) {
    throw new ConfigError(
      `invalid configuration: HOST must be an address to listen on, got "${host}"`,
    );
  }
  const nats = resolveNats(c.nats, env, source);
  const dashboardWsUrl = env("DASHBOARD_NATS_WS_URL") || c.dashboard.natsWsUrl;
  if (dashboardWsUrl && !WS_URL.test(dashboardWsUrl)) {
    throw new ConfigError(
      `invalid configuration: DASHBOARD_NATS_WS_URL must be a ws:// or wss:// URL, got "${dashboardWsUrl}"`,
    );
  }
  return deepFreeze({
    port,
    host,
    instance: env("GATEWAY_INSTANCE") || c.instance || `gw-${crypto.randomUUID().slice(0, 8)}`,
    workers: c.workers,
    providers,
    routes: Object.fromEntries(
      Object.entries(routePlans).map(([alias, plan]) => [alias, planTargets(plan)]),
    ),
    routePlans,
    plugins: c.plugins,
    timeouts: c.timeouts,
    retries: c.retries,
    limits: c.limits,
    streams: c.streams,
    responses: c.responses,
    nats,
    dashboard: {
      natsWsUrl: dashboardWsUrl || undefined,
      natsAuth: dashboardWsUrl ? dashboardAuth(c.dashboard.natsAuth, env, source) : undefined,
    },
    pricing: c.pricing,
    virtualKeys,
    mcp,
    adminKey: env("GATEWAY_ADMIN_KEY") || undefined,
    metricsToken: env("METRICS_TOKEN") || undefined,
    source,
  });
}

/**
 * A vertex provider's endpoint (project and region are required; `baseUrl` replaces the host) and
 * its service account key file, read and checked here so a bad one stops start-up naming the field.
 */
function vertexSettings(
  id: string,
  p: { project?: string; region?: string; baseUrl?: string },
  keyFile: string | undefined,
  resolve: (ref: string, field: string) => { name: string; secret: string },
  missing: string[],
): { baseUrl?: string; serviceAccount?: ServiceAccount; serviceAccountEnv?: string } {
  if (!p.project) missing.push(`  - providers.${id}.project: required for type "vertex"`);
  if (!p.region) {
    missing.push(
      `  - providers.${id}.region: required for type "vertex" (e.g. "us-central1" or "global")`,
    );
  }
  const baseUrl = p.project && p.region ? vertexBaseUrl(p.project, p.region, p.baseUrl) : undefined;
  if (!keyFile) return { baseUrl };
  const field = `providers.${id}.credentials`;
  const { name, secret } = resolve(keyFile, field);
  if (secret === "") return { baseUrl };
  try {
    return { baseUrl, serviceAccount: parseServiceAccount(secret), serviceAccountEnv: name };
  } catch (e) {
    if (!(e instanceof ServiceAccountError)) throw e;
    missing.push(`  - ${field}: the service account key file in ${name} ${e.message}`);
    return { baseUrl };
  }
}

/** The dashboard page's own NATS login (browsers speak user+password or a token). */
export type DashboardNatsAuth = { user: string; pass: string } | { auth_token: string };

/**
 * dashboard.natsAuth (env: refs resolved), else DASHBOARD_NATS_USER + DASHBOARD_NATS_PASSWORD or
 * DASHBOARD_NATS_TOKEN. Never the gateway's own credential: the page hands it to every browser.
 */
function dashboardAuth(
  a: Parsed["dashboard"]["natsAuth"],
  env: Env,
  source: string,
): DashboardNatsAuth | undefined {
  const fail = (m: string): never => {
    throw new ConfigError(`invalid configuration in ${source}:\n  - ${m}`);
  };
  const value = (v: string, field: string) => {
    if (!v.startsWith("env:")) return v;
    const got = env(v.slice(4));
    return got ? got : fail(`${field}: environment variable ${v.slice(4)} is not set`);
  };
  const user = a ? a.user : env("DASHBOARD_NATS_USER") || undefined;
  const password = a ? a.password : env("DASHBOARD_NATS_PASSWORD") || undefined;
  const token = a ? a.token : env("DASHBOARD_NATS_TOKEN") || undefined;
  const where = a ? "dashboard.natsAuth" : "DASHBOARD_NATS_*";
  if ((user === undefined) !== (password === undefined)) {
    fail(`${where}: user and password go together`);
  }
  if (user !== undefined && token !== undefined) {
    fail(`${where}: user+password or a token, not both`);
  }
  if (user !== undefined) {
    return { user: value(user, `${where}.user`), pass: value(password!, `${where}.password`) };
  }
  return token !== undefined ? { auth_token: value(token, `${where}.token`) } : undefined;
}

/**
 * The nats section with the environment applied: NATS_URL over nats.url, nats.auth (env: refs
 * resolved) over NATS_USER+NATS_PASSWORD / NATS_TOKEN / NATS_NKEY_SEED / NATS_CREDS, NATS_CA
 * over nats.tls.ca, NATS_REPLICAS and NATS_ALLOW_MUTABLE_STREAM over theirs.
 */
function resolveNats(n: Parsed["nats"], env: Env, source: string): Config["nats"] {
  const fail = (m: string) => {
    throw new ConfigError(`invalid configuration in ${source}:\n  - ${m}`);
  };
  const rawUrl = env("NATS_URL") || n.url;
  const { servers, userinfo } = rawUrl
    ? parseServers(rawUrl)
    : { servers: [], userinfo: undefined };
  for (const s of servers) {
    if (!/^wss?:\/\/[^\s]+$/.test(s)) {
      fail(
        `nats.url: "${
          describeServers([s])
        }" must be a ws:// or wss:// URL (the gateway uses the websocket listener)`,
      );
    }
  }
  const value = (v: string | undefined, field: string): string | undefined => {
    if (v === undefined || !v.startsWith("env:")) return v;
    const got = env(v.slice(4));
    if (got === undefined || got === "") {
      fail(`${field}: environment variable ${v.slice(4)} is not set`);
    }
    return got;
  };
  let auth: NatsAuth | undefined;
  if (n.auth) {
    const a = n.auth;
    const kinds = [a.user ?? a.password, a.token, a.nkeySeed, a.creds].filter((x) =>
      x !== undefined
    );
    if (kinds.length !== 1) {
      fail("nats.auth: set exactly one of user+password, token, nkeySeed or creds");
    }
    if (a.user !== undefined || a.password !== undefined) {
      if (a.user === undefined || a.password === undefined) {
        fail("nats.auth: user and password go together");
      }
      auth = {
        kind: "user",
        user: value(a.user, "nats.auth.user")!,
        password: value(a.password, "nats.auth.password")!,
      };
    } else if (a.token) auth = { kind: "token", token: value(a.token, "nats.auth.token")! };
    else if (a.nkeySeed) auth = { kind: "nkey", seed: value(a.nkeySeed, "nats.auth.nkeySeed")! };
    else if (a.creds) auth = { kind: "creds", path: value(a.creds, "nats.auth.creds")! };
  } else {
    try {
      auth = authFromEnv(env);
    } catch (err) {
      fail((err as Error).message);
    }
    if (!auth && userinfo) auth = { kind: "user", ...userinfo };
  }
  const replicasEnv = env("NATS_REPLICAS");
  const replicas = replicasEnv ? Number(replicasEnv) : n.replicas;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    fail(`NATS_REPLICAS: must be a whole number from 1 to 5, got "${replicasEnv}"`);
  }
  const mutableEnv = env("NATS_ALLOW_MUTABLE_STREAM");
  return {
    url: servers.length ? describeServers(servers) : undefined,
    servers,
    auth,
    ca: env("NATS_CA") || n.tls?.ca || undefined,
    stream: n.stream,
    maxAgeMs: n.maxAgeMs,
    replicas,
    allowMutableStream: mutableEnv ? /^(1|true|yes)$/i.test(mutableEnv) : n.allowMutableStream,
  };
}

/** With no file: one provider per API key found in the environment. */
export function configFromEnv(env: Env): Config {
  const providers: Record<string, unknown> = {};
  for (const p of ENV_PROVIDERS) {
    if (!env(p.env)) continue;
    // A type with no default URL (Azure) also needs its endpoint variable; a lone key serves nothing.
    const baseUrl = p.envBaseUrl ? env(p.envBaseUrl) : undefined;
    if (p.envBaseUrl && !baseUrl) continue;
    providers[p.id] = {
      type: p.type,
      keys: [{ value: `env:${p.env}` }],
      ...(baseUrl && { baseUrl }),
    };
  }
  return buildConfig({ providers }, env, "environment (no GATEWAY_CONFIG file)");
}

export async function loadConfig(env: Env = (n) => Deno.env.get(n)): Promise<Config> {
  const path = env("GATEWAY_CONFIG");
  if (!path) return configFromEnv(env);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new ConfigError(`cannot read GATEWAY_CONFIG file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  return buildConfig(raw, env, path);
}

/** JSON Schema of gateway.json, for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { io: "input" });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
