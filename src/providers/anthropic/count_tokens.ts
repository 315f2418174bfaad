// Anthropic's token counter, `POST {baseUrl}/messages/count_tokens`: the same body as a Messages
// request without `max_tokens` (model, messages, system, tools, tool_choice, thinking, …), the
// answer `{"input_tokens": N}`. The gateway asks it for POST /anthropic/v1/messages/count_tokens
// (src/formats/anthropic/count_tokens.ts). Pure: the request to send and the reading of the answer.
import type { UpstreamRequest } from "../adapter.ts";
import { isObject } from "../upstream_json.ts";
import { ANTHROPIC_VERSION } from "./adapter.ts";

/**
 * The upstream request: the client's body with the upstream model name, the provider's key and
 * Anthropic's version header; `anthropic-beta` passes on when the client sent one (features such
 * as newer tool types are counted only under their beta).
 */
export function buildCountTokensRequest(
  body: Record<string, unknown>,
  target: { baseUrl: string; apiKey: string; model: string; beta?: string | null },
): UpstreamRequest {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    "anthropic-version": ANTHROPIC_VERSION,
  };
  if (target.apiKey !== "") headers["x-api-key"] = target.apiKey;
  if (target.beta) headers["anthropic-beta"] = target.beta;
  return {
    url: `${target.baseUrl}/messages/count_tokens`,
    method: "POST",
    headers,
    body: JSON.stringify({ ...body, model: target.model }),
  };
}

/** The count in an upstream answer, or undefined when it is not `{"input_tokens": N}`. */
export function readInputTokens(answer: unknown): number | undefined {
  if (!isObject(answer)) return undefined;
  const n = answer.input_tokens;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 ? n : undefined;
}
