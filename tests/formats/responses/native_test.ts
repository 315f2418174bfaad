// The native Responses API passthrough: POST /v1/responses on a provider that serves the
// Responses API (openai with `responsesApi`, azure) goes to the upstream's own /responses with
// the client's body (the candidate's model, `store: false`, the gateway's fields removed, a
// previous_response_id expanded into input items), and its output items (reasoning, built-in
// tool calls, annotations) come back under the gateway's own ids, JSON and streamed. Failover
// runs across native and translated candidates; built-in tools skip the translated ones.
import OpenAI from "openai";
import assert from "node:assert/strict";
import {
  answerText,
  assertToolTurn,
  TOOL_ARGS,
  weatherTool,
  withToolGateway,
} from "../../_support/tool_upstream.ts";

type Json = Record<string, unknown>;
const RESULT = "sunny, 21 C";
const clientOf = (url: string) => new OpenAI({ apiKey: "x", baseURL: `${url}/v1`, maxRetries: 0 });
const types = (output: { type: string }[]) => output.map((i) => i.type);

Deno.test("native: JSON tool round trip goes to the upstream's /responses, items kept", async () => {
  await withToolGateway(async (url, up) => {
    const client = clientOf(url);
    const r1 = await client.responses.create({
      model: "nat/m1",
      input: "What is the weather in Paris?",
      tools: [weatherTool],
      include: ["reasoning.encrypted_content"],
      metadata: { team: "a" },
    });
    assert.deepEqual(types(r1.output), ["reasoning", "function_call"]);
    assert.match(r1.id, /^resp_/);
    for (const item of r1.output) assert.ok(item.id!.includes(r1.id.slice(5)), String(item.id));
    const call = r1.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    assert.equal(call.arguments, TOOL_ARGS);
    assert.equal(r1.usage?.input_tokens_details.cached_tokens, 3);
    assert.equal(r1.usage?.output_tokens_details.reasoning_tokens, 2);
    const [first] = up.callsOf("nat");
    assert.equal(first.api, "responses");
    assert.equal(first.path, "/nat/v1/responses");
    // The client's body, as it sent it, on the candidate's model and unstored upstream.
    assert.deepEqual(first.body, {
      model: "m1",
      stream: false,
      store: false,
      input: [{ type: "message", role: "user", content: "What is the weather in Paris?" }],
      tools: [weatherTool],
      include: ["reasoning.encrypted_content"],
      metadata: { team: "a" },
    });
    const r2 = await client.responses.create({
      model: "nat/m1",
      previous_response_id: r1.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: RESULT }],
      tools: [weatherTool],
    });
    assert.equal(r2.output_text, answerText(RESULT));
    const second = up.callsOf("nat")[1].body;
    assert.equal(second.previous_response_id, undefined);
    // The conversation expanded: no ids, no reasoning item the upstream could not resume.
    assert.deepEqual(types(second.input as { type: string }[]), [
      "message",
      "function_call",
      "function_call_output",
    ]);
    assert.ok((second.input as Json[]).every((i) => i.id === undefined));
    assertToolTurn(up.callsOf("nat")[1], RESULT);
  });
});

Deno.test("native: streamed tool round trip maps the upstream's events", async () => {
  await withToolGateway(async (url, up) => {
    const client = clientOf(url);
    const s1 = await client.responses.create({
      model: "nat/m1",
      input: "What is the weather in Paris?",
      tools: [weatherTool],
      stream: true,
    });
    const seen: string[] = [];
    let args = "";
    let r1: OpenAI.Responses.Response | undefined;
    for await (const e of s1) {
      seen.push(e.type === "response.output_item.added" ? `added:${e.item.type}` : e.type);
      if (e.type === "response.function_call_arguments.delta") args += e.delta;
      if (e.type === "response.completed") r1 = e.response;
    }
    assert.equal(args, TOOL_ARGS);
    assert.deepEqual(seen.slice(0, 4), [
      "response.created",
      "response.in_progress",
      "added:reasoning",
      "response.output_item.done",
    ]);
    assert.ok(seen.indexOf("added:function_call") > seen.indexOf("added:reasoning"));
    assert.equal(seen[seen.length - 1], "response.completed");
    assert.deepEqual(types(r1!.output), ["reasoning", "function_call"]);
    assert.equal(r1!.usage?.output_tokens_details.reasoning_tokens, 2);
    assert.equal(up.callsOf("nat")[0].body.stream, true);
    const call = r1!.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    const s2 = client.responses.stream({
      model: "nat/m1",
      previous_response_id: r1!.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: RESULT }],
    });
    const r2 = await s2.finalResponse();
    assert.equal(r2.output_text, answerText(RESULT));
    assertToolTurn(up.callsOf("nat")[1], RESULT);
  });
});

Deno.test("native: failover from a native candidate (500) to a translated Anthropic one", async () => {
  await withToolGateway(async (url, up) => {
    const client = clientOf(url);
    for (const stream of [false, true]) {
      const body = {
        model: "downnat/m1",
        input: "What is the weather in Paris?",
        tools: [weatherTool],
        fallbacks: ["anthro/m1"],
      } as Json;
      type P = OpenAI.Responses.ResponseCreateParamsNonStreaming;
      type S = Parameters<typeof client.responses.stream>[0];
      const r1 = stream
        ? await client.responses.stream(body as S).finalResponse()
        : await client.responses.create(body as P);
      const call = r1.output.find((i) => i.type === "function_call");
      assert.ok(call?.type === "function_call");
      const next = {
        ...body,
        previous_response_id: r1.id,
        input: [{ type: "function_call_output" as const, call_id: call.call_id, output: RESULT }],
      };
      const r2 = stream
        ? await client.responses.stream(next as S).finalResponse()
        : await client.responses.create(next as P);
      assert.equal(r2.output_text, answerText(RESULT));
    }
    // Every turn tried the native primary with the expanded conversation, then Anthropic.
    const primary = up.callsOf("downnat");
    assert.equal(primary.length, 4);
    assert.ok(primary.every((c) => c.api === "responses"));
    assert.equal((primary[1].body.input as Json[]).length, 3);
    const anthro = up.callsOf("anthro");
    assert.equal(anthro.length, 4);
    assertToolTurn(anthro[1], RESULT);
    assertToolTurn(anthro[3], RESULT);
  });
});

Deno.test("native: a built-in tool skips the translated candidate and runs natively", async () => {
  await withToolGateway(async (url, up) => {
    const client = clientOf(url);
    const body = {
      model: "anthro/m1",
      input: "Weather in Paris, then tell me.",
      tools: [{ type: "web_search" as const }, weatherTool],
      fallbacks: ["nat/m1"],
    };
    const res = await fetch(`${url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        ...body,
        input: [
          { role: "user", content: "Weather in Paris?" },
          { type: "function_call", call_id: "call_up1", name: "get_weather", arguments: TOOL_ARGS },
          { type: "function_call_output", call_id: "call_up1", output: RESULT },
        ],
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "nat");
    const r = await res.json();
    assert.deepEqual(types(r.output), ["reasoning", "web_search_call", "message"]);
    assert.equal(r.output[2].content[0].annotations[0].type, "url_citation");
    assert.equal(up.callsOf("anthro").length, 0);
    assert.deepEqual(up.callsOf("nat")[0].body.tools, body.tools);
    // Streamed: the web_search_call item and the annotations come through as well.
    const stream = client.responses.stream(
      {
        ...body,
        input: [
          { role: "user", content: "Weather in Paris?" },
          { type: "function_call", call_id: "call_up1", name: "get_weather", arguments: TOOL_ARGS },
          { type: "function_call_output", call_id: "call_up1", output: RESULT },
        ],
      } as unknown as Parameters<typeof client.responses.stream>[0],
    );
    const added: string[] = [];
    stream.on("response.output_item.added", (e) => added.push(e.item.type));
    const final = await stream.finalResponse();
    assert.deepEqual(added, ["reasoning", "web_search_call", "message"]);
    const msg = final.output[2] as OpenAI.Responses.ResponseOutputMessage;
    assert.equal((msg.content[0] as { annotations: unknown[] }).annotations.length, 1);
    assert.equal(final.output_text, answerText(RESULT));
    assert.equal(up.callsOf("anthro").length, 0);
  });
});

Deno.test("native: a built-in tool with no native candidate is a 400 that names it", async () => {
  await withToolGateway(async (url, up) => {
    const res = await fetch(`${url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "anthro/m1",
        input: "hi",
        tools: [{ type: "web_search" }],
        fallbacks: ["oai/m1"],
      }),
    });
    assert.equal(res.status, 400);
    const { error } = await res.json();
    assert.match(error.message, /tools\[0\]\.type "web_search"/);
    assert.equal(up.calls.length, 0);
  });
});

Deno.test("native: azure goes to {endpoint}/openai/v1/responses with the deployment as model", async () => {
  await withToolGateway(async (url, up) => {
    const r = await clientOf(url).responses.create({
      model: "az/m1",
      input: "What is the weather in Paris?",
      tools: [weatherTool],
    });
    assert.deepEqual(types(r.output), ["reasoning", "function_call"]);
    const [sent] = up.callsOf("az");
    assert.equal(sent.path, "/az/openai/v1/responses");
    assert.equal(sent.body.model, "dep1");
    assert.equal(sent.headers.get("api-key"), "az-secret");
    assert.equal(sent.headers.get("authorization"), null);
  });
});

Deno.test("native: a chat client cannot smuggle in the passthrough field", async () => {
  await withToolGateway(async (url, up) => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "nat/m1",
        messages: [{ role: "user", content: "hi" }],
        x_gateway_responses: {
          body: { input: "other" },
          messagesKey: JSON.stringify([{ role: "user", content: "hi" }]),
          nativeOnly: [],
        },
      }),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const [sent] = up.callsOf("nat");
    assert.equal(sent.api, "chat");
    assert.equal(sent.body.x_gateway_responses, undefined);
  });
});
