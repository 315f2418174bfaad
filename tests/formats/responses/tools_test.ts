// Function-tool round trips through POST /v1/responses with real clients against a listening
// gateway: the openai SDK (`responses.create`, then `previous_response_id` + a
// function_call_output item, as JSON and as streams) and the Vercel AI SDK (`generateText` with a
// `tool()` running the whole loop), served by an OpenAI-format and an Anthropic-format upstream
// that answer a tool call first and text once the tool result comes back. Each turn's upstream
// request is checked: the second carries the assistant's tool call and the tool's result.
import OpenAI from "openai";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, stepCountIs, tool } from "ai";
import { z } from "zod";
import assert from "node:assert/strict";
import {
  answerText,
  assertToolTurn,
  TOOL_ARGS,
  weatherTool,
  withToolGateway,
} from "../../_support/tool_upstream.ts";

const RESULT = "sunny, 21 C";

for (const target of ["oai", "anthro"]) {
  const model = `${target}/m1`;

  Deno.test(`openai SDK: function tool round trip via previous_response_id (${target}, JSON)`, async () => {
    await withToolGateway(async (url, up) => {
      const client = new OpenAI({ apiKey: "x", baseURL: `${url}/v1`, maxRetries: 0 });
      const r1 = await client.responses.create({
        model,
        input: "What is the weather in Paris?",
        tools: [weatherTool],
      });
      const call = r1.output.find((i) => i.type === "function_call");
      assert.ok(call && call.type === "function_call", JSON.stringify(r1.output));
      assert.equal(call.name, "get_weather");
      assert.deepEqual(JSON.parse(call.arguments), { city: "Paris" });
      assert.equal(r1.output_text, "");
      const r2 = await client.responses.create({
        model,
        previous_response_id: r1.id,
        input: [{ type: "function_call_output", call_id: call.call_id, output: RESULT }],
        tools: [weatherTool],
      });
      assert.equal(r2.output_text, answerText(RESULT));
      assert.equal(r2.previous_response_id, r1.id);
      const sent = up.callsOf(target);
      assert.equal(sent.length, 2);
      assertToolTurn(sent[1], RESULT);
    });
  });

  Deno.test(`openai SDK: function tool round trip via previous_response_id (${target}, stream)`, async () => {
    await withToolGateway(async (url, up) => {
      const client = new OpenAI({ apiKey: "x", baseURL: `${url}/v1`, maxRetries: 0 });
      const s1 = await client.responses.create({
        model,
        input: "What is the weather in Paris?",
        tools: [weatherTool],
        stream: true,
      });
      const types: string[] = [];
      let args = "";
      let r1: OpenAI.Responses.Response | undefined;
      for await (const e of s1) {
        types.push(e.type);
        if (e.type === "response.function_call_arguments.delta") args += e.delta;
        if (e.type === "response.completed") r1 = e.response;
      }
      assert.equal(args, TOOL_ARGS);
      assert.deepEqual(types.slice(0, 3), [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
      ]);
      assert.ok(types.includes("response.function_call_arguments.done"));
      assert.equal(types[types.length - 1], "response.completed");
      const call = r1!.output.find((i) => i.type === "function_call");
      assert.ok(call && call.type === "function_call");
      // The stream helper accumulates the same events into the final response.
      const s2 = client.responses.stream({
        model,
        previous_response_id: r1!.id,
        input: [{ type: "function_call_output", call_id: call.call_id, output: RESULT }],
        tools: [weatherTool],
      });
      let text = "";
      s2.on("response.output_text.delta", (e) => text += e.delta);
      const r2 = await s2.finalResponse();
      assert.equal(text, answerText(RESULT));
      assert.equal(r2.output_text, answerText(RESULT));
      assertToolTurn(up.callsOf(target)[1], RESULT);
    });
  });

  Deno.test(`AI SDK generateText: tool() round trip through /v1/responses (${target})`, async () => {
    await withToolGateway(async (url, up) => {
      const openai = createOpenAI({ apiKey: "x", baseURL: `${url}/v1` });
      const seen: unknown[] = [];
      const r = await generateText({
        model: openai(model),
        prompt: "What is the weather in Paris?",
        maxRetries: 0,
        tools: {
          get_weather: tool({
            description: "The weather in a city",
            inputSchema: z.object({ city: z.string() }),
            execute: (input) => {
              seen.push(input);
              return Promise.resolve(RESULT);
            },
          }),
        },
        stopWhen: stepCountIs(3),
      });
      assert.deepEqual(seen, [{ city: "Paris" }]);
      assert.equal(r.steps.length, 2);
      assert.equal(r.steps[0].finishReason, "tool-calls");
      assert.equal(r.text, answerText(RESULT));
      const sent = up.callsOf(target);
      assert.equal(sent.length, 2);
      assertToolTurn(sent[1], RESULT);
    });
  });
}
