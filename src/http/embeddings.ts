// POST /v1/embeddings: OpenAI's embeddings format, with `fallbacks` across embedding providers.
// Candidates whose family has no embeddings API are skipped with that reason in the attempts.
import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import { validateEmbeddingsRequest } from "../openai/validate.ts";
import { openaiError } from "../formats/openai/mod.ts";
import { runEmbeddings } from "./pipeline.ts";
import { beginCall, readRequest } from "./request.ts";
import { callSignal } from "./signal.ts";

export function embeddings(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    const begun = beginCall(gw, c.req.raw);
    const { start } = begun;
    const body = await readRequest(gw, begun, c.req.raw, validateEmbeddingsRequest);
    if (!body.ok) return openaiError(body);
    const out = await runEmbeddings(gw, start, body.value, callSignal(c), body.length);
    if (!out.ok) return openaiError(out);
    return c.json({ ...out.response, extra_fields: out.extra }, 200, out.headers);
  };
}
