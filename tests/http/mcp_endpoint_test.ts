import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { startTestGateway } from "../_support/gateway.ts";
import { startMcpTestServer } from "../_support/mcp_server.ts";

const KEY_WX = "vk-wx-only-secret-0001";
const KEY_ALL = "vk-everything-secret-01";

async function withStack(
  keys: boolean,
  fn: (s: {
    url: string;
    wx: ReturnType<typeof startMcpTestServer>;
    other: ReturnType<typeof startMcpTestServer>;
    events: GatewayEvent[];
  }) => Promise<void>,
) {
  const wx = startMcpTestServer();
  const other = startMcpTestServer({ stateful: true });
  const gw = startTestGateway({
    providers: { oai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } },
    mcp: {
      servers: {
        wx: { url: wx.url, pingMs: 0 },
        other: {
          url: other.url,
          pingMs: 0,
          allow: ["echo", "add"],
          breaker: { minimumRequests: 2, failureRateThreshold: 0.5, openMs: 5_000 },
        },
      },
    },
    ...(keys && {
      virtualKeys: [
        {
          name: "wx",
          key: "env:KEY_WX",
          providers: [{ provider: "oai" }],
          mcp: { servers: ["wx"], tools: ["wx__weather", "wx__broken"] },
        },
        { name: "all", key: "env:KEY_ALL", providers: [{ provider: "oai" }] },
      ],
    }),
  }, { KEY_WX, KEY_ALL });
  const events: GatewayEvent[] = [];
  gw.bus.subscribe((e) => events.push(e));
  await gw.gateway.mcp.start();
  try {
    await fn({ url: gw.url, wx, other, events });
  } finally {
    await gw.shutdown(2_000);
    await wx.close();
    await other.close();
  }
}

async function connect(url: string, key?: string): Promise<Client> {
  const client = new Client({ name: "test-client", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: key ? { headers: { authorization: `Bearer ${key}` } } : undefined,
  });
  await client.connect(transport);
  return client;
}

const text = (r: { content?: unknown }) =>
  (r.content as { type: string; text: string }[]).map((c) => c.text).join("");

Deno.test("mcp endpoint: the SDK client initializes, lists every server's tools and calls them through the gateway", async () => {
  await withStack(false, async ({ url, wx, other, events }) => {
    const client = await connect(`${url}/mcp`);
    try {
      assert.equal(client.getServerVersion()?.name, "failover-gateway");
      assert.ok(client.getServerCapabilities()?.tools);
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t: { name: string }) => t.name), [
        "wx__weather",
        "wx__echo",
        "wx__add",
        "wx__slow",
        "wx__broken",
        "other__echo",
        "other__add",
      ]);
      assert.deepEqual(tools[0].inputSchema.required, ["city"]);

      const ok = await client.callTool({ name: "wx__weather", arguments: { city: "Oslo" } });
      assert.equal(text(ok), "Sunny in Oslo");
      assert.equal(ok.isError, undefined);
      const sum = await client.callTool({ name: "other__add", arguments: { a: 2, b: 3 } });
      assert.equal(text(sum), "5");
      assert.deepEqual(wx.calls, [{ name: "weather", args: { city: "Oslo" } }]);
      assert.deepEqual(other.calls, [{ name: "add", args: { a: 2, b: 3 } }]);
      // The calls went through the hub: they are events.
      assert.deepEqual(
        events.filter((e) => e.type === "mcp.tool_succeeded").map((e) => e.server),
        ["wx", "other"],
      );

      // A tool's own error and the gateway's refusals are tool results with isError.
      const broken = await client.callTool({ name: "wx__broken", arguments: {} });
      assert.equal(broken.isError, true);
      assert.equal(text(broken), "it broke");
      const bad = await client.callTool({ name: "wx__weather", arguments: { town: 1 } });
      assert.equal(bad.isError, true);
      assert.match(text(bad), /input schema/);
      const missing = await client.callTool({ name: "wx__nope", arguments: {} });
      assert.equal(missing.isError, true);
      assert.equal((missing._meta?.["gateway/error"] as { code: string }).code, "tool_not_found");
    } finally {
      await client.close();
    }
    // Stateless: no session id, and GET/DELETE are 405.
    const init = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "raw", version: "1" },
        },
      }),
    });
    assert.equal(init.status, 200);
    assert.equal(init.headers.get("mcp-session-id"), null);
    await init.body?.cancel();
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(`${url}/mcp`, { method });
      assert.equal(res.status, 405, method);
      await res.body?.cancel();
    }
  });
});

Deno.test("mcp endpoint: a dead server's calls are tool errors, then fail at once once its breaker opens", async () => {
  await withStack(false, async ({ url, other, events }) => {
    const client = await connect(`${url}/mcp`);
    try {
      other.down();
      for (let i = 0; i < 2; i++) {
        const r = await client.callTool({ name: "other__echo", arguments: { text: "x" } });
        assert.equal(r.isError, true);
        assert.equal((r._meta?.["gateway/error"] as { status: number }).status, 503);
      }
      assert.ok(events.some((e) => e.type === "mcp.breaker_opened" && e.server === "other"));
      const seen = other.calls.length;
      const open = await client.callTool({ name: "other__echo", arguments: { text: "x" } });
      assert.equal(open.isError, true);
      assert.match(text(open), /MCP server "other" is unavailable/);
      assert.deepEqual(open._meta?.["gateway/error"], {
        status: 503,
        code: "mcp_server_unavailable",
        server: "other",
        retry_after_ms: (open._meta?.["gateway/error"] as { retry_after_ms: number })
          .retry_after_ms,
      });
      assert.equal(other.calls.length, seen, "an open breaker never reaches the server");
      // The other server is unaffected.
      const wx = await client.callTool({ name: "wx__echo", arguments: { text: "fine" } });
      assert.equal(text(wx), "fine");
    } finally {
      await client.close();
    }
  });
});

Deno.test("mcp endpoint: with virtual keys, 401 without a key; each key sees and calls only its tools", async () => {
  await withStack(true, async ({ url, wx }) => {
    const anon = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    await assert.rejects(connect(`${url}/mcp`, "vk-wrong-key-000000000"));

    const limited = await connect(`${url}/mcp`, KEY_WX);
    try {
      const { tools } = await limited.listTools();
      assert.deepEqual(tools.map((t: { name: string }) => t.name), ["wx__weather", "wx__broken"]);
      const denied = await limited.callTool({ name: "wx__echo", arguments: { text: "no" } });
      assert.equal(denied.isError, true);
      assert.equal((denied._meta?.["gateway/error"] as { code: string }).code, "tool_not_allowed");
      assert.equal(wx.calls.length, 0);
      const ok = await limited.callTool({ name: "wx__weather", arguments: { city: "Rome" } });
      assert.equal(text(ok), "Sunny in Rome");
    } finally {
      await limited.close();
    }
    const all = await connect(`${url}/mcp`, KEY_ALL);
    try {
      assert.equal((await all.listTools()).tools.length, 7);
    } finally {
      await all.close();
    }
  });
});

Deno.test("mcp endpoint: /mcp/{server} serves one server's tools under their own names", async () => {
  await withStack(false, async ({ url, other }) => {
    const client = await connect(`${url}/mcp/other`);
    try {
      assert.deepEqual((await client.listTools()).tools.map((t: { name: string }) => t.name), [
        "echo",
        "add",
      ]);
      const r = await client.callTool({ name: "echo", arguments: { text: "hi" } });
      assert.equal(text(r), "hi");
      assert.deepEqual(other.calls, [{ name: "echo", args: { text: "hi" } }]);
      const hidden = await client.callTool({ name: "weather", arguments: { city: "x" } });
      assert.equal(hidden.isError, true);
    } finally {
      await client.close();
    }
    const none = await fetch(`${url}/mcp/nope`, { method: "POST", body: "{}" });
    assert.equal(none.status, 404);
    await none.body?.cancel();
  });
});
