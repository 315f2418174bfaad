// End to end: the OpenAI SDK → a running gateway → a local stand-in for Google's token endpoint
// (which checks the JWT's claims and its signature with the service account's public key) and for
// Vertex AI's routes (generateContent, streamGenerateContent SSE, rawPredict, streamRawPredict,
// predict for embeddings),
// which accept only the access token it issued. Then failover: a Vertex 500, and a token endpoint
// that refuses the assertion, each leave the answer to the next provider.
import assert from "node:assert/strict";
import OpenAI from "openai";
import { type MockUpstream, startMockUpstream } from "../../../bench/mock/mod.ts";
import type { RunningGateway } from "../../../src/server.ts";
import { mockProvider, startTestGateway } from "../../_support/gateway.ts";
import { testAccount, verifyJwt } from "./_test_key.ts";

const TOKEN = "ya29.e2e-token";
const PREFIX = "/v1/projects/proj-e2e/locations/us-central1/publishers";

interface VertexMock {
  url: string;
  exchanges: number;
  calls: string[];
  problems: string[];
  refuseTokens: boolean;
  fail500: boolean;
  close(): Promise<void>;
}

const sse = (data: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;

function startVertexMock(publicKey: CryptoKey): VertexMock {
  const state = {
    exchanges: 0,
    calls: [] as string[],
    problems: [] as string[],
    refuseTokens: false,
    fail500: false,
  };
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/token") {
      state.exchanges++;
      const form = new URLSearchParams(await req.text());
      const jwt = await verifyJwt(form.get("assertion") ?? "..", publicKey);
      const c = jwt.claims;
      const ok = form.get("grant_type") === "urn:ietf:params:oauth:grant-type:jwt-bearer" &&
        req.headers.get("content-type") === "application/x-www-form-urlencoded" &&
        jwt.valid && jwt.header.alg === "RS256" && jwt.header.kid === "kid-123" &&
        c.iss === "gateway@proj-test.iam.gserviceaccount.com" &&
        c.scope === "https://www.googleapis.com/auth/cloud-platform" &&
        c.aud === `${url.origin}/token` && typeof c.iat === "number" &&
        typeof c.exp === "number" && c.exp - c.iat <= 3600 && c.exp > Date.now() / 1000;
      if (!ok) state.problems.push(`bad assertion: ${JSON.stringify(jwt)}`);
      if (!ok || state.refuseTokens) {
        return Response.json({
          error: "invalid_grant",
          error_description: "Invalid JWT Signature.",
        }, {
          status: 400,
        });
      }
      return Response.json({ access_token: TOKEN, expires_in: 3599, token_type: "Bearer" });
    }
    const route = `${url.pathname.slice(PREFIX.length)}${url.search}`;
    state.calls.push(route);
    if (req.headers.get("authorization") !== `Bearer ${TOKEN}`) {
      return Response.json({
        error: {
          code: 401,
          message: "Request had invalid authentication credentials.",
          status: "UNAUTHENTICATED",
        },
      }, { status: 401 });
    }
    if (state.fail500) {
      return Response.json({
        error: { code: 500, message: "Internal error encountered.", status: "INTERNAL" },
      }, { status: 500 });
    }
    const body = await req.json();
    const m = /^\/(google|anthropic)\/models\/([^:]+):(\w+)(\?alt=sse)?$/.exec(route);
    if (!m) return new Response("not found", { status: 404 });
    const [, publisher, model, method] = m;
    if (publisher === "google" && method === "predict") {
      const instances = Array.isArray(body.instances) ? body.instances : [];
      return Response.json({
        predictions: instances.map((i: { content: string }) => ({
          embeddings: {
            values: [i.content.length, 0.5],
            statistics: { token_count: i.content.length, truncated: false },
          },
        })),
      });
    }
    if (publisher === "google") {
      if (!Array.isArray(body.contents)) {
        state.problems.push(`gemini body: ${JSON.stringify(body)}`);
      }
      const part = (text: string, finishReason?: string) => ({
        candidates: [{
          content: { role: "model", parts: [{ text }] },
          ...(finishReason ? { finishReason } : {}),
        }],
        usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 3, totalTokenCount: 7 },
        modelVersion: model,
      });
      if (method === "generateContent") return Response.json(part("Hello from Gemini", "STOP"));
      if (method === "streamGenerateContent" && url.searchParams.get("alt") === "sse") {
        return new Response(sse(part("Hello ")) + sse(part("from Gemini", "STOP")), {
          headers: { "content-type": "text/event-stream" },
        });
      }
    } else {
      if (body.anthropic_version !== "vertex-2023-10-16" || "model" in body) {
        state.problems.push(`claude body: ${JSON.stringify(body)}`);
      }
      if (method === "rawPredict") {
        return Response.json({
          id: "msg_vrtx_e2e",
          type: "message",
          role: "assistant",
          model,
          content: [{ type: "text", text: "Hello from Claude" }],
          stop_reason: "end_turn",
          usage: { input_tokens: 5, output_tokens: 4 },
        });
      }
      if (method === "streamRawPredict" && body.stream === true) {
        return new Response(
          sse({
            type: "message_start",
            message: { id: "msg_vrtx_s", model, usage: { input_tokens: 5 } },
          }, "message_start") +
            sse({
              type: "content_block_start",
              index: 0,
              content_block: { type: "text", text: "" },
            }, "content_block_start") +
            sse({
              type: "content_block_delta",
              index: 0,
              delta: { type: "text_delta", text: "Hello " },
            }, "content_block_delta") +
            sse({
              type: "content_block_delta",
              index: 0,
              delta: { type: "text_delta", text: "from Claude" },
            }, "content_block_delta") +
            sse({ type: "content_block_stop", index: 0 }, "content_block_stop") +
            sse({
              type: "message_delta",
              delta: { stop_reason: "end_turn" },
              usage: { output_tokens: 4 },
            }, "message_delta") +
            sse({ type: "message_stop" }, "message_stop"),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
    }
    return new Response("unexpected route", { status: 404 });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return Object.assign(state, { url, close: () => server.shutdown() }) as VertexMock;
}

async function withVertex(
  fn: (v: VertexMock, client: OpenAI, mock: MockUpstream, gw: RunningGateway) => Promise<void>,
) {
  const sa = await testAccount("placeholder");
  const vertex = startVertexMock(sa.publicKey);
  const mock = await startMockUpstream();
  const json = JSON.stringify({ ...JSON.parse(sa.json), token_uri: `${vertex.url}/token` });
  const gw = startTestGateway({
    providers: {
      vx: {
        type: "vertex",
        project: "proj-e2e",
        region: "us-central1",
        baseUrl: vertex.url,
        credentials: "env:GOOGLE_SERVICE_ACCOUNT_JSON",
        timeouts: { firstTokenMs: 2_000, totalMs: 10_000 },
      },
      backup: mockProvider(mock.url, "backup"),
    },
  }, { GOOGLE_SERVICE_ACCOUNT_JSON: json });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
  try {
    await fn(vertex, client, mock, gw);
    assert.deepEqual(vertex.problems, []);
  } finally {
    await gw.shutdown(1_000);
    await mock.close();
    await vertex.close();
  }
}

async function streamText(client: OpenAI, model: string): Promise<[string, string[]]> {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: "user", content: "hi" }],
    stream: true,
  });
  let text = "";
  const finishes: string[] = [];
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? "";
    if (c.choices[0]?.finish_reason) finishes.push(c.choices[0].finish_reason);
  }
  return [text, finishes];
}

const extra = (c: unknown) =>
  (c as {
    extra_fields: {
      provider: string;
      attempts: { provider: string; status?: number; error_type?: string }[];
    };
  }).extra_fields;

Deno.test("vertex e2e: Gemini and Claude, JSON and streams, embeddings, with one token exchange", async () => {
  await withVertex(async (v, client) => {
    const messages = [{ role: "user" as const, content: "hi" }];
    const gem = await client.chat.completions.create({ model: "vx/gemini-2.5-flash", messages });
    assert.equal(gem.choices[0].message.content, "Hello from Gemini");
    assert.equal(gem.usage?.total_tokens, 7);
    assert.equal(extra(gem).provider, "vx");

    const claude = await client.chat.completions.create({
      model: "vx/claude-sonnet-4-5@20250929",
      messages,
    });
    assert.equal(claude.choices[0].message.content, "Hello from Claude");
    assert.equal(claude.usage?.prompt_tokens, 5);

    assert.deepEqual(await streamText(client, "vx/gemini-2.5-flash"), ["Hello from Gemini", [
      "stop",
    ]]);
    assert.deepEqual(await streamText(client, "vx/claude-3-5-haiku@20241022"), [
      "Hello from Claude",
      ["stop"],
    ]);

    assert.deepEqual(v.calls, [
      "/google/models/gemini-2.5-flash:generateContent",
      "/anthropic/models/claude-sonnet-4-5@20250929:rawPredict",
      "/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
      "/anthropic/models/claude-3-5-haiku@20241022:streamRawPredict",
    ]);
    const emb = await client.embeddings.create({
      model: "vx/text-embedding-005",
      input: ["abc", "hello"],
      encoding_format: "float",
    });
    assert.deepEqual(emb.data.map((d) => d.embedding), [[3, 0.5], [5, 0.5]]);
    assert.equal(emb.usage.prompt_tokens, 8);
    assert.equal(v.calls.at(-1), "/google/models/text-embedding-005:predict");
    assert.equal(v.exchanges, 1, "the access token is cached across calls");
  });
});

Deno.test("vertex e2e: a Vertex 500 falls over to the next provider, JSON and stream", async () => {
  await withVertex(async (v, client, mock) => {
    v.fail500 = true;
    const body = {
      model: "vx/gemini-2.5-flash",
      messages: [{ role: "user" as const, content: "hi" }],
      fallbacks: ["backup/gpt-4o-mini"],
    };
    const c = await client.chat.completions.create(
      body as OpenAI.ChatCompletionCreateParamsNonStreaming,
    );
    assert.equal(extra(c).provider, "backup");
    assert.equal(extra(c).attempts[0].provider, "vx");
    assert.equal(extra(c).attempts[0].status, 500);
    assert.match(c.choices[0].message.content ?? "", /Hello from backup/);
    const s = await client.chat.completions.create(
      { ...body, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming,
    );
    let text = "";
    for await (const ch of s) text += ch.choices[0]?.delta.content ?? "";
    assert.match(text, /^Hello from backup/);
    assert.ok(mock.hits("backup") >= 2);
  });
});

Deno.test("vertex e2e: a refused token exchange is an auth failure and the fallback serves", async () => {
  await withVertex(async (v, client) => {
    v.refuseTokens = true;
    const c = await client.chat.completions.create({
      model: "vx/claude-sonnet-4-5@20250929",
      messages: [{ role: "user", content: "hi" }],
      fallbacks: ["backup/gpt-4o-mini"],
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    assert.equal(extra(c).provider, "backup");
    const first = extra(c).attempts[0];
    assert.equal(first.provider, "vx");
    assert.equal(first.status, 401);
    assert.equal(v.calls.length, 0, "nothing reaches Vertex without a token");
    assert.equal(v.exchanges, 1);
    // Without a fallback the client hears why, naming the provider and what to fix.
    await assert.rejects(
      client.chat.completions.create({
        model: "vx/gemini-2.5-flash",
        messages: [{ role: "user", content: "hi" }],
      }),
      (e: Error) =>
        /vertex provider "vx".*refused.*GOOGLE_SERVICE_ACCOUNT_JSON/s.test(e.message) ||
        assert.fail(e.message),
    );
  });
});
