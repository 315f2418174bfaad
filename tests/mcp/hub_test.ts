import assert from "node:assert/strict";
import { buildConfig, type ConfigFile } from "../../src/config.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { createTestGateway, eventually } from "../_support/gateway.ts";
import { startMcpTestServer } from "../_support/mcp_server.ts";

async function withHub(
  mcp: ConfigFile["mcp"],
  fn: (gw: ReturnType<typeof createTestGateway>, events: GatewayEvent[]) => Promise<void>,
) {
  const gw = createTestGateway({ mcp });
  const events: GatewayEvent[] = [];
  gw.deps.bus.subscribe((e) => events.push(e));
  try {
    await gw.mcp.start();
    await fn(gw, events);
  } finally {
    gw.stop();
    await gw.mcp.stop();
  }
}

Deno.test("mcp hub: tools/list follows every page; names are <server>__<tool>; allow/deny", async () => {
  const a = startMcpTestServer({ extra: 5, pageSize: 3 });
  const b = startMcpTestServer({ stateful: true });
  try {
    await withHub({
      servers: {
        alpha: { url: a.url, pingMs: 0 },
        beta: { url: b.url, deny: ["add", "broken"], allow: ["echo", "add", "slow"], pingMs: 0 },
      },
    }, async (gw, events) => {
      const names = gw.mcp.tools().map((t) => t.name).sort();
      assert.deepEqual(names, [
        "alpha__add",
        "alpha__broken",
        "alpha__echo",
        "alpha__slow",
        "alpha__t0",
        "alpha__t1",
        "alpha__t2",
        "alpha__t3",
        "alpha__t4",
        "alpha__weather",
        "beta__echo",
        "beta__slow",
      ]);
      assert.deepEqual(a.lists, [undefined, "3", "6", "9"]);
      const listed = events.filter((e) => e.type === "mcp.tools_listed");
      assert.deepEqual(
        listed.map((e) =>
          e.type === "mcp.tools_listed" && [e.server, e.tools, e.listed, e.pages, e.reason]
        ).sort(),
        [["alpha", 10, 10, 4, "connected"], ["beta", 2, 5, 2, "connected"]],
      );
      // A denied tool is not served, even by its exact name.
      const denied = await gw.mcp.execute("beta__add", { a: 1, b: 2 });
      assert.equal(denied.ok, false);
      assert.equal(!denied.ok && denied.status, 404);
      assert.equal(b.calls.length, 0);
    });
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("mcp hub: notifications/tools/list_changed refreshes a session server's tools", async () => {
  const s = startMcpTestServer({ stateful: true });
  try {
    await withHub({ servers: { live: { url: s.url, pingMs: 0 } } }, async (gw, events) => {
      assert.equal(gw.mcp.tools().length, 5);
      await s.setExtra(2);
      await eventually(() => gw.mcp.tools().length === 7, 5_000, "the refreshed list");
      assert.ok(events.some((e) => e.type === "mcp.tools_listed" && e.reason === "list_changed"));
    });
  } finally {
    await s.close();
  }
});

Deno.test("mcp hub: execute runs the tool; 404 unknown, 400 bad arguments, 504 timeout; events", async () => {
  const s = startMcpTestServer();
  try {
    await withHub(
      { servers: { srv: { url: s.url, timeoutMs: 300, pingMs: 0 } } },
      async (gw, events) => {
        const ok = await gw.mcp.execute("srv__echo", { text: "hello" }, { requestId: "r1" });
        assert.ok(ok.ok);
        assert.deepEqual(ok.result.content, [{ type: "text", text: "hello" }]);
        const fromString = await gw.mcp.execute("srv__add", '{"a":2,"b":3}');
        assert.ok(fromString.ok);
        assert.deepEqual(fromString.result.content, [{ type: "text", text: "5" }]);

        const unknown = await gw.mcp.execute("srv__nope", {});
        assert.deepEqual(!unknown.ok && [unknown.status, unknown.code, unknown.param], [
          404,
          "tool_not_found",
          "name",
        ]);
        const bad = await gw.mcp.execute("srv__echo", { text: 5 });
        assert.deepEqual(!bad.ok && [bad.status, bad.param], [400, "arguments"]);
        const notObject = await gw.mcp.execute("srv__echo", [1]);
        assert.deepEqual(!notObject.ok && [notObject.status, notObject.param], [400, "arguments"]);
        assert.equal(
          s.calls.filter((c) => c.name === "echo").length,
          1,
          "bad arguments never reach the server",
        );

        const slow = await gw.mcp.execute("srv__slow", { ms: 2_000 });
        assert.deepEqual(!slow.ok && [slow.status, slow.code, slow.server], [
          504,
          "mcp_timeout",
          "srv",
        ]);

        const tool = events.filter((e) => e.type.startsWith("mcp.tool_"));
        assert.deepEqual(tool.map((e) => e.type), [
          "mcp.tool_called",
          "mcp.tool_succeeded",
          "mcp.tool_called",
          "mcp.tool_succeeded",
          "mcp.tool_called",
          "mcp.tool_failed",
        ]);
        const first = tool[1];
        assert.ok(first.type === "mcp.tool_succeeded");
        assert.deepEqual([first.server, first.tool, first.requestId, first.isError], [
          "srv",
          "echo",
          "r1",
          false,
        ]);
        const failed = tool[5];
        assert.ok(failed.type === "mcp.tool_failed");
        assert.deepEqual([failed.errorType, failed.counted], ["timeout", true]);
      },
    );
  } finally {
    await s.close();
  }
});

Deno.test("mcp hub: a dead server trips its breaker; its tools then fail at once (503) until it recovers", async () => {
  const s = startMcpTestServer();
  try {
    await withHub({
      servers: {
        flaky: {
          url: s.url,
          pingMs: 0,
          breaker: { minimumRequests: 2, failureRateThreshold: 0.5, openMs: 400, maxOpenMs: 400 },
        },
      },
    }, async (gw, events) => {
      assert.ok((await gw.mcp.execute("flaky__echo", { text: "up" })).ok);
      s.down();
      for (let i = 0; i < 2; i++) {
        const r = await gw.mcp.execute("flaky__echo", { text: "x" });
        assert.equal(!r.ok && r.status, 503);
      }
      assert.ok(events.some((e) => e.type === "mcp.breaker_opened" && e.server === "flaky"));
      const seen = s.calls.length;
      const t0 = performance.now();
      const fast = await gw.mcp.execute("flaky__echo", { text: "x" });
      assert.ok(performance.now() - t0 < 50, "a call on an open breaker fails at once");
      assert.deepEqual(!fast.ok && [fast.status, fast.code, fast.server], [
        503,
        "mcp_server_unavailable",
        "flaky",
      ]);
      assert.match(!fast.ok ? fast.message : "", /MCP server "flaky" is unavailable/);
      assert.ok(!fast.ok && fast.retryAfterMs! > 0);
      assert.equal(s.calls.length, seen);
      assert.equal(gw.mcp.snapshot()[0].breaker.state, "open");
      // Recovery: after the open time a ping is the probe that closes the breaker.
      s.up();
      await new Promise((r) => setTimeout(r, 450));
      await gw.mcp.servers()[0].ping();
      assert.equal(gw.mcp.snapshot()[0].breaker.state, "closed");
      assert.ok(events.some((e) => e.type === "mcp.breaker_half_opened"));
      assert.ok(events.some((e) => e.type === "mcp.breaker_closed"));
      assert.ok((await gw.mcp.execute("flaky__echo", { text: "back" })).ok);
    });
  } finally {
    await s.close();
  }
});

Deno.test("mcp hub: failed pings open the breaker of a server nobody calls", async () => {
  const s = startMcpTestServer();
  const url = s.url;
  await s.close(); // nothing listens there
  await withHub({
    servers: { gone: { url, pingMs: 0, breaker: { minimumRequests: 2 } } },
  }, async (gw, events) => {
    await gw.mcp.servers()[0].ping();
    assert.equal(gw.mcp.snapshot()[0].breaker.state, "open");
    assert.equal(events.filter((e) => e.type === "mcp.pinged" && !e.ok).length, 2);
  });
});

Deno.test("mcp hub: a stdio server (allowed explicitly) serves its tools", async () => {
  const script = new URL("../_support/mcp_stdio_server.ts", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  await withHub({
    allowStdio: true,
    servers: {
      local: {
        command: Deno.execPath(),
        args: ["run", "-A", "--quiet", "--config", config, script],
        pingMs: 0,
        timeoutMs: 20_000,
      },
    },
  }, async (gw) => {
    assert.deepEqual(gw.mcp.tools().map((t) => t.name), ["local__shout"]);
    const r = await gw.mcp.execute("local__shout", { text: "hi" });
    assert.ok(r.ok);
    assert.deepEqual(r.result.content, [{ type: "text", text: "HI" }]);
  });
});

Deno.test("mcp config: stdio servers need mcp.allowStdio; a server needs url or command", () => {
  assert.throws(
    () => buildConfig({ mcp: { servers: { x: { command: "node" } } } }, () => undefined, "t"),
    /mcp\.servers\.x\.command: .*mcp\.allowStdio/,
  );
  assert.throws(
    () => buildConfig({ mcp: { servers: { x: {} } } }, () => undefined, "t"),
    /mcp\.servers\.x: set exactly one of "url"/,
  );
  assert.throws(
    () =>
      buildConfig(
        {
          mcp: { servers: { x: { url: "http://h/mcp", headers: { authorization: "env:NOPE" } } } },
        },
        () => undefined,
        "t",
      ),
    /mcp\.servers\.x\.headers\.authorization: environment variable NOPE is not set/,
  );
  const c = buildConfig(
    { mcp: { servers: { x: { url: "http://h/mcp", headers: { authorization: "env:TOK" } } } } },
    (n) => n === "TOK" ? "Bearer s" : undefined,
    "t",
  );
  assert.deepEqual(c.mcp.servers.x.transport, {
    kind: "http",
    url: "http://h/mcp",
    headers: { authorization: "Bearer s" },
  });
});
