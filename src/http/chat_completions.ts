// POST /v1/chat/completions: validate, resolve the candidate chain, run the supervisor, answer
// JSON or SSE with the gateway headers. Streams are committed only once the first content
// arrived, so everything before that can still fall over.
import type { Context } from "hono";
import { supervise, type Supervised } from "../../actors/supervisor/mod.ts";
import type { Gateway } from "../gateway.ts";
import type { ChatChunk, ChatCompletion, ChatRequest } from "../openai/types.ts";
import { validateChatRequest } from "../openai/validate.ts";
import {
  executeJson,
  executeStream,
  failureOf,
  type StartedStream,
  usageFacts,
} from "../providers/execute.ts";
import { resolveCandidates } from "../routing.ts";
import { readBody } from "./body.ts";
import { errorBody, errorResponse } from "./errors.ts";
import { extraFields, gatewayHeaders, type Served } from "./gateway_headers.ts";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

const CODE_BY_STATUS: Record<number, string> = {
  404: "model_not_found",
  429: "rate_limited",
  499: "client_closed_request",
  502: "upstream_error",
  503: "providers_unavailable",
  504: "upstream_timeout",
};

/** A rough token count for the TPM bucket; corrected from the upstream's usage afterwards. */
function estimateTokens(bodyLength: number, req: ChatRequest): number {
  return Math.ceil(bodyLength / 4) + (req.max_completion_tokens ?? req.max_tokens ?? 0);
}

export function chatCompletions(gw: Gateway) {
  const { clock, ids, config, http } = gw.deps;
  return async (c: Context): Promise<Response> => {
    const t0 = clock.now();
    const sent = c.req.header("x-request-id");
    const requestId = sent && REQUEST_ID.test(sent) ? sent : ids.next();
    const idHeader = { "x-request-id": requestId };
    const bad = (status: number, message: string, code: string, param: string | null = null) =>
      errorResponse(status, message, "invalid_request_error", code, { param, headers: idHeader });

    if (gw.draining) {
      return errorResponse(
        503,
        "The gateway is shutting down; retry on another instance.",
        "unavailable",
        "draining",
        {
          headers: idHeader,
          retryAfterMs: 1000,
        },
      );
    }
    const body = await readBody(c.req.raw, config.limits.maxBodyBytes);
    if (!body.ok) return bad(body.status, body.message, body.code);
    let json: unknown;
    try {
      json = JSON.parse(body.text);
    } catch (e) {
      return bad(
        400,
        `The request body is not valid JSON: ${(e as Error).message}`,
        "invalid_json",
      );
    }
    const v = validateChatRequest(json);
    if (!v.ok) return bad(400, v.error.message, "invalid_request", v.error.param || null);
    const req = v.value;
    const chain = resolveCandidates(config, req.model, req.fallbacks);
    if (!chain.ok) return bad(400, chain.message, chain.code, chain.param);

    const stream = req.stream === true;
    const exec = { http, clock };
    gw.inFlight++;
    let handedToStream = false;
    try {
      const result = await supervise<ChatCompletion | StartedStream>(
        gw.supervisor,
        {
          requestId,
          model: req.model,
          candidates: chain.candidates,
          stream,
          estTokens: estimateTokens(body.text.length, req),
          signal: c.req.raw.signal,
        },
        (a) => {
          const target = gw.targets.get(a.candidate.provider)!;
          const spec = {
            model: a.candidate.model,
            key: a.key,
            id: `chatcmpl-${requestId}`,
            signal: a.signal,
          };
          return stream
            ? executeStream(exec, target, req, spec)
            : executeJson(exec, target, req, spec);
        },
      );
      const served = (r: Supervised<unknown>): Served => {
        const state = r.ok ? r.state() : r.state;
        const upstream = state.attempts.reduce((sum, a) => sum + a.latency_ms, 0);
        return {
          requestId,
          requested: req.model,
          candidate: r.ok ? r.candidate : undefined,
          state,
          overheadMs: Math.max(0, clock.now() - t0 - upstream - state.waitedMs),
        };
      };
      if (!result.ok) {
        const f = result.failure;
        return errorResponse(
          f.status,
          f.message,
          f.errorType,
          CODE_BY_STATUS[f.status] ?? "upstream_rejected_request",
          {
            headers: gatewayHeaders(served(result)),
            retryAfterMs: f.retryAfterMs,
          },
        );
      }
      if (!stream) {
        const s = served(result) as Served & { candidate: NonNullable<Served["candidate"]> };
        const completion = result.value as ChatCompletion;
        const upstream = s.state.attempts[s.state.attempts.length - 1]?.latency_ms ?? 0;
        return c.json(
          { ...completion, extra_fields: extraFields(s, clock.now() - t0, upstream) },
          200,
          gatewayHeaders(s),
        );
      }
      handedToStream = true;
      return sseResponse(
        gw,
        result as Extract<Supervised<StartedStream>, { ok: true }>,
        served(result),
        req,
      );
    } finally {
      if (!handedToStream) gw.inFlight--;
    }
  };
}

const encoder = new TextEncoder();
const frame = (data: unknown, event?: string) =>
  encoder.encode(
    `${event ? `event: ${event}\n` : ""}data: ${
      typeof data === "string" ? data : JSON.stringify(data)
    }\n\n`,
  );
const usageOnly = (c: ChatChunk) => c.choices.length === 0;

/**
 * Relays the committed stream. Pull-based so a slow client applies backpressure to the upstream;
 * a mid-stream failure ends with an OpenAI-shaped `event: error` and no [DONE].
 */
function sseResponse(
  gw: Gateway,
  r: Extract<Supervised<StartedStream>, { ok: true }>,
  served: Served,
  req: ChatRequest,
): Response {
  const { clock } = gw.deps;
  const s = r.value;
  const wantUsage = req.stream_options?.include_usage === true;
  let ended = false;
  const end = (outcome: Parameters<typeof r.settle>[0]) => {
    if (ended) return;
    ended = true;
    gw.inFlight--;
    r.settle(outcome);
  };
  const keep = (c: ChatChunk) => wantUsage || !usageOnly(c);
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      for (const c of s.first) if (keep(c)) ctl.enqueue(frame(c));
    },
    async pull(ctl) {
      try {
        while (true) {
          const n = await s.rest.next();
          if (n.done) {
            ctl.enqueue(frame("[DONE]"));
            ctl.close();
            end({
              type: "success",
              status: 200,
              latencyMs: clock.now() - s.startedAt,
              usage: usageFacts(s.usage()),
            });
            return;
          }
          if (keep(n.value)) {
            ctl.enqueue(frame(n.value));
            return;
          }
        }
      } catch (e) {
        const failure = failureOf(e, clock.now());
        const provider = r.candidate.provider;
        ctl.enqueue(frame(
          errorBody(
            `${provider} failed mid-stream: ${failure.message}`,
            failure.kind,
            "upstream_stream_error",
          ),
          "error",
        ));
        ctl.close();
        end({ type: "failure", failure, latencyMs: clock.now() - s.startedAt });
      }
    },
    async cancel() {
      end({ type: "aborted", latencyMs: clock.now() - s.startedAt });
      await s.rest.return(undefined).catch(() => {});
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...gatewayHeaders(served),
    },
  });
}
