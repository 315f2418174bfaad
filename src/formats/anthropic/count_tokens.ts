// POST /anthropic/v1/messages/count_tokens: Anthropic's token counter, which Claude Code calls
// every turn. The body is a Messages request without `max_tokens`; the answer `{"input_tokens"}`.
//
// The model (`provider/model`, or a route alias, with `fallbacks` or `x-gateway-fallbacks`) is
// planned like a Messages call, virtual key included. Each candidate served by an Anthropic-type
// provider is asked in turn (its own /messages/count_tokens, the provider's key): the first count
// it gives is the answer, exactly. When no candidate is Anthropic's, or every one failed, the
// answer is an estimate from the text (./token_estimate.ts), marked `x-gateway-estimate: true`.
// Refusals (bad body, unknown provider, key) are Anthropic-shaped, as on /anthropic/v1/messages.
import type { Context } from "hono";
import { z } from "zod";
import type { Gateway } from "../../gateway.ts";
import { admitCall } from "../../http/admission.ts";
import { parseFallbacksHeader } from "../../http/call.ts";
import { beginCall, readRequest } from "../../http/request.ts";
import { callSignal } from "../../http/signal.ts";
import { invalidRequest, type Result } from "../../lib/errors.ts";
import { parseWith } from "../../openai/validate.ts";
import {
  buildCountTokensRequest,
  readInputTokens,
} from "../../providers/anthropic/count_tokens.ts";
import { attemptTimeouts } from "../../providers/execute.ts";
import { anthropicMessages } from "./format.ts";
import { text } from "./request_schema.ts";
import { estimateInputTokens } from "./token_estimate.ts";

/** What the gateway checks of the body; the rest goes to the upstream as the client sent it. */
export const CountTokensSchema = z.looseObject({
  model: z.string().min(1, 'model is required, e.g. "anthropic/claude-3-5-haiku-latest"'),
  messages: z.array(z.looseObject({
    role: z.enum(["user", "assistant"]),
    content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
  })).min(1, "messages must hold at least one message"),
  system: z.union([z.string(), z.array(text)]).optional(),
  tools: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
  tool_choice: z.looseObject({ type: z.string() }).optional(),
  thinking: z.looseObject({ type: z.string() }).optional(),
  /** Gateway extension: more "provider/model" candidates, tried in order. */
  fallbacks: z.array(z.string().min(1)).max(10).optional(),
});
export type CountTokensRequest = z.infer<typeof CountTokensSchema>;

/** The decoded body as a count_tokens request, or a 400 naming the offending field. */
export function parseCountTokens(json: unknown): Result<CountTokensRequest> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return invalidRequest("The request body must be a JSON object.");
  }
  return parseWith(CountTokensSchema, json);
}

const counted = (n: number, headers: Record<string, string>) =>
  new Response(JSON.stringify({ input_tokens: n }), {
    status: 200,
    headers: { "content-type": "application/json", ...headers },
  });

/** The Hono handler; mount it before the catch-all `/anthropic/*` route. */
export function countTokens(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    const begun = beginCall(gw, c.req.raw);
    const { start } = begun;
    const req = await readRequest(gw, begun, c.req.raw, parseCountTokens);
    if (!req.ok) return anthropicMessages.encodeError(req);
    const { fallbacks, ...body } = req.value;
    const headerFallbacks = parseFallbacksHeader(c.req.header("x-gateway-fallbacks"));
    const gate = await admitCall(gw.governor, gw.plan, start, {
      model: body.model,
      fallbacks: fallbacks ?? (headerFallbacks.length ? headerFallbacks : undefined),
      headers: start.headers,
    });
    if (!gate.ok) return anthropicMessages.encodeError(gate);
    const ids = { "x-request-id": start.requestId, "request-id": start.requestId };
    const signal = callSignal(c);
    let asked = 0;
    for (const candidate of gate.plan.candidates) {
      const target = gw.targets.get(candidate.provider);
      if (!target || target.adapter.family !== "anthropic") continue;
      asked++;
      const beta = c.req.header("anthropic-beta");
      const n = await askUpstream(gw, target, candidate, body, beta, signal);
      if (n === undefined) continue;
      return counted(n, {
        ...ids,
        "x-gateway-provider": candidate.provider,
        "x-gateway-model": candidate.model,
        "x-gateway-attempts": String(asked),
      });
    }
    return counted(estimateInputTokens(body), {
      ...ids,
      "x-gateway-estimate": "true",
      "x-gateway-attempts": String(asked),
    });
  };
}

/** One Anthropic upstream's count, or undefined when it could not give one (any failure). */
async function askUpstream(
  gw: Gateway,
  target: NonNullable<ReturnType<Gateway["targets"]["get"]>>,
  { provider, model }: { provider: string; model: string },
  body: Omit<CountTokensRequest, "fallbacks">,
  beta: string | undefined,
  client: AbortSignal,
): Promise<number | undefined> {
  const apiKey = target.secrets.values().next().value ?? "";
  const up = buildCountTokensRequest(body, { baseUrl: target.baseUrl, apiKey, model, beta });
  const signal = AbortSignal.any([
    client,
    AbortSignal.timeout(attemptTimeouts(target, model).headersMs),
  ]);
  try {
    const res = await gw.deps.http.fetch(up.url, { ...up, signal });
    if (!res.ok) {
      await res.body?.cancel();
      gw.deps.logger.warn("count_tokens upstream failed", { provider, model, status: res.status });
      return undefined;
    }
    return readInputTokens(await res.json());
  } catch (e) {
    gw.deps.logger.warn("count_tokens upstream failed", { provider, model, error: String(e) });
    return undefined;
  }
}
