// The Vercel AI SDK's default OpenAI provider (`openai(model)` calls POST /v1/responses) against
// a real listening gateway and mock upstreams of both formats: text and streamed text.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";
import assert from "node:assert/strict";
import { completionText, startMockUpstream } from "../../../bench/mock/mod.ts";
import { mockProvider, startTestGateway } from "../../_support/gateway.ts";

async function withGateway(fn: (baseURL: string) => Promise<void>) {
  const mock = await startMockUpstream();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      oai: mockProvider(mock.url, "oai", "openai"),
      anthro: mockProvider(mock.url, "anthro", "anthropic"),
    },
  });
  try {
    await fn(`${gw.url}/v1`);
  } finally {
    await gw.shutdown(2_000);
    await mock.close();
  }
}

for (const [model, target] of [["oai/gpt-4o-mini", "oai"], ["anthro/claude-x", "anthro"]]) {
  Deno.test(`AI SDK generateText through /v1/responses, served by ${target}`, async () => {
    await withGateway(async (baseURL) => {
      const openai = createOpenAI({ apiKey: "x", baseURL });
      const r = await generateText({ model: openai(model), prompt: "hello", maxRetries: 0 });
      assert.equal(r.text, completionText(target));
      assert.equal(r.finishReason, "stop");
      assert.ok((r.usage.outputTokens ?? 0) > 0);
      assert.match(r.response.id, /^resp_/);
    });
  });

  Deno.test(`AI SDK streamText through /v1/responses, served by ${target}`, async () => {
    await withGateway(async (baseURL) => {
      const openai = createOpenAI({ apiKey: "x", baseURL });
      const r = streamText({ model: openai(model), prompt: "hello", maxRetries: 0 });
      let text = "";
      for await (const t of r.textStream) text += t;
      assert.equal(text, completionText(target));
      assert.equal(await r.finishReason, "stop");
    });
  });
}
