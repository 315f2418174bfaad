import assert from "node:assert/strict";
import {
  genaiErrorBody,
  GenaiRequestError,
  GenaiStreamEncoder,
  googleStatus,
  openApiToJsonSchema,
  toChatRequest,
  toGenaiResponse,
} from "../../src/http/genai_translate.ts";
import type { ChatChunk, ChatCompletion } from "../../src/openai/types.ts";

const opts = { model: "openai/gpt-4o-mini", stream: false };
const user = (text: string) => ({ role: "user", parts: [{ text }] });
const refused = (body: unknown, field: RegExp | string) =>
  assert.throws(() => toChatRequest(body, opts), (e) => {
    assert.ok(e instanceof GenaiRequestError);
    if (typeof field === "string") assert.equal(e.field, field);
    else assert.match(e.message, field);
    return true;
  });

Deno.test("contents and systemInstruction become system, user and assistant messages", () => {
  const req = toChatRequest({
    systemInstruction: { parts: [{ text: "Be brief." }, { text: "Answer in French." }] },
    contents: [
      user("Hi"),
      {
        role: "model",
        parts: [{ text: "…", thought: true }, { text: "Bonjour" }, { thoughtSignature: "c2ln" }],
      },
      { parts: [{ text: "How are " }, { text: "you?" }] }, // role defaults to user
    ],
  }, opts);
  assert.deepEqual(req, {
    model: "openai/gpt-4o-mini",
    messages: [
      { role: "system", content: "Be brief.\nAnswer in French." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Bonjour" }, // thoughts and signatures are not content
      { role: "user", content: "How are you?" },
    ],
  });
  assert.equal(
    toChatRequest({ systemInstruction: "Plain", contents: [user("x")] }, opts)
      .messages[0].content,
    "Plain",
  );
});

Deno.test("functionCall / functionResponse pair up by id, else by name, in order", () => {
  const req = toChatRequest({
    contents: [
      user("Weather in Paris and Rome?"),
      {
        role: "model",
        parts: [
          { functionCall: { name: "weather", args: { city: "Paris" } } },
          { functionCall: { id: "fc-2", name: "weather", args: { city: "Rome" } } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { id: "fc-2", name: "weather", response: { temp: 25 } } },
          { functionResponse: { name: "weather", response: { temp: 21 } } },
          { text: "Which is warmer?" },
        ],
      },
    ],
  }, opts);
  assert.deepEqual(req.messages.slice(1), [
    {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: "call_0",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Paris"}' },
        },
        {
          id: "fc-2",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Rome"}' },
        },
      ],
    },
    { role: "tool", tool_call_id: "fc-2", content: '{"temp":25}' },
    { role: "tool", tool_call_id: "call_0", content: '{"temp":21}' },
    { role: "user", content: "Which is warmer?" },
  ]);
  refused({
    contents: [{ role: "user", parts: [{ functionResponse: { name: "ghost", response: {} } }] }],
  }, /contents\[0\]\.parts\[0\]: answers no earlier functionCall named "ghost"/);
});

Deno.test("images: inlineData becomes a data URL, an http(s) fileData its URL", () => {
  const req = toChatRequest({
    contents: [{
      role: "user",
      parts: [
        { text: "Compare" },
        { inlineData: { mimeType: "image/png", data: "AAAA" } },
        { fileData: { mimeType: "image/jpeg", fileUri: "https://example.com/a.jpg" } },
      ],
    }],
  }, opts);
  assert.deepEqual(req.messages[0].content, [
    { type: "text", text: "Compare" },
    { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
    { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
  ]);
  refused({
    contents: [{ parts: [{ inlineData: { mimeType: "audio/wav", data: "AAAA" } }] }],
  }, "contents[0].parts[0]");
  refused({
    contents: [{
      parts: [{
        fileData: {
          mimeType: "image/png",
          fileUri: "https://generativelanguage.googleapis.com/v1beta/files/abc",
        },
      }],
    }],
  }, /contents\[0\]\.parts\[0\]: fileData must be an http\(s\) image URL/);
  refused({ contents: [{ parts: [{ executableCode: { code: "1" } }] }] }, "contents[0].parts[0]");
});

Deno.test("requests the gateway cannot express are refused naming the Gemini field", () => {
  refused([], "");
  refused({}, "contents");
  refused({ contents: [] }, "contents");
  refused({ contents: [{ role: "system", parts: [{ text: "x" }] }] }, "contents[0].role");
  refused({ contents: [{ role: "user" }] }, "contents[0]");
  refused({ contents: [user("x")], cachedContent: "cachedContents/1" }, "cachedContent");
  refused({ contents: [user("x")], tools: [{ googleSearch: {} }] }, "tools[0].googleSearch");
  refused(
    { contents: [user("x")], generationConfig: { temperature: "hot" } },
    "generationConfig.temperature",
  );
  refused(
    { contents: [user("x")], generationConfig: { stopSequences: "END" } },
    "generationConfig.stopSequences",
  );
});

Deno.test("generationConfig maps onto OpenAI sampling fields; stream asks for usage", () => {
  const req = toChatRequest({
    contents: [user("x")],
    generationConfig: {
      temperature: 0.2,
      topP: 0.8,
      topK: 40,
      maxOutputTokens: 300,
      stopSequences: ["END"],
      candidateCount: 2,
      seed: 5,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
      thinkingConfig: { thinkingBudget: 0 },
      responseMimeType: "application/json",
    },
  }, { ...opts, stream: true, fallbacks: ["anthropic/claude-3-5-haiku-latest"] });
  const { messages: _m, ...rest } = req;
  assert.deepEqual(rest, {
    model: "openai/gpt-4o-mini",
    fallbacks: ["anthropic/claude-3-5-haiku-latest"],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.2,
    top_p: 0.8,
    max_tokens: 300,
    n: 2,
    seed: 5,
    presence_penalty: 0.1,
    frequency_penalty: 0.2,
    stop: ["END"],
    response_format: { type: "json_object" }, // topK and thinkingConfig have no OpenAI field
  });
});

Deno.test("responseSchema (OpenAPI subset) and responseJsonSchema become a json_schema format", () => {
  const fromOpenApi = toChatRequest({
    contents: [user("x")],
    generationConfig: {
      responseMimeType: "application/json",
      responseSchema: {
        type: "OBJECT",
        properties: {
          name: { type: "STRING" },
          age: { type: "INTEGER", nullable: true },
          tags: { type: "ARRAY", items: { type: "STRING", enum: ["A", "B"] } },
        },
        required: ["name"],
        propertyOrdering: ["name", "age"],
      },
    },
  }, opts);
  assert.deepEqual(fromOpenApi.response_format, {
    type: "json_schema",
    json_schema: {
      name: "response",
      schema: {
        type: "object",
        properties: {
          name: { type: "string" },
          age: { type: ["integer", "null"] },
          tags: { type: "array", items: { type: "string", enum: ["A", "B"] } },
        },
        required: ["name"],
        propertyOrdering: ["name", "age"],
      },
    },
  });
  const schema = { type: "object", properties: { a: { type: "number" } } };
  const fromJson = toChatRequest({
    contents: [user("x")],
    generationConfig: { responseMimeType: "application/json", responseJsonSchema: schema },
  }, opts);
  assert.deepEqual(fromJson.response_format, {
    type: "json_schema",
    json_schema: { name: "response", schema },
  });
  assert.equal(openApiToJsonSchema(undefined), undefined);
});

Deno.test("functionDeclarations become tools; functionCallingConfig becomes tool_choice", () => {
  const tools = [{
    functionDeclarations: [
      {
        name: "weather",
        description: "Weather",
        parameters: { type: "OBJECT", properties: { city: { type: "STRING" } } },
      },
      { name: "time", parametersJsonSchema: { type: "object", properties: {} } },
      { name: "noop" },
    ],
  }];
  const req = (toolConfig?: unknown) =>
    toChatRequest({ contents: [user("x")], tools, toolConfig }, opts);
  assert.deepEqual(req().tools, [
    {
      type: "function",
      function: {
        name: "weather",
        description: "Weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    },
    {
      type: "function",
      function: { name: "time", parameters: { type: "object", properties: {} } },
    },
    { type: "function", function: { name: "noop" } },
  ]);
  assert.equal(req().tool_choice, undefined);
  const mode = (functionCallingConfig: unknown) => req({ functionCallingConfig });
  assert.equal(mode({ mode: "AUTO" }).tool_choice, "auto");
  assert.equal(mode({ mode: "NONE" }).tool_choice, "none");
  assert.equal(mode({ mode: "ANY" }).tool_choice, "required");
  assert.equal(mode({ mode: "ANY" }).tools?.length, 3);
  assert.deepEqual(mode({ mode: "ANY", allowedFunctionNames: ["time"] }).tool_choice, {
    type: "function",
    function: { name: "time" },
  });
  // Several allowed names: the tool list narrows to them and one must be called.
  const two = mode({ mode: "ANY", allowedFunctionNames: ["time", "noop"] });
  assert.equal(two.tool_choice, "required");
  assert.deepEqual(two.tools?.map((t) => t.function.name), ["time", "noop"]);
});

const completion: ChatCompletion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{
    index: 0,
    message: {
      role: "assistant",
      content: "Checking.",
      tool_calls: [
        {
          id: "call_a",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Paris"}' },
        },
        { id: "call_b", type: "function", function: { name: "broken", arguments: "{oops" } },
      ],
    },
    finish_reason: "tool_calls",
    logprobs: null,
  }],
  usage: {
    prompt_tokens: 100,
    completion_tokens: 50,
    total_tokens: 150,
    prompt_tokens_details: { cached_tokens: 60 },
    completion_tokens_details: { reasoning_tokens: 30 },
  },
};

Deno.test("toGenaiResponse: parts, function calls with their ids, STOP, usage split back", () => {
  assert.deepEqual(toGenaiResponse(completion), {
    candidates: [{
      content: {
        role: "model",
        parts: [
          { text: "Checking." },
          { functionCall: { id: "call_a", name: "weather", args: { city: "Paris" } } },
          { functionCall: { id: "call_b", name: "broken", args: {} } },
        ],
      },
      finishReason: "STOP", // Gemini reports function calls with STOP
      index: 0,
    }],
    usageMetadata: {
      promptTokenCount: 100,
      candidatesTokenCount: 20, // thinking tokens are counted apart in Gemini
      totalTokenCount: 150,
      cachedContentTokenCount: 60,
      thoughtsTokenCount: 30,
    },
    modelVersion: "gpt-4o-mini",
    responseId: "chatcmpl-1",
  });
  const finish = (finish_reason: ChatCompletion["choices"][0]["finish_reason"]) =>
    (toGenaiResponse({
      ...completion,
      usage: undefined,
      choices: [{ ...completion.choices[0], finish_reason }],
    }).candidates as { finishReason?: string }[])[0].finishReason;
  assert.equal(finish("stop"), "STOP");
  assert.equal(finish("length"), "MAX_TOKENS");
  assert.equal(finish("content_filter"), "SAFETY");
  assert.equal(finish(null), undefined);
});

const chunk = (
  delta: ChatChunk["choices"][0]["delta"],
  finish: ChatChunk["choices"][0]["finish_reason"] = null,
): ChatChunk => ({
  id: "chatcmpl-s",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

Deno.test("stream encoder: text as it comes, whole function calls and usage at the end", () => {
  const enc = new GenaiStreamEncoder();
  const out = [
    ...enc.push(chunk({ role: "assistant", content: "" })),
    ...enc.push(chunk({ content: "Let me " })),
    ...enc.push(chunk({ content: "check." })),
    ...enc.push(chunk({
      tool_calls: [{
        index: 0,
        id: "call_1",
        type: "function",
        function: { name: "weather", arguments: "" },
      }],
    })),
    ...enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] })),
    ...enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] })),
    ...enc.push(chunk({}, "tool_calls")),
  ];
  assert.deepEqual(out.map((r) => r.candidates), [
    [{ content: { role: "model", parts: [{ text: "Let me " }] }, index: 0 }],
    [{ content: { role: "model", parts: [{ text: "check." }] }, index: 0 }],
  ]);
  assert.deepEqual(
    enc.push({
      ...chunk({}),
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
    }),
    [],
  );
  assert.deepEqual(enc.end(), [{
    candidates: [{
      content: {
        role: "model",
        parts: [{ functionCall: { id: "call_1", name: "weather", args: { city: "Paris" } } }],
      },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 },
    modelVersion: "gpt-4o-mini",
    responseId: "chatcmpl-s",
  }]);
  assert.deepEqual(enc.end(), [{
    usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 },
    modelVersion: "gpt-4o-mini",
    responseId: "chatcmpl-s",
  }]);
  assert.deepEqual(new GenaiStreamEncoder().end(), []);
});

Deno.test("stream encoder: a finish chunk's own text is kept; calls left open are flushed", () => {
  const enc = new GenaiStreamEncoder();
  enc.push(chunk({ content: "Done." }, "length"));
  enc.push(
    chunk({ tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: "{}" } }] }),
  );
  const [last] = enc.end();
  assert.deepEqual(last.candidates, [
    {
      content: { role: "model", parts: [{ text: "Done." }] },
      finishReason: "MAX_TOKENS",
      index: 0,
    },
    {
      content: { role: "model", parts: [{ functionCall: { id: "c", name: "f", args: {} } }] },
      index: 0,
    },
  ]);
  assert.equal(last.usageMetadata, undefined);
});

Deno.test("genaiErrorBody speaks Google's error shape with the gateway's code in details", () => {
  assert.deepEqual(
    genaiErrorBody({
      status: 429,
      message: "rate limited",
      type: "rate_limit",
      code: "rate_limited",
      retryAfterMs: 1500,
    }),
    {
      error: {
        code: 429,
        message: "rate limited",
        status: "RESOURCE_EXHAUSTED",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "rate_limited",
            domain: "failover-gateway",
            metadata: { type: "rate_limit" },
          },
          { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "2s" },
        ],
      },
    },
  );
  const bad = genaiErrorBody({
    status: 400,
    message: "m",
    type: "invalid_request_error",
    code: "invalid_request",
    param: "contents",
  });
  assert.deepEqual((bad.error as { details: unknown[] }).details[0], {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason: "invalid_request",
    domain: "failover-gateway",
    metadata: { type: "invalid_request_error", param: "contents" },
  });
  const rows: [number, string][] = [
    [400, "INVALID_ARGUMENT"],
    [401, "UNAUTHENTICATED"],
    [403, "PERMISSION_DENIED"],
    [404, "NOT_FOUND"],
    [429, "RESOURCE_EXHAUSTED"],
    [500, "INTERNAL"],
    [502, "UNAVAILABLE"],
    [503, "UNAVAILABLE"],
    [504, "DEADLINE_EXCEEDED"],
    [418, "FAILED_PRECONDITION"],
    [599, "INTERNAL"],
  ];
  for (const [status, name] of rows) assert.equal(googleStatus(status), name, String(status));
});
