// The shared adapter contract: every adapter family supplies one ContractCase (fixtures in its
// provider's documented wire format) and the same checks run over all of them.
import assert from "node:assert/strict";
import type { FailureKind } from "../../../src/events/catalogue.ts";
import type { ChatChunk, ChatRequest, Usage } from "../../../src/openai/types.ts";
import {
  type AdapterContext,
  classifyHttpFailure,
  parseSse,
  type ProviderAdapter,
  type UpstreamRequest,
} from "../../../src/providers/mod.ts";

export interface ContractCase {
  /** Adapter family, as registered in src/providers/families.ts. */
  family: string;
  ctx: Partial<AdapterContext>;
  /** A request using system + user messages, temperature and max_tokens. */
  request: ChatRequest;
  /** Checks URL, auth headers and body shape of the upstream request. */
  expectRequest(up: UpstreamRequest, body: unknown): void | Promise<void>;
  /** A 2xx JSON body in the provider's documented format, and what it must map to. */
  response: unknown;
  expectResponse: { content: string; finishReason: string; usage: Partial<Usage> };
  /** A raw streaming body exactly as the provider sends it, and what it must decode to. */
  stream: Uint8Array | string;
  expectStream: { content: string; finishReason: string; usage?: Partial<Usage> };
  /** Error answers (status, headers, body) and the failure kind each must classify as. */
  errors: { status: number; headers?: Record<string, string>; body: string; kind: FailureKind }[];
}

export const baseCtx: AdapterContext = {
  baseUrl: "https://upstream.test/v1",
  apiKey: "sk-contract",
  model: "contract-model",
  stream: false,
  nowSec: 1_700_000_000,
  id: "chatcmpl-contract",
  now: 1_700_000_000_000,
  settings: {},
};

export const contractRequest: ChatRequest = {
  model: "p/contract-model",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Say hello." },
  ],
  temperature: 0.5,
  max_tokens: 64,
};

/** Feeds `body` to the adapter's stream reader in uneven pieces, as a network would. */
function pieces(body: Uint8Array | string): ReadableStream<Uint8Array> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  let at = 0;
  let size = 1;
  return new ReadableStream({
    pull(ctl) {
      if (at >= bytes.length) return ctl.close();
      ctl.enqueue(bytes.slice(at, at + size));
      at += size;
      size = (size * 7) % 23 + 1;
    },
  });
}

export async function runContract(adapter: ProviderAdapter, c: ContractCase): Promise<void> {
  const ctx = { ...baseCtx, ...c.ctx };

  const up = await adapter.buildChatRequest(c.request, { ...ctx, stream: false });
  assert.equal(up.method, "POST");
  const text = typeof up.body === "string" ? up.body : new TextDecoder().decode(up.body);
  await c.expectRequest(up, JSON.parse(text));
  assert.ok(!text.includes('"fallbacks"'), "gateway-only fields never reach the upstream");

  const completion = adapter.parseChatResponse(c.response, ctx);
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices[0].message.role, "assistant");
  assert.equal(completion.choices[0].message.content, c.expectResponse.content);
  assert.equal(completion.choices[0].finish_reason, c.expectResponse.finishReason);
  assert.partialDeepStrictEqual(completion.usage, c.expectResponse.usage);

  const sctx = { ...ctx, stream: true };
  const decoder = adapter.createStreamDecoder(sctx);
  const events = adapter.readStream
    ? adapter.readStream(pieces(c.stream))
    : parseSse(pieces(c.stream));
  const chunks: ChatChunk[] = [];
  for await (const e of events) {
    chunks.push(...decoder.push(e));
    if (decoder.finished) break;
  }
  assert.ok(decoder.finished, "the decoder saw the provider's end of stream");
  for (const ch of chunks) assert.equal(ch.object, "chat.completion.chunk");
  const content = chunks.map((ch) => ch.choices[0]?.delta.content ?? "").join("");
  assert.equal(content, c.expectStream.content);
  const finish = chunks.flatMap((ch) => ch.choices.map((x) => x.finish_reason)).filter((x) => x);
  assert.deepEqual(finish, [c.expectStream.finishReason]);
  if (c.expectStream.usage) {
    const usage = chunks.map((ch) => ch.usage).filter((u) => u).pop();
    assert.partialDeepStrictEqual(usage, c.expectStream.usage);
  }

  for (const e of c.errors) {
    const info = adapter.parseError(e.status, e.body);
    assert.ok(info.message.length > 0, `error ${e.status} has a message`);
    const failure = classifyHttpFailure({
      status: e.status,
      headers: new Headers(e.headers),
      error: info,
      now: ctx.now,
    });
    assert.equal(failure.kind, e.kind, `${c.family} ${e.status} ${e.body.slice(0, 80)}`);
  }
}
