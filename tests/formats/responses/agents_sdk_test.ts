// The OpenAI Agents SDK (`@openai/agents`, Responses API model by default) running an Agent with
// a function tool through a listening gateway: `run()` calls POST /v1/responses, executes the
// tool the upstream asked for, and sends the result back in the next turn. Served by an
// OpenAI-format, an Anthropic-format and a native Responses API upstream, and by failovers from a
// primary (chat or native) that answers 500 to the Anthropic one (`fallbacks` in the body through the SDK's modelSettings.providerData).
import {
  Agent,
  run,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTracingDisabled,
  tool,
} from "@openai/agents";
import OpenAI from "openai";
import { z } from "zod";
import assert from "node:assert/strict";
import { answerText, assertToolTurn, withToolGateway } from "../../_support/tool_upstream.ts";

const RESULT = "sunny, 21 C";

setTracingDisabled(true);
setOpenAIAPI("responses");

function weatherAgent(model: string, seen: string[], fallbacks: string[]) {
  const getWeather = tool({
    name: "get_weather",
    description: "The weather in a city",
    parameters: z.object({ city: z.string() }),
    execute: ({ city }) => {
      seen.push(city);
      return Promise.resolve(RESULT);
    },
  });
  return new Agent({
    name: "weather",
    instructions: "Answer with the weather tool.",
    model,
    tools: [getWeather],
    // providerData is merged into the request body: the gateway's `fallbacks` extension.
    modelSettings: fallbacks.length ? { providerData: { fallbacks } } : {},
  });
}

const cases = [
  { name: "openai upstream", model: "oai", served: "oai", fallbacks: [] },
  { name: "anthropic upstream", model: "anthro", served: "anthro", fallbacks: [] },
  { name: "native Responses API upstream", model: "nat", served: "nat", fallbacks: [] },
  { name: "failover 500 → anthropic", model: "down", served: "anthro", fallbacks: ["anthro"] },
  {
    name: "failover native 500 → anthropic",
    model: "downnat",
    served: "anthro",
    fallbacks: ["anthro"],
  },
];

// The SDK keeps the first default client it builds a model provider from, so one gateway serves
// every step; each step has its own upstream model name to tell its requests apart.
Deno.test("Agents SDK run(): function tool round trips through /v1/responses", async (t) => {
  await withToolGateway(async (url, up) => {
    setDefaultOpenAIClient(
      new OpenAI({ apiKey: "x", baseURL: `${url}/v1`, maxRetries: 0 }) as unknown as Parameters<
        typeof setDefaultOpenAIClient
      >[0],
    );
    for (const c of cases) {
      for (const stream of [false, true]) {
        const m = `agent-${c.model}-${stream ? "stream" : "json"}`;
        await t.step(`${c.name}${stream ? ", stream" : ""}`, async () => {
          const seen: string[] = [];
          const agent = weatherAgent(`${c.model}/${m}`, seen, c.fallbacks.map((f) => `${f}/${m}`));
          let output: unknown;
          if (stream) {
            const r = await run(agent, "What is the weather in Paris?", { stream: true });
            let text = "";
            for await (const t of r.toTextStream()) text += t;
            await r.completed;
            assert.equal(text, answerText(RESULT));
            output = r.finalOutput;
          } else {
            output = (await run(agent, "What is the weather in Paris?")).finalOutput;
          }
          assert.equal(output, answerText(RESULT));
          assert.deepEqual(seen, ["Paris"]);
          const sent = up.callsOf(c.served).filter((r) => r.body.model === m);
          assert.equal(sent.length, 2);
          assertToolTurn(sent[1], RESULT);
          if (c.fallbacks.length) {
            // Each turn tried the primary first, and the answer says who served it.
            assert.equal(up.callsOf(c.model).filter((r) => r.body.model === m).length, 2);
          }
        });
      }
    }
  });
});
