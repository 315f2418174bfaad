import assert from "node:assert/strict";
import { azureAdapter } from "../../../src/providers/azure/adapter.ts";
import { adapterFor, classifyHttpFailure } from "../../../src/providers/mod.ts";
import type { AdapterContext, UpstreamRequest } from "../../../src/providers/mod.ts";
import type { ChatRequest, EmbeddingsRequest } from "../../../src/openai/types.ts";
import { ctx as baseCtx, decodeTranscript } from "../fixtures/load.ts";

const ctx: AdapterContext = {
  ...baseCtx,
  baseUrl: "https://contoso.openai.azure.com",
  model: "gpt-4o",
  stream: false,
};

const request: ChatRequest = {
  model: "azure/gpt-4o",
  fallbacks: ["openai/gpt-4o"],
  messages: [{ role: "user", content: "Hi" }],
  temperature: 0.3,
};

async function built(r: UpstreamRequest | Promise<UpstreamRequest>) {
  const up = await r;
  return { ...up, json: JSON.parse(up.body as string) };
}

const classify = (status: number, body: string) =>
  classifyHttpFailure({
    status,
    headers: new Headers(),
    error: azureAdapter.parseError(status, body),
    now: 0,
  });

Deno.test("azure is registered as its own family", () => {
  assert.equal(adapterFor("azure"), azureAdapter);
});

Deno.test("chat goes to the model's deployment with api-key auth and no model in the body", async () => {
  const up = await built(azureAdapter.buildChatRequest(request, {
    ...ctx,
    settings: { deployments: { "gpt-4o": "prod-4o" }, apiVersion: "2025-01-01-preview" },
  }));
  assert.equal(
    up.url,
    "https://contoso.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2025-01-01-preview",
  );
  assert.equal(up.headers["api-key"], "sk-test");
  assert.equal("authorization" in up.headers, false);
  assert.deepEqual(up.json, {
    messages: [{ role: "user", content: "Hi" }],
    temperature: 0.3,
    stream: false,
  });
});

Deno.test("a model without a mapping is its own deployment, on the default GA api-version", async () => {
  const up = await built(azureAdapter.buildChatRequest(request, { ...ctx, model: "my model/v2" }));
  assert.equal(
    up.url,
    "https://contoso.openai.azure.com/openai/deployments/my%20model%2Fv2/chat/completions?api-version=2024-10-21",
  );
  // An endpoint written the SDK's way (ending in /openai) lands on the same URL.
  const sdkStyle = await built(
    azureAdapter.buildChatRequest(request, { ...ctx, baseUrl: `${ctx.baseUrl}/openai` }),
  );
  assert.equal(
    sdkStyle.url,
    "https://contoso.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
  );
});

Deno.test("streams ask for usage, and a keyless deployment sends no api-key", async () => {
  const up = await built(
    azureAdapter.buildChatRequest(request, { ...ctx, stream: true, apiKey: "" }),
  );
  assert.equal(up.json.stream, true);
  assert.deepEqual(up.json.stream_options, { include_usage: true });
  assert.equal(up.headers.accept, "text/event-stream");
  assert.equal("api-key" in up.headers, false);
  assert.equal("authorization" in up.headers, false);
});

Deno.test("api-versions older than stream_options stream without asking for usage", async () => {
  for (
    const [apiVersion, asked] of [
      ["2024-06-01", false],
      ["2024-08-01-preview", false],
      ["2024-09-01-preview", true],
      ["2024-10-21", true],
      ["2025-04-01-preview", true],
    ] as const
  ) {
    const up = await built(
      azureAdapter.buildChatRequest(request, { ...ctx, stream: true, settings: { apiVersion } }),
    );
    assert.equal(up.json.stream, true, apiVersion);
    assert.equal("stream_options" in up.json, asked, apiVersion);
  }
});

Deno.test("a filtered completion keeps finish_reason content_filter", () => {
  const c = azureAdapter.parseChatResponse({
    id: "chatcmpl-F",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o",
    choices: [{
      index: 0,
      finish_reason: "content_filter",
      message: { role: "assistant", content: null },
      content_filter_results: { violence: { filtered: true, severity: "medium" } },
    }],
    usage: { prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 },
  }, ctx);
  assert.equal(c.choices[0].finish_reason, "content_filter");
  assert.equal(c.choices[0].message.content, null);
  assert.equal(c.usage?.prompt_tokens, 9);
});

Deno.test("the stream drops Azure's prompt annotation chunk and passes content_filter through", async () => {
  const data = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const chunk = (delta: unknown, finish: string | null = null) =>
    data({
      id: "chatcmpl-S",
      object: "chat.completion.chunk",
      created: 5,
      model: "gpt-4o",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
  const transcript = data({
    choices: [],
    created: 0,
    id: "",
    model: "",
    object: "",
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }],
  }) + chunk({ role: "assistant", content: "" }) + chunk({ content: "Once upon" }) +
    chunk({}, "content_filter") +
    data({
      id: "chatcmpl-S",
      object: "chat.completion.chunk",
      created: 5,
      model: "gpt-4o",
      choices: [],
      usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
    }) + "data: [DONE]\n\n";
  const { chunks, finished, error } = await decodeTranscript(azureAdapter, transcript);
  assert.equal(error, undefined);
  assert.equal(finished, true);
  assert.ok(chunks.every((c) => c.id === "chatcmpl-S"), "no chunk with Azure's empty id");
  assert.equal(chunks.length, 4);
  assert.equal(chunks[2].choices[0].finish_reason, "content_filter");
  assert.equal(chunks[3].usage?.total_tokens, 6);
});

Deno.test("a content-filter 400 is the caller's fault, named content_filter", () => {
  const withCode = JSON.stringify({
    error: {
      message: "The response was filtered due to the prompt triggering Azure OpenAI's content " +
        "management policy. Please modify your prompt and retry.",
      type: null,
      param: "prompt",
      code: "content_filter",
      status: 400,
      innererror: { code: "ResponsibleAIPolicyViolation", content_filter_result: {} },
    },
  });
  const f = classify(400, withCode);
  assert.equal(f.kind, "caller_fault");
  assert.equal(f.code, "content_filter");
  assert.match(f.message, /content management policy/);
  // Only the inner error says so: still recognised.
  const innerOnly = JSON.stringify({
    error: {
      message: "The response was filtered",
      innererror: { code: "ResponsibleAIPolicyViolation" },
    },
  });
  assert.equal(azureAdapter.parseError(400, innerOnly).code, "content_filter");
  assert.equal(classify(400, innerOnly).kind, "caller_fault");
});

Deno.test("a missing deployment cools down that model instead of failing the provider", () => {
  const f = classify(
    404,
    JSON.stringify({
      error: {
        code: "DeploymentNotFound",
        message: "The API deployment for this resource does not exist.",
      },
    }),
  );
  assert.equal(f.kind, "model_unavailable");
  assert.equal(f.code, "model_not_found");
});

Deno.test("errors that are not JSON keep their text", () => {
  assert.deepEqual(azureAdapter.parseError(502, "<html>Bad Gateway</html>"), {
    message: "<html>Bad Gateway</html>",
  });
  assert.equal(classify(502, "<html>Bad Gateway</html>").kind, "transient");
});

Deno.test("embeddings go to the deployment's /embeddings without model or fallbacks", async () => {
  const req: EmbeddingsRequest = {
    model: "azure/text-embedding-3-small",
    fallbacks: ["openai/text-embedding-3-small"],
    input: ["a", "b"],
    dimensions: 256,
  };
  const up = await built(azureAdapter.buildEmbeddingsRequest!(req, {
    ...ctx,
    model: "text-embedding-3-small",
    settings: { deployments: { "text-embedding-3-small": "emb" } },
  }));
  assert.equal(
    up.url,
    "https://contoso.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21",
  );
  assert.equal(up.headers["api-key"], "sk-test");
  assert.deepEqual(up.json, { input: ["a", "b"], dimensions: 256 });

  const res = azureAdapter.parseEmbeddingsResponse!({
    object: "list",
    data: [
      { object: "embedding", index: 0, embedding: [0.1, 0.2] },
      { object: "embedding", index: 1, embedding: [0.3, 0.4] },
    ],
    model: "text-embedding-3-small",
    usage: { prompt_tokens: 2, total_tokens: 2 },
  }, ctx);
  assert.deepEqual(res.data.map((d) => d.embedding), [[0.1, 0.2], [0.3, 0.4]]);
  assert.equal(res.usage.total_tokens, 2);
});
