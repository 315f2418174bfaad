// The gateway's embeddings pipeline as a function, for plugins that need vectors (the semantic
// cache): the same planning, providers, failover, events and virtual-key checks as a client's
// POST /v1/embeddings, run in-process as the same caller (its credential headers are carried
// over, so its key is the one charged and its model rules apply).
import type { Gateway } from "../gateway.ts";
import type { Embed } from "../plugins/mod.ts";
import { authenticateCall } from "./admission.ts";
import { runEmbeddings } from "./pipeline.ts";

/** Headers that carry the caller's credential (see admission.ts credentialOf). */
const CREDENTIAL_HEADERS = ["authorization", "x-api-key", "x-goog-api-key"];

export function inProcessEmbedder(gw: Gateway): Embed {
  return async (input, o) => {
    const headers = new Headers();
    for (const h of CREDENTIAL_HEADERS) {
      const v = o.headers.get(h);
      if (v !== null) headers.set(h, v);
    }
    const start = { t0: gw.deps.clock.now(), requestId: `${o.requestId}.embed`, headers };
    const req = new Request("http://gateway.internal/v1/embeddings", { headers });
    const refused = await authenticateCall(gw.governor, start, req);
    if (refused) throw new Error(`embeddings refused: ${refused.status} ${refused.message}`);
    const out = await runEmbeddings(
      gw,
      start,
      { model: o.model, fallbacks: o.fallbacks.length ? [...o.fallbacks] : undefined, input },
      new AbortController().signal,
      input.length,
    );
    if (!out.ok) throw new Error(`embeddings failed: ${out.status} ${out.message}`);
    const v = out.response.data[0]?.embedding;
    if (!Array.isArray(v)) throw new Error("embeddings: no vector in the answer");
    return v;
  };
}
