// MCP tool calls on a real NATS: each call's mcp.tool_* events reach a live subscriber on
// gateway.mcp.<event>.<server> and are stored in the JetStream stream, with the Nats-Msg-Id of
// their CloudEvent id; a dead server's failures and its breaker opening land there too.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CloudEvent } from "../../src/events/envelope.ts";
import { startMcpTestServer } from "../_support/mcp_server.ts";
import { readStream } from "../_support/nats_server.ts";
import { withStack } from "./_stack.ts";

const data = (e: CloudEvent) => e.data as Record<string, unknown>;

Deno.test("mcp: tool calls through /mcp and /v1/mcp/tool/execute land in JetStream as mcp.tool_* events", async () => {
  const docs = startMcpTestServer();
  const dead = startMcpTestServer();
  try {
    await withStack((mockUrl) => ({
      providers: { oai: { type: "openai", baseUrl: `${mockUrl}/oai/v1` } },
      mcp: {
        servers: {
          docs: { url: docs.url, pingMs: 0 },
          dead: { url: dead.url, pingMs: 0, breaker: { minimumRequests: 2, openMs: 60_000 } },
        },
      },
    }), async ({ gw, nats, sub }) => {
      const client = new Client({ name: "it", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`)));
      try {
        const r = await client.callTool({ name: "docs__echo", arguments: { text: "hi" } });
        assert.equal((r.content as { text: string }[])[0].text, "hi");
      } finally {
        await client.close();
      }
      const res = await fetch(`${gw.url}/v1/mcp/tool/execute`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "mcp-it-1" },
        body: JSON.stringify({ name: "docs__add", arguments: { a: 1, b: 2 } }),
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      dead.down();
      for (let i = 0; i < 2; i++) {
        const failed = await fetch(`${gw.url}/v1/mcp/tool/execute`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "dead__echo", arguments: { text: "x" } }),
        });
        assert.equal(failed.status, 503);
        await failed.body?.cancel();
      }

      const want = (events: CloudEvent[]) =>
        events.filter((e) => e.type === "gateway.mcp.tool_succeeded").length === 2 &&
        events.filter((e) => e.type === "gateway.mcp.tool_failed").length === 2 &&
        events.some((e) => e.type === "gateway.mcp.breaker_opened");
      await sub.waitFor(want);
      const live = sub.messages.filter((m) => m.event.type.startsWith("gateway.mcp.tool_"));
      assert.deepEqual(
        live.map((m) => [m.subject, data(m.event).tool]),
        [
          ["gateway.mcp.tool_called.docs", "echo"],
          ["gateway.mcp.tool_succeeded.docs", "echo"],
          ["gateway.mcp.tool_called.docs", "add"],
          ["gateway.mcp.tool_succeeded.docs", "add"],
          ["gateway.mcp.tool_called.dead", "echo"],
          ["gateway.mcp.tool_failed.dead", "echo"],
          ["gateway.mcp.tool_called.dead", "echo"],
          ["gateway.mcp.tool_failed.dead", "echo"],
        ],
      );
      for (const m of live) assert.equal(m.msgId, m.event.id, "Nats-Msg-Id is the event id");
      assert.equal(data(live[2].event).requestId, "mcp-it-1");
      assert.equal(data(live[5].event).errorType, "unreachable");

      // The same events are stored in the stream.
      let stored: CloudEvent[] = [];
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        stored = await readStream(nats.wsUrl);
        if (want(stored)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const storedIds = new Set(stored.map((e) => e.id));
      for (const m of live) assert.ok(storedIds.has(m.event.id), `${m.subject} is in JetStream`);
      const opened = stored.find((e) => e.type === "gateway.mcp.breaker_opened");
      assert.equal(opened?.subject, "gateway.mcp.breaker_opened.dead");
    });
  } finally {
    await docs.close();
    await dead.close();
  }
});
