// The event catalogue: the public contract for subscribers. Every transition in the gateway is
// one of these. Bump SCHEMA_VERSION on any incompatible change to a data shape.

export const SCHEMA_VERSION = 1;

/** Why a provider did not get an attempt. */
export type SkipReason = "circuit_open" | "rate_limited" | "model_unavailable" | "unsupported";

/** The failure taxonomy shared by the classifier, the actors, the events and the error bodies. */
export type FailureKind =
  | "transient"
  | "rate_limit"
  | "timeout"
  | "auth"
  | "quota"
  | "model_unavailable"
  | "caller_fault"
  /** The model cannot take this request (context too long, max_tokens above its limit, an
   * unsupported input or assistant prefill): not the provider's fault, but another may serve it. */
  | "capability"
  | "unknown";

export interface UsageFacts {
  promptTokens: number;
  completionTokens: number;
}

interface Attempt {
  at: number;
  requestId: string;
  attempt: number;
  provider: string;
  model: string;
}

export type GatewayEvent =
  | McpEvent
  | {
    type: "request.started";
    at: number;
    requestId: string;
    model: string;
    candidates: string[];
    stream: boolean;
    /** Caller-supplied labels (the `x-gateway-metadata` header, via the headers plugin). */
    metadata?: Record<string, string>;
  }
  | {
    type: "request.completed";
    at: number;
    requestId: string;
    provider: string;
    model: string;
    fallbackIndex: number;
    attempts: number;
    latencyMs: number;
    upstreamLatencyMs: number;
    metadata?: Record<string, string>;
  }
  | {
    type: "request.failed";
    at: number;
    requestId: string;
    status: number;
    errorType: string;
    message: string;
    attempts: number;
    retryAfterMs?: number;
    /** The upstream's own error code when it decided the answer (e.g. context_length_exceeded). */
    code?: string;
    metadata?: Record<string, string>;
  }
  | (Attempt & {
    type: "attempt.started";
    key: string;
    probe: boolean;
    /** Tokens reserved in the TPM bucket for this attempt (an estimate, corrected on success). */
    reservedTokens: number;
  })
  | (Attempt & {
    type: "attempt.succeeded";
    key: string;
    probe: boolean;
    status: number;
    latencyMs: number;
    reservedTokens: number;
    usage?: UsageFacts;
    /** Streams only: ms from the start of the attempt to its first content chunk. */
    ttftMs?: number;
    /** Streams only: malformed events skipped in an otherwise healthy stream. */
    skippedEvents?: number;
  })
  | (Attempt & {
    type: "attempt.failed";
    key: string;
    probe: boolean;
    status?: number;
    errorType: FailureKind;
    message: string;
    latencyMs: number;
    retryAfterMs?: number;
    /** Whether this failure counts against a breaker window. */
    counted: boolean;
    /**
     * Which breaker a counted failure counts against: "provider" for what breaks every model
     * (connection refused, DNS/TLS, a rejected key), else the model's own.
     */
    scope?: "provider" | "model";
    /** The upstream's error code, when it sent one (e.g. context_length_exceeded). */
    code?: string;
  })
  | (Attempt & {
    type: "attempt.aborted";
    key: string;
    probe: boolean;
    latencyMs: number;
  })
  | (Attempt & {
    type: "attempt.skipped";
    reason: SkipReason;
    retryAfterMs: number;
    /** Why, when the reason alone does not say (e.g. which parameter is unsupported). */
    message?: string;
  })
  | (Attempt & {
    type: "attempt.retrying";
    errorType: FailureKind;
    delayMs: number;
  })
  | {
    type: "fallback.taken";
    at: number;
    requestId: string;
    /** The candidate we fall over to. */
    provider: string;
    model: string;
    fallbackIndex: number;
    fromProvider: string;
    fromModel: string;
    reason: string;
  }
  | {
    type: "breaker.opened";
    at: number;
    provider: string;
    /** The model whose breaker this is; absent for the provider-wide breaker. */
    model?: string;
    reason: string;
    openMs: number;
    until: number;
    failureRate: number;
    samples: number;
    reopenCount: number;
  }
  | { type: "breaker.half_opened"; at: number; provider: string; model?: string; probes: number }
  | { type: "breaker.closed"; at: number; provider: string; model?: string }
  | {
    type: "ratelimit.blocked";
    at: number;
    provider: string;
    key: string;
    /** The (key, model) pair that is blocked; absent when the whole key is (quota, key limits). */
    model?: string;
    reason: "retry_after" | "rpm" | "tpm" | "quota";
    until: number;
  }
  | { type: "ratelimit.refilled"; at: number; provider: string; key: string; model?: string }
  | {
    type: "model.unavailable";
    at: number;
    provider: string;
    model: string;
    until: number;
    message: string;
  }
  | {
    /**
     * A stream that failed after content reached the client goes on with another attempt: the
     * client receives one answer. `provider`/`model` continue what `from*` started.
     */
    type: "stream.continued";
    at: number;
    requestId: string;
    attempt: number;
    provider: string;
    model: string;
    fromProvider: string;
    fromModel: string;
    /** "prefill": the partial answer as the assistant's own start; "continue": an explicit turn. */
    mode: "prefill" | "continue";
    /** Characters of answer text the client had received before the failure. */
    sentChars: number;
    reason: string;
  }
  | {
    /** Answered from the response cache: no upstream call. Provider/model served it originally. */
    type: "cache.hit";
    at: number;
    requestId: string;
    provider: string;
    model: string;
    /** First 16 hex digits of the request's cache key (the semantic cache: of its scope). */
    key: string;
    ageMs: number;
    /** Semantic cache only: cosine similarity of the question to the stored one (4 decimals). */
    similarity?: number;
  }
  | {
    /** A plugin ended the chain: no further fallback; the client got `reason` in the error. */
    type: "plugin.stopped";
    at: number;
    requestId: string;
    plugin: string;
    reason: string;
    status: number;
    /** The attempt the plugin stopped at; absent when it stopped the request before any. */
    attempt?: number;
    provider?: string;
    model?: string;
  }
  | {
    /** A virtual key (or its absence) stopped a request before any upstream call. */
    type: "key.denied";
    at: number;
    requestId: string;
    reason: "unknown" | "revoked" | "model_not_allowed" | "rate_limited" | "over_budget";
    status: number;
    /** The key's id (never its secret); absent when no known key was presented. */
    virtualKey?: string;
    model?: string;
    retryAfterMs?: number;
    /** For rate_limited and over_budget: the level whose limit or budget refused. */
    level?: "key" | "team" | "customer";
    /** The key's team and that team's customer (ids), when it has them. */
    team?: string;
    customer?: string;
  }
  | {
    /** What a served request cost its virtual key (from the served attempt's usage). */
    type: "key.spend";
    at: number;
    requestId: string;
    virtualKey: string;
    provider: string;
    model: string;
    promptTokens: number;
    completionTokens: number;
    costUsd: number;
    /** False when `pricing` has no entry for provider/model (the cost then counts as 0). */
    priced: boolean;
    /** The key's spend in its current budget period (calendar month without a budget). */
    periodSpentUsd: number;
    budgetUsd?: number;
    /** The key's team and that team's customer (ids): the charge counted toward both. */
    team?: string;
    customer?: string;
  };

/** An MCP server's tool call: `callId` ties called → succeeded/failed; never the arguments. */
interface McpCall {
  at: number;
  /** The MCP server (gateway.json mcp.servers); the subject's last token. */
  server: string;
  /** The tool's name on its server (clients see it as <server>__<tool>). */
  tool: string;
  callId: string;
  /** Taken as a half-open probe of the server's breaker. */
  probe: boolean;
  /** The chat request whose loop called it, when the gateway ran the tool itself. */
  requestId?: string;
}

/** Why an MCP tool call failed: the server's fault (counted by its breaker) or not. */
export type McpFailureKind =
  | "timeout"
  | "unreachable"
  | "protocol"
  | "circuit_open"
  | "invalid_arguments"
  | "aborted";

/** MCP servers (src/mcp/): tool calls, health pings, tool lists and each server's breaker. */
export type McpEvent =
  | (McpCall & { type: "mcp.tool_called" })
  | (McpCall & {
    type: "mcp.tool_succeeded";
    latencyMs: number;
    /** The tool answered with `isError: true` (its own failure; the server is healthy). */
    isError: boolean;
  })
  | (McpCall & {
    type: "mcp.tool_failed";
    latencyMs: number;
    errorType: McpFailureKind;
    message: string;
    /** Whether it counts against the server's breaker. */
    counted: boolean;
    retryAfterMs?: number;
  })
  | {
    type: "mcp.pinged";
    at: number;
    server: string;
    callId: string;
    ok: boolean;
    latencyMs: number;
    probe: boolean;
    message?: string;
  }
  | {
    type: "mcp.tools_listed";
    at: number;
    server: string;
    /** Tools served after allow/deny. */
    tools: number;
    /** Tools the server listed (over every page). */
    listed: number;
    pages: number;
    reason: "connected" | "list_changed" | "reconnected";
  }
  | {
    type: "mcp.breaker_opened";
    at: number;
    server: string;
    reason: string;
    openMs: number;
    until: number;
    failureRate: number;
    samples: number;
    reopenCount: number;
  }
  | { type: "mcp.breaker_half_opened"; at: number; server: string; probes: number }
  | { type: "mcp.breaker_closed"; at: number; server: string };

export type EventType = GatewayEvent["type"];
export type EventOf<T extends EventType> = Extract<GatewayEvent, { type: T }>;

/** Every event type, in catalogue order (docs/events.md lists the same). */
export const EVENT_TYPES: readonly EventType[] = [
  "request.started",
  "request.completed",
  "request.failed",
  "attempt.started",
  "attempt.succeeded",
  "attempt.failed",
  "attempt.aborted",
  "attempt.skipped",
  "attempt.retrying",
  "fallback.taken",
  "breaker.opened",
  "breaker.half_opened",
  "breaker.closed",
  "ratelimit.blocked",
  "ratelimit.refilled",
  "model.unavailable",
  "stream.continued",
  "cache.hit",
  "plugin.stopped",
  "key.denied",
  "key.spend",
  "mcp.tool_called",
  "mcp.tool_succeeded",
  "mcp.tool_failed",
  "mcp.pinged",
  "mcp.tools_listed",
  "mcp.breaker_opened",
  "mcp.breaker_half_opened",
  "mcp.breaker_closed",
];

/** The provider an event is about, or undefined for request-level events. */
export function eventProvider(event: GatewayEvent): string | undefined {
  return "provider" in event ? event.provider : undefined;
}

/** The MCP server an event is about (mcp.* events), else undefined. */
export function eventServer(event: GatewayEvent): string | undefined {
  return "server" in event ? event.server : undefined;
}

/** NATS subject: gateway.<category>.<event>.<provider, MCP server or _>. */
export function subjectOf(event: GatewayEvent): string {
  return `gateway.${event.type}.${eventProvider(event) ?? eventServer(event) ?? "_"}`;
}
