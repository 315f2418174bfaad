// MCP tools through POST /v1/responses (`"mcp": {"servers", "execute"?, "maxSteps"?}`), with the
// openai SDK against a listening gateway, a real MCP test server and the tool upstream: on a
// translated target (oai: Chat Completions) and on the native passthrough (nat: Responses API).
// Client mode: the MCP tools reach the upstream as function tools and the call comes back.
// Auto mode: the gateway runs the tool and the final Response quotes its result, JSON and SSE.
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startTestGateway } from "../../_support/gateway.ts";
import { startMcpTestServer } from "../../_support/mcp_server.ts";
import {
  answerText,
  provider,
  startToolUpstream,
  TOOL_ARGS,
  type ToolUpstream,
} from "../../_support/tool_upstream.ts";

type Json = Record<string, unknown>;
const MCP_TOOLS = ["wx__weather", "wx__echo", "wx__add", "wx__slow", "wx__broken"];

async function withStack(
  fn: (
    client: OpenAI,
    up: ToolUpstream,
    wx: ReturnType<typeof startMcpTestServer>,
    url: string,
  ) => Promise<void>,
) {
  const up = startToolUpstream();
  const wx = startMcpTestServer();
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      oai: provider(up.url, "oai", "openai"),
      nat: provider(up.url, "nat", "openai", { responsesApi: true }),
    },
    mcp: { servers: { wx: { url: wx.url, pingMs: 0 } } },
  });
  await gw.gateway.mcp.start();
  try {
    await fn(
      new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 }),
      up,
      wx,
      gw.url,
    );
  } finally {
    await gw.shutdown(2_000);
    await up.close();
    await wx.close();
  }
}

/** The names of the function tools an upstream request carried, in its own format. */
const toolNames = (api: string, body: Json) =>
  (body.tools as Json[]).map((t) =>
    api === "chat" ? (t.function as Json).name : (assert.equal(t.type, "function"), t.name)
  );

for (const target of ["oai", "nat"] as const) {
  const api = target === "nat" ? "responses" : "chat";

  Deno.test(`responses mcp (${target}): MCP tools reach the ${api} upstream; the call comes back`, async () => {
    await withStack(async (client, up, wx) => {
      const r = await client.responses.create({
        model: `${target}/m1`,
        input: "Weather in Paris?",
        mcp: { servers: ["wx"] },
      } as never) as OpenAI.Responses.Response;
      const call = r.output.find((i) => i.type === "function_call");
      assert.ok(call?.type === "function_call", JSON.stringify(r.output));
      assert.equal(call.name, "wx__weather");
      assert.deepEqual(JSON.parse(call.arguments), JSON.parse(TOOL_ARGS));
      const [sent] = up.callsOf(target);
      assert.equal(sent.api, api);
      assert.equal("mcp" in sent.body, false, "mcp is never forwarded upstream");
      assert.deepEqual(toolNames(api, sent.body), MCP_TOOLS);
      if (api === "responses") {
        const weather = (sent.body.tools as Json[])[0];
        assert.equal((weather.parameters as Json).type, "object");
        assert.equal("function" in weather, false, "flat Responses function tools");
      }
      assert.equal(wx.calls.length, 0, "client mode never runs a tool");
    });
  });

  Deno.test(`responses mcp (${target}): execute auto answers a Response quoting the tool result`, async () => {
    await withStack(async (client, up, wx) => {
      const r = await client.responses.create({
        model: `${target}/m1`,
        input: "Weather in Paris?",
        mcp: { servers: ["wx"], execute: "auto" },
      } as never) as OpenAI.Responses.Response & { extra_fields: { mcp: { steps: Json[] } } };
      assert.equal(r.object, "response");
      assert.equal(r.status, "completed");
      assert.equal(r.output_text, answerText("Sunny in Paris"));
      assert.equal(r.output.some((i) => i.type === "function_call"), false);
      assert.deepEqual(wx.calls, [{ name: "weather", args: JSON.parse(TOOL_ARGS) }]);
      assert.deepEqual(r.extra_fields.mcp.steps, [{
        step: 1,
        provider: target,
        tool_calls: [{ name: "wx__weather", ok: true }],
      }]);
      const calls = up.callsOf(target);
      assert.equal(calls.length, 2);
      for (const c of calls) {
        assert.equal(c.api, api, "every step takes the same path");
        assert.equal("mcp" in c.body, false);
      }
      if (api === "responses") {
        const input = calls[1].body.input as Json[];
        assert.deepEqual(input.slice(-2), [
          { type: "function_call", call_id: "call_up1", name: "wx__weather", arguments: TOOL_ARGS },
          { type: "function_call_output", call_id: "call_up1", output: "Sunny in Paris" },
        ]);
      }
    });
  });

  Deno.test(`responses mcp (${target}): execute auto with stream: true is a Responses SSE answer`, async () => {
    await withStack(async (client, up, wx) => {
      const stream = await client.responses.create({
        model: `${target}/m1`,
        input: "Weather in Paris?",
        stream: true,
        mcp: { servers: ["wx"], execute: "auto" },
      } as never) as unknown as AsyncIterable<OpenAI.Responses.ResponseStreamEvent>;
      const types: string[] = [];
      let text = "";
      let done: OpenAI.Responses.Response | undefined;
      for await (const e of stream) {
        types.push(e.type);
        if (e.type === "response.output_text.delta") text += e.delta;
        if (e.type === "response.completed") done = e.response;
      }
      assert.equal(types[0], "response.created");
      assert.equal(types.filter((t) => t === "response.created").length, 1, "one response");
      assert.equal(types.at(-1), "response.completed");
      assert.equal(text, answerText("Sunny in Paris"));
      assert.ok(done);
      const message = done.output.find((i) => i.type === "message");
      assert.ok(message?.type === "message");
      assert.deepEqual(
        message.content.map((p) => p.type === "output_text" ? p.text : ""),
        [answerText("Sunny in Paris")],
      );
      assert.deepEqual(wx.calls, [{ name: "weather", args: JSON.parse(TOOL_ARGS) }]);
      const calls = up.callsOf(target);
      assert.equal(calls.length, 2);
      assert.ok(calls.every((c) => c.api === api && !("mcp" in c.body)));
    });
  });
}

Deno.test("responses mcp: a wrong mcp field is refused naming it", async () => {
  await withStack(async (_client, up, _wx, url) => {
    const res = await fetch(`${url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "nat/m1", input: "hi", mcp: { servers: ["nope"] } }),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.param, "mcp.servers");
    assert.equal(up.calls.length, 0);
  });
});
