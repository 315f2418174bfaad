// Hand-made plugin contexts for plugin unit tests (the integration tests use real gateways).
import type { AttemptContext, CanonicalRequest, RequestContext } from "../../src/plugins/mod.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import type { ChatRequest } from "../../src/openai/types.ts";

export const chat = (body: Partial<ChatRequest> = {}): CanonicalRequest => ({
  kind: "chat",
  body: { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hello" }], ...body },
});

export function requestCtx(
  request: CanonicalRequest = chat(),
  o: { headers?: Record<string, string>; stream?: boolean; now?: () => number } = {},
): RequestContext & { published: GatewayEvent[] } {
  const published: GatewayEvent[] = [];
  return {
    requestId: "req-1",
    stream: o.stream ?? false,
    headers: new Headers(o.headers ?? {}),
    request,
    requested: { model: request.body.model, fallbacks: request.body.fallbacks ?? [] },
    chain: [{ provider: "openai", model: "gpt-4o-mini" }],
    metadata: {},
    responseHeaders: {},
    scratch: new Map(),
    now: o.now ?? (() => 1_000),
    publish: (e) => published.push(e),
    published,
  };
}

/** The attempt context the chain would give `pre` for this request context. */
export function attemptCtx(r: RequestContext, attempt = 1): AttemptContext {
  return {
    ...r,
    attempt,
    fallbackIndex: attempt - 1,
    candidate: r.chain[0],
    request: structuredClone(r.request) as CanonicalRequest,
    upstreamHeaders: {},
  };
}
