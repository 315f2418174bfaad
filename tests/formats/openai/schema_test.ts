// Chat answers on /v1/chat/completions, JSON and stream chunks, validated with ajv against the
// components of OpenAI's published OpenAPI spec (tests/_support/openai_chat_schema.ts): answers
// translated from Anthropic and Gemini mock upstreams, an OpenAI mock, and a bare compatible
// server that leaves out `refusal` and `logprobs` (as vLLM or Ollama may).
import { Ajv } from "ajv";
import assert from "node:assert/strict";
import { startMockUpstream } from "../../../bench/mock/mod.ts";
import type { ConfigFile } from "../../../src/config.ts";
import { mockProvider, startTestGateway } from "../../_support/gateway.ts";
import {
  CreateChatCompletionResponse,
  CreateChatCompletionStreamResponse,
} from "../../_support/openai_chat_schema.ts";

const ajv = new Ajv({ allErrors: true, strict: false });
const validAnswer = ajv.compile(CreateChatCompletionResponse);
const validChunk = ajv.compile(CreateChatCompletionStreamResponse);

function assertValid(valid: typeof validAnswer, value: unknown, what: string): void {
  const ok = valid(value);
  assert.ok(ok, `${what}: ${ajv.errorsText(valid.errors)}\n${JSON.stringify(value)}`);
}

/** An OpenAI-compatible server that answers only the fields it must (no refusal, no logprobs). */
function bareCompatible() {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () =>
    Response.json({
      id: "bare-1",
      object: "chat.completion",
      created: 1_700_000_000,
      model: "bare-model",
      choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
    }));
  return { url: `http://127.0.0.1:${server.addr.port}/v1`, close: () => server.shutdown() };
}

const config = (mockUrl: string, bareUrl: string): ConfigFile => ({
  retries: { max: 0 },
  providers: {
    anth: mockProvider(mockUrl, "anth", "anthropic"),
    gem: { type: "gemini", baseUrl: `${mockUrl}/gem/v1beta`, timeouts: { firstTokenMs: 2_000 } },
    oai: mockProvider(mockUrl, "oai", "openai"),
    bare: { type: "vllm", baseUrl: bareUrl },
  },
});

const body = (model: string, stream: boolean) =>
  JSON.stringify({ model, stream, messages: [{ role: "user", content: "Say hello" }] });

Deno.test("JSON answers and stream chunks match OpenAI's published schemas, whatever the provider", async () => {
  const mock = await startMockUpstream();
  const bare = bareCompatible();
  const gw = startTestGateway(config(mock.url, bare.url));
  try {
    const post = (model: string, stream: boolean) =>
      fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body(model, stream),
      });
    for (const model of ["anth/claude-x", "gem/gemini-2.0-flash", "oai/gpt-4o-mini", "bare/m"]) {
      const res = await post(model, false);
      assert.equal(res.status, 200, model);
      const answer = await res.json();
      assertValid(validAnswer, answer, model);
      assert.equal(answer.choices[0].message.refusal, null, model);
      assert.equal(answer.choices[0].logprobs, null, model);
    }
    for (const model of ["anth/claude-x", "gem/gemini-2.0-flash", "oai/gpt-4o-mini"]) {
      const res = await post(model, true);
      assert.equal(res.status, 200, model);
      const data = (await res.text()).split("\n").filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6));
      assert.equal(data.at(-1), "[DONE]", model);
      const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
      assert.ok(chunks.some((c) => c.choices.length > 0), model);
      for (const [i, chunk] of chunks.entries()) {
        assertValid(validChunk, chunk, `${model} chunk ${i}`);
      }
    }
  } finally {
    await gw.shutdown(2_000);
    await bare.close();
    await mock.close();
  }
});

Deno.test("the schemas catch what the gateway used to leave out (they can fail)", () => {
  const answer = {
    id: "x",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  };
  assert.equal(validAnswer(answer), false);
  assert.match(ajv.errorsText(validAnswer.errors), /refusal|logprobs/);
  const chunk = {
    id: "x",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: { content: "hi" }, finish_reason: null }],
  };
  assert.equal(validChunk(chunk), false);
  assert.match(ajv.errorsText(validChunk.errors), /logprobs/);
});
