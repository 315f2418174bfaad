import assert from "node:assert/strict";
import { geminiAdapter } from "../../../src/providers/gemini/adapter.ts";
import { classifyStreamError, UpstreamStreamError } from "../../../src/providers/mod.ts";
import type { ChatChunk, ChatRequest } from "../../../src/openai/types.ts";
import { build, ctx, decodeTranscript } from "../fixtures/load.ts";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const hi = [{ role: "user" as const, content: "Hi" }];

function body(request: Partial<ChatRequest>) {
  const full = { model: "gemini/g", messages: hi, ...request } as ChatRequest;
  return JSON.parse(build(geminiAdapter, full, { ...ctx, stream: false }).body);
}

const sse = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const content = (chunks: ChatChunk[]) =>
  chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");

Deno.test("buildChatRequest posts to :generateContent, or :streamGenerateContent?alt=sse", () => {
  const request = { model: "gemini/g", messages: hi } as ChatRequest;
  const json = build(geminiAdapter, request, { ...ctx, model: "gemini-2.5-flash", stream: false });
  assert.equal(json.url, "https://upstream.test/v1/models/gemini-2.5-flash:generateContent");
  assert.equal(json.headers["x-goog-api-key"], "sk-test");
  assert.equal(json.headers.authorization, undefined);
  assert.equal(json.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(json.body), {
    contents: [{ role: "user", parts: [{ text: "Hi" }] }],
  });
  const stream = build(geminiAdapter, request, { ...ctx, model: "gemini-2.5-flash" });
  assert.equal(
    stream.url,
    "https://upstream.test/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
  );
  // A tuned model keeps its own collection; no key means no key header; extra headers pass.
  const tuned = build(geminiAdapter, request, {
    ...ctx,
    model: "tunedModels/my-model",
    apiKey: "",
    stream: false,
    settings: { headers: { "x-team": "a" } },
  });
  assert.equal(tuned.url, "https://upstream.test/v1/tunedModels/my-model:generateContent");
  assert.equal(tuned.headers["x-goog-api-key"], undefined);
  assert.equal(tuned.headers["x-team"], "a");
});

Deno.test("buildChatRequest maps sampling into generationConfig and drops gateway fields", () => {
  const b = body({
    max_tokens: 100,
    max_completion_tokens: 200,
    temperature: 1.6,
    top_p: 0.9,
    stop: "END",
    n: 2,
    seed: 7,
    presence_penalty: 0.5,
    frequency_penalty: 0.5,
    user: "u-1",
    fallbacks: ["openai/gpt-4o"],
  });
  assert.deepEqual(b.generationConfig, {
    temperature: 1.6, // Gemini takes 0..2 like OpenAI: no clamping
    topP: 0.9,
    maxOutputTokens: 200, // max_completion_tokens wins
    stopSequences: ["END"],
    candidateCount: 2,
    seed: 7,
  });
  for (const gone of ["fallbacks", "user", "model", "stream", "presence_penalty"]) {
    assert.equal(b[gone], undefined, gone);
  }
  assert.equal(body({}).generationConfig, undefined);
  assert.deepEqual(body({ max_tokens: 5, stop: ["a", "b"] }).generationConfig, {
    maxOutputTokens: 5,
    stopSequences: ["a", "b"],
  });
});

Deno.test("JSON mode: json_object asks for application/json, json_schema sends the schema", () => {
  assert.deepEqual(body({ response_format: { type: "json_object" } }).generationConfig, {
    responseMimeType: "application/json",
  });
  const schema = {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  };
  const g = body({
    response_format: { type: "json_schema", json_schema: { name: "place", strict: true, schema } },
  }).generationConfig;
  assert.deepEqual(g, { responseMimeType: "application/json", responseJsonSchema: schema });
  assert.equal(body({ response_format: { type: "text" } }).generationConfig, undefined);
});

Deno.test("system and developer messages become systemInstruction, not turns", () => {
  const b = body({
    messages: [
      { role: "system", content: "Be brief." },
      { role: "developer", content: [{ type: "text", text: "Use French." }] },
      { role: "user", content: "Hi" },
    ],
  });
  assert.deepEqual(b.systemInstruction, {
    parts: [{ text: "Be brief." }, { text: "Use French." }],
  });
  assert.deepEqual(b.contents.map((c: { role: string }) => c.role), ["user"]);
  assert.throws(
    () => body({ messages: [{ role: "system", content: "Only rules" }] }),
    /at least one user message/,
  );
});

Deno.test("images: data URLs inline, http(s) URLs as fileData with a MIME type", () => {
  const b = body({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is in these?" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: "image_url", image_url: { url: "https://example.com/cat.webp?size=2" } },
        { type: "image_url", image_url: { url: "https://example.com/render" } },
      ],
    }],
  });
  assert.deepEqual(b.contents[0].parts, [
    { text: "What is in these?" },
    { inlineData: { mimeType: "image/png", data: PNG } },
    { fileData: { mimeType: "image/webp", fileUri: "https://example.com/cat.webp?size=2" } },
    { fileData: { mimeType: "image/jpeg", fileUri: "https://example.com/render" } },
  ]);
  assert.throws(
    () =>
      body({
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: "ftp://x/y.png" } }],
        }],
      }),
    /unsupported image URL/,
  );
});

Deno.test("tools become functionDeclarations and tool_choice a functionCallingConfig", () => {
  const tools = [
    {
      type: "function" as const,
      function: {
        name: "get_weather",
        description: "Weather for a city",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    },
    { type: "function" as const, function: { name: "now" } },
  ];
  const b = body({ tools });
  assert.deepEqual(b.tools, [{
    functionDeclarations: [
      {
        name: "get_weather",
        description: "Weather for a city",
        parametersJsonSchema: { type: "object", properties: { city: { type: "string" } } },
      },
      { name: "now" },
    ],
  }]);
  assert.equal(b.toolConfig, undefined);
  const mode = (tool_choice: ChatRequest["tool_choice"]) =>
    body({ tools, tool_choice }).toolConfig.functionCallingConfig;
  assert.deepEqual(mode("auto"), { mode: "AUTO" });
  assert.deepEqual(mode("none"), { mode: "NONE" });
  assert.deepEqual(mode("required"), { mode: "ANY" });
  assert.deepEqual(mode({ type: "function", function: { name: "now" } }), {
    mode: "ANY",
    allowedFunctionNames: ["now"],
  });
});

Deno.test("assistant tool calls and tool results round-trip as functionCall / functionResponse", () => {
  const b = body({
    messages: [
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
          { id: "call_2", type: "function", function: { name: "get_time", arguments: "" } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temp":21}' },
      { role: "tool", tool_call_id: "call_2", content: "12:00" },
      { role: "user", content: "Thanks" },
    ],
  });
  assert.deepEqual(b.contents, [
    { role: "user", parts: [{ text: "Weather in Paris and Rome?" }] },
    {
      role: "model",
      parts: [
        {
          functionCall: { name: "get_weather", args: { city: "Paris" } },
          // Calls Gemini did not sign (another provider made them) carry Google's skip value.
          thoughtSignature: "skip_thought_signature_validator",
        },
        { functionCall: { name: "get_time", args: {} } },
      ],
    },
    {
      role: "user", // parallel results share one turn, the user's next words join it
      parts: [
        { functionResponse: { name: "get_weather", response: { temp: 21 } } },
        { functionResponse: { name: "get_time", response: { output: "12:00" } } },
        { text: "Thanks" },
      ],
    },
  ]);
  assert.throws(
    () => body({ messages: [{ role: "tool", tool_call_id: "call_x", content: "1" }] }),
    /answers no earlier tool call/,
  );
  assert.throws(
    () =>
      body({
        messages: [{
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{x" } }],
        }],
      }),
    /not JSON/,
  );
});

Deno.test("parseChatResponse: text, function calls with ids, finish reasons, usage details", () => {
  const completion = geminiAdapter.parseChatResponse({
    candidates: [{
      content: {
        role: "model",
        parts: [
          { text: "Thinking about weather…", thought: true },
          { text: "Checking." },
          { functionCall: { name: "get_weather", args: { city: "Paris" } } },
          { functionCall: { id: "fc-7", name: "get_time", args: {} } },
        ],
      },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: {
      promptTokenCount: 100,
      candidatesTokenCount: 20,
      thoughtsTokenCount: 30,
      cachedContentTokenCount: 60,
      totalTokenCount: 150,
    },
    modelVersion: "gemini-2.5-pro",
    responseId: "resp-9",
  }, ctx);
  assert.equal(completion.id, "resp-9");
  assert.equal(completion.model, "gemini-2.5-pro");
  const choice = completion.choices[0];
  assert.equal(choice.message.content, "Checking."); // thought summaries are not the answer
  assert.equal(choice.finish_reason, "tool_calls");
  assert.deepEqual(choice.message.tool_calls, [
    {
      id: "call_chatcmpl-gateway_0_0",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Paris"}' },
    },
    { id: "fc-7", type: "function", function: { name: "get_time", arguments: "{}" } },
  ]);
  assert.deepEqual(completion.usage, {
    prompt_tokens: 100,
    completion_tokens: 50, // OpenAI counts reasoning inside completion tokens
    total_tokens: 150,
    prompt_tokens_details: { cached_tokens: 60 },
    completion_tokens_details: { reasoning_tokens: 30 },
  });
});

Deno.test("parseChatResponse maps every finish reason and each candidate to a choice", () => {
  const finish = (reason: string) =>
    geminiAdapter.parseChatResponse({
      candidates: [{ content: { parts: [{ text: "x" }] }, finishReason: reason }],
    }, ctx).choices[0].finish_reason;
  assert.equal(finish("STOP"), "stop");
  assert.equal(finish("MAX_TOKENS"), "length");
  for (const r of ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"]) {
    assert.equal(finish(r), "content_filter", r);
  }
  assert.equal(finish("OTHER"), "stop");
  const two = geminiAdapter.parseChatResponse({
    candidates: [
      { content: { parts: [{ text: "A" }] }, finishReason: "STOP", index: 0 },
      { content: { parts: [{ text: "B" }] }, finishReason: "STOP", index: 1 },
    ],
  }, ctx);
  assert.deepEqual(two.choices.map((c) => [c.index, c.message.content]), [[0, "A"], [1, "B"]]);
  assert.equal(two.usage, undefined);
  // A candidate stopped by the safety filter before any text: empty content, content_filter.
  const filtered = geminiAdapter.parseChatResponse({
    candidates: [{ finishReason: "SAFETY", safetyRatings: [] }],
  }, ctx).choices[0];
  assert.equal(filtered.message.content, "");
  assert.equal(filtered.finish_reason, "content_filter");
});

Deno.test("a prompt blocked by safety is a 400 the caller must fix, not a fallover", () => {
  const blocked = {
    promptFeedback: { blockReason: "SAFETY", safetyRatings: [] },
    usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
  };
  assert.throws(() => geminiAdapter.parseChatResponse(blocked, ctx), (e) => {
    assert.ok(e instanceof UpstreamStreamError);
    assert.equal(e.status, 400);
    assert.match(e.message, /blocked the prompt.*SAFETY/);
    assert.equal(classifyStreamError(e, 0).kind, "caller_fault");
    return true;
  });
  // No candidates and no block reason is a broken upstream (a plain Error → transient).
  assert.throws(
    () => geminiAdapter.parseChatResponse({ candidates: [] }, ctx),
    (e) => !(e instanceof UpstreamStreamError) && /no candidates/.test((e as Error).message),
  );
});

Deno.test("stream: text, then function calls, then finish; the usage chunk closes it", async () => {
  const transcript = sse({
    candidates: [{ content: { role: "model", parts: [{ text: "Let me " }] }, index: 0 }],
    responseId: "resp-s",
    modelVersion: "gemini-2.5-flash",
  }) +
    sse({
      candidates: [{ content: { role: "model", parts: [{ text: "check." }] }, index: 0 }],
    }) +
    sse({
      candidates: [{
        content: {
          role: "model",
          parts: [
            { functionCall: { name: "get_weather", args: { city: "Paris" } } },
            { functionCall: { name: "get_weather", args: { city: "Rome" } } },
          ],
        },
        finishReason: "STOP",
        index: 0,
      }],
      usageMetadata: {
        promptTokenCount: 40,
        candidatesTokenCount: 12,
        thoughtsTokenCount: 8,
        totalTokenCount: 60,
      },
    });
  const { chunks, finished, error } = await decodeTranscript(geminiAdapter, transcript, 5);
  assert.equal(error, undefined);
  assert.ok(finished, "a finishReason ends the stream: Gemini sends no [DONE]");
  assert.equal(content(chunks), "Let me check.");
  assert.equal(chunks[0].choices[0].delta.role, "assistant");
  assert.equal(chunks[0].id, "resp-s");
  assert.equal(chunks[0].model, "gemini-2.5-flash");
  const calls = chunks.flatMap((c) => c.choices.flatMap((x) => x.delta.tool_calls ?? []));
  assert.deepEqual(calls, [
    {
      index: 0,
      id: "call_chatcmpl-gateway_0_0",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Paris"}' },
    },
    {
      index: 1,
      id: "call_chatcmpl-gateway_0_1",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Rome"}' },
    },
  ]);
  const finishes = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter((f) => f);
  assert.deepEqual(finishes, ["tool_calls"]);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, {
    prompt_tokens: 40,
    completion_tokens: 20,
    total_tokens: 60,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 8 },
  });
});

Deno.test("stream: a body that ends without finishReason is not finished (a cut)", async () => {
  const { chunks, finished } = await decodeTranscript(
    geminiAdapter,
    sse({ candidates: [{ content: { parts: [{ text: "Half" }] }, index: 0 }] }),
  );
  assert.equal(content(chunks), "Half");
  assert.equal(finished, false);
});

Deno.test("stream: error events and blocked prompts throw with a status to classify", async () => {
  const overloaded = await decodeTranscript(
    geminiAdapter,
    sse({ candidates: [{ content: { parts: [{ text: "Hi" }] } }] }) +
      sse({ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } }),
  );
  assert.equal(content(overloaded.chunks), "Hi");
  assert.ok(overloaded.error instanceof UpstreamStreamError);
  assert.equal(overloaded.error.status, 503);
  assert.equal(classifyStreamError(overloaded.error, 0).kind, "transient");

  const blocked = await decodeTranscript(
    geminiAdapter,
    sse({ promptFeedback: { blockReason: "PROHIBITED_CONTENT" } }),
  );
  assert.ok(blocked.error instanceof UpstreamStreamError);
  assert.equal(classifyStreamError(blocked.error, 0).kind, "caller_fault");

  const garbled = await decodeTranscript(geminiAdapter, "data: {not json\n\n");
  assert.ok(garbled.error instanceof SyntaxError);
});

Deno.test("embeddings go through one batchEmbedContents call and come back in order", async () => {
  const up = await geminiAdapter.buildEmbeddingsRequest!({
    model: "gemini/gemini-embedding-001",
    input: ["one", "two"],
    dimensions: 256,
  }, { ...ctx, model: "gemini-embedding-001" });
  assert.equal(
    up.url,
    "https://upstream.test/v1/models/gemini-embedding-001:batchEmbedContents",
  );
  assert.equal(up.headers["x-goog-api-key"], "sk-test");
  assert.deepEqual(JSON.parse(up.body as string), {
    requests: [
      {
        model: "models/gemini-embedding-001",
        content: { parts: [{ text: "one" }] },
        outputDimensionality: 256,
      },
      {
        model: "models/gemini-embedding-001",
        content: { parts: [{ text: "two" }] },
        outputDimensionality: 256,
      },
    ],
  });
  const res = geminiAdapter.parseEmbeddingsResponse!({
    embeddings: [{ values: [0.1, 0.2] }, { values: [0.3, 0.4] }],
  }, { ...ctx, model: "gemini-embedding-001" });
  assert.deepEqual(res, {
    object: "list",
    data: [
      { object: "embedding", index: 0, embedding: [0.1, 0.2] },
      { object: "embedding", index: 1, embedding: [0.3, 0.4] },
    ],
    model: "gemini-embedding-001",
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
  assert.throws(
    () => geminiAdapter.buildEmbeddingsRequest!({ model: "g/e", input: [1, 2, 3] }, ctx),
    /token-id input/,
  );
  assert.throws(() => geminiAdapter.parseEmbeddingsResponse!({ embeddings: [{}] }, ctx), /values/);
});
