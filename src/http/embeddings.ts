// POST /v1/embeddings: OpenAI's embeddings format, with `fallbacks` across embedding providers.
// Candidates whose family has no embeddings API are skipped with that reason in the attempts.
import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import { validateEmbeddingsRequest } from "../openai/validate.ts";
import { openaiError } from "../formats/openai/mod.ts";
import { startCall } from "./call.ts";
import { runEmbeddings } from "./pipeline.ts";
import { readRequest } from "./request.ts";
import { callSignal } from "./signal.ts";

export function embeddings(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    const start = startCall(gw, c.req.header("x-request-id"));
    const body = await readRequest(gw, start, c.req.raw, validateEmbeddingsRequest);
    if (!body.ok) return openaiError(body);
    const out = await runEmbeddings(gw, start, body.value, callSignal(c), body.length);
    if (!out.ok) return openaiError(out);
    return c.json({ ...out.response, extra_fields: out.extra }, 200, out.headers);
  };
}
