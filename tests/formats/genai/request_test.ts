import assert from "node:assert/strict";
import {
  GenaiRequestError,
  openApiToJsonSchema,
  toChatRequest,
} from "../../../src/formats/genai/request.ts";

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
