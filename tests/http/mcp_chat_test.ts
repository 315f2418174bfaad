import assert from "node:assert/strict";
import OpenAI from "openai";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { startTestGateway } from "../_support/gateway.ts";
import { startMcpTestServer } from "../_support/mcp_server.ts";
import { answerText, provider, startToolUpstream, TOOL_ARGS } from "../_support/tool_upstream.ts";

type Json = Record<string, unknown>;
const KEY_WX = "vk-wx-only-secret-0001";
const KEY_ALL = "vk-everything-secret-01";

async function withStack(
  keys: boolean,
  fn: (s: {
    url: string;
    up: ReturnType<typeof startToolUpstream>;
    wx: ReturnType<typeof startMcpTestServer>;
    events: GatewayEvent[];
  }) => Promise<void>,
) {
  const up = startToolUpstream();
  const wx = startMcpTestServer();
  const other = startMcpTestServer({ stateful: true });
  const gw = startTestGateway({
    retries: { max: 0 },
    providers: {
      oai: provider(up.url, "oai", "openai"),
      anthro: provider(up.url, "anthro", "anthropic"),
      down: provider(up.url, "down", "openai"),
    },
    mcp: { servers: { wx: { url: wx.url, pingMs: 0 }, other: { url: other.url, pingMs: 0 } } },
    ...(keys && {
      virtualKeys: [
        {
          name: "wx",
          key: "env:KEY_WX",
          providers: [{ provider: "oai" }],
          mcp: { servers: ["wx"], tools: ["wx__weather", "wx__echo"] },
        },
        { name: "all", key: "env:KEY_ALL", providers: [{ provider: "oai" }] },
      ],
    }),
  }, { KEY_WX, KEY_ALL });
  const events: GatewayEvent[] = [];
  gw.bus.subscribe((e) => events.push(e));
  await gw.gateway.mcp.start();
  try {
    await fn({ url: gw.url, up, wx, events });
  } finally {
    await gw.shutdown(2_000);
    await up.close();
    await wx.close();
    await other.close();
  }
}

const post = (url: string, body: unknown, key?: string) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key && { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });

Deno.test("mcp chat: tools reach the upstream as function tools; the client runs the call with /v1/mcp/tool/execute", async () => {
  await withStack(false, async ({ url, up, wx }) => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused" });
    const completion = await client.chat.completions.create({
      model: "oai/gpt-test",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      // @ts-expect-error: the gateway's own field
      mcp: { servers: ["wx"] },
    });
    const call = completion.choices[0].message.tool_calls![0];
    assert.ok(call.type === "function");
    assert.equal(call.function.name, "wx__weather");
    const sent = up.callsOf("oai")[0].body;
    assert.equal("mcp" in sent, false, "mcp is never forwarded upstream");
    const names = (sent.tools as { function: { name: string } }[]).map((t) => t.function.name);
    assert.deepEqual(names, ["wx__weather", "wx__echo", "wx__add", "wx__slow", "wx__broken"]);
    assert.equal(wx.calls.length, 0, "client mode never runs a tool");
    const state = await (await fetch(`${url}/v1/gateway/mcp`)).json();
    assert.deepEqual(
      state.servers.map((s: Json) => [s.server, s.connected, (s.breaker as Json).state]),
      [["wx", true, "closed"], ["other", true, "closed"]],
    );

    const res = await post(`${url}/v1/mcp/tool/execute`, {
      name: call.function.name,
      arguments: call.function.arguments,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-mcp-server"), "wx");
    assert.deepEqual(await res.json(), { content: [{ type: "text", text: "Sunny in Paris" }] });

    const missing = await post(`${url}/v1/mcp/tool/execute`, { name: "wx__nope", arguments: {} });
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.param, "name");
    const bad = await post(`${url}/v1/mcp/tool/execute`, {
      name: "wx__weather",
      arguments: { town: 1 },
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.param, "arguments");
    const unknownServer = await post(`${url}/v1/chat/completions`, {
      model: "oai/gpt-test",
      messages: [{ role: "user", content: "hi" }],
      mcp: { servers: ["nope"] },
    });
    assert.equal(unknownServer.status, 400);
    assert.equal((await unknownServer.json()).error.param, "mcp.servers");
  });
});

for (const [target, api] of [["oai", "chat"], ["anthro", "messages"]] as const) {
  Deno.test(`mcp chat: execute auto runs the loop through a ${api} upstream, failing over in every step`, async () => {
    await withStack(false, async ({ url, up, wx, events }) => {
      const res = await post(`${url}/v1/chat/completions`, {
        model: "down/m1",
        fallbacks: [`${target}/m1`],
        messages: [{ role: "user", content: "Weather in Paris?" }],
        mcp: { servers: ["wx"], execute: "auto" },
      });
      const body = await res.json() as Json;
      assert.equal(res.status, 200, JSON.stringify(body));
      const choice = (body.choices as Json[])[0] as { message: { content: string } };
      assert.equal(choice.message.content, answerText("Sunny in Paris"));
      // The tool ran once, with the model's arguments.
      assert.deepEqual(wx.calls, [{ name: "weather", args: JSON.parse(TOOL_ARGS) }]);
      // Two model calls, each failing over from down to the target.
      assert.equal(up.callsOf("down").length, 2);
      const served = up.callsOf(target);
      assert.equal(served.length, 2);
      for (const c of [...served, ...up.callsOf("down")]) assert.equal("mcp" in c.body, false);
      if (api === "chat") {
        const msgs = served[1].body.messages as Json[];
        assert.deepEqual(msgs.at(-1), {
          role: "tool",
          tool_call_id: "call_up1",
          content: "Sunny in Paris",
        });
      } else {
        const msgs = served[1].body.messages as { content: Json[] }[];
        const result = msgs.at(-1)!.content.find((b) => b.type === "tool_result")!;
        assert.equal(result.tool_use_id, "toolu_up1");
      }
      const extra = body.extra_fields as { provider: string; mcp: { steps: Json[] } };
      assert.equal(extra.provider, target);
      assert.deepEqual(extra.mcp.steps, [{
        step: 1,
        provider: target,
        tool_calls: [{ name: "wx__weather", ok: true }],
      }]);
      assert.equal(events.filter((e) => e.type === "fallback.taken").length, 2);
      const called = events.find((e) => e.type === "mcp.tool_called");
      assert.ok(called?.type === "mcp.tool_called" && called.server === "wx" && called.requestId);
    });
  });
}

Deno.test("mcp chat: maxSteps bounds the loop; the model's last tool call comes back", async () => {
  await withStack(false, async ({ url, wx }) => {
    const res = await post(`${url}/v1/chat/completions`, {
      model: "oai/m1",
      messages: [{ role: "user", content: "Weather?" }],
      mcp: { servers: ["wx"], execute: "auto", maxSteps: 1 },
    });
    const body = await res.json();
    assert.equal(res.status, 200);
    assert.equal(body.choices[0].finish_reason, "tool_calls");
    // Out of steps, the tool calls are the client's to run (as in a stream): none ran here.
    assert.equal(wx.calls.length, 0);
    assert.equal(body.choices[0].message.tool_calls[0].function.name, "wx__weather");
    const bad = await post(`${url}/v1/chat/completions`, {
      model: "oai/m1",
      messages: [{ role: "user", content: "Weather?" }],
      mcp: { servers: ["wx"], execute: "auto", maxSteps: 0 },
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.param, "mcp.maxSteps");
  });
});

Deno.test("mcp: virtual keys restrict the servers and tools a key sees and calls", async () => {
  await withStack(true, async ({ url }) => {
    const list = (key?: string) =>
      fetch(`${url}/v1/mcp/tools`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    assert.equal((await list()).status, 401);
    const seen = (await (await list(KEY_WX)).json()).data.map((t: Json) => t.name);
    assert.deepEqual(seen, ["wx__weather", "wx__echo"]);
    assert.equal((await (await list(KEY_ALL)).json()).data.length, 10);

    assert.equal(
      (await post(`${url}/v1/mcp/tool/execute`, { name: "wx__echo", arguments: { text: "a" } }))
        .status,
      401,
    );
    const forbidden = await post(`${url}/v1/mcp/tool/execute`, {
      name: "other__echo",
      arguments: { text: "a" },
    }, KEY_WX);
    assert.equal(forbidden.status, 403);
    await forbidden.body?.cancel();
    const ok = await post(`${url}/v1/mcp/tool/execute`, {
      name: "wx__echo",
      arguments: { text: "a" },
    }, KEY_WX);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const chat = await post(`${url}/v1/chat/completions`, {
      model: "oai/m1",
      messages: [{ role: "user", content: "hi" }],
      mcp: { servers: ["other"] },
    }, KEY_WX);
    assert.equal(chat.status, 403);
    assert.equal((await chat.json()).error.param, "mcp.servers");
  });
});

for (const [target, api] of [["oai", "chat"], ["anthro", "messages"]] as const) {
  Deno.test(`mcp chat: execute auto streams with the OpenAI SDK through a ${api} upstream, failing over in every step`, async () => {
    await withStack(false, async ({ url, up, wx, events }) => {
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: "down/m1",
        fallbacks: [`${target}/m1`],
        messages: [{ role: "user", content: "Weather in Paris?" }],
        stream: true,
        mcp: { servers: ["wx"], execute: "auto" },
      } as OpenAI.ChatCompletionCreateParamsStreaming); // fallbacks, mcp: the gateway's own
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
      assert.equal(text, answerText("Sunny in Paris"));
      // The client never sees the tool calls the gateway ran, nor a finish before the last step.
      assert.ok(chunks.every((c) => !c.choices[0]?.delta.tool_calls));
      const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason))
        .filter((f) => f !== null);
      assert.deepEqual(finishes, ["stop"]);
      assert.equal(new Set(chunks.map((c) => c.id)).size, 1, "one completion id throughout");
      const last = chunks.at(-1) as unknown as { extra_fields: { mcp: { steps: Json[] } } };
      assert.deepEqual(last.extra_fields.mcp.steps, [{
        step: 1,
        provider: target,
        tool_calls: [{ name: "wx__weather", ok: true }],
      }]);
      assert.deepEqual(wx.calls, [{ name: "weather", args: JSON.parse(TOOL_ARGS) }]);
      // Both model calls streamed, each failing over from down to the target.
      const served = up.callsOf(target);
      assert.equal(served.length, 2);
      assert.ok(served.every((c) => c.body.stream === true && !("mcp" in c.body)));
      const resent = served[1].body.messages as Json[];
      if (api === "chat") {
        assert.deepEqual(resent.slice(-2), [
          {
            role: "assistant",
            content: null,
            tool_calls: [{
              id: "call_up1",
              type: "function",
              function: { name: "wx__weather", arguments: TOOL_ARGS },
            }],
          },
          { role: "tool", tool_call_id: "call_up1", content: "Sunny in Paris" },
        ]);
      } else {
        const blocks = (resent.at(-1) as { content: Json[] }).content;
        assert.equal(blocks.find((b) => b.type === "tool_result")?.tool_use_id, "toolu_up1");
      }
      assert.equal(up.callsOf("down").length, 2);
      assert.equal(events.filter((e) => e.type === "fallback.taken").length, 2);
      assert.ok(events.some((e) => e.type === "mcp.tool_succeeded"));
    });
  });
}

Deno.test("mcp chat: a streamed auto loop stops at maxSteps and streams the model's tool call back", async () => {
  await withStack(false, async ({ url, wx }) => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "oai/m1",
      messages: [{ role: "user", content: "Weather?" }],
      stream: true,
      mcp: { servers: ["wx"], execute: "auto", maxSteps: 1 },
    } as OpenAI.ChatCompletionCreateParamsStreaming); // mcp: the gateway's own
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const args = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .map((t) => t.function?.arguments ?? "").join("");
    assert.equal(args, TOOL_ARGS);
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "tool_calls");
    assert.equal(wx.calls.length, 0, "the last step's tool call goes to the client");
  });
});
