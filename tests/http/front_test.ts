// The door in front of every model route (src/http/front.ts): draining and overload (503) and
// the virtual key (401) decided before the body is read, and the in-flight count, up while a
// call runs and back to 0 once its JSON answer is given or its stream ends or is cancelled.
import assert from "node:assert/strict";
import { type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import type { ConfigFile } from "../../src/config.ts";
import type { RunningGateway } from "../../src/server.ts";
import { eventually, mockProvider, startTestGateway } from "../_support/gateway.ts";

const hello = [{ role: "user", content: "hello" }];
/** Not JSON: a door that read the body would answer 400 invalid_json instead of its refusal. */
const UNREADABLE = "{this is not json";

interface Ctx {
  mock: MockUpstream;
  gw: RunningGateway;
  post(body: unknown, headers?: Record<string, string>, path?: string): Promise<Response>;
}

async function withGateway(
  config: (mockUrl: string) => ConfigFile,
  fn: (c: Ctx) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const mock = await startMockUpstream();
  let gw: RunningGateway | undefined;
  try {
    gw = startTestGateway(config(mock.url), env);
    const base = gw.url;
    await fn({
      mock,
      gw,
      post: (body, headers = {}, path = "/v1/chat/completions") =>
        fetch(`${base}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
    });
  } finally {
    await gw?.shutdown(2_000);
    await mock.close();
  }
}

const oneProvider = (url: string): ConfigFile => ({
  retries: { max: 0 },
  providers: { p: mockProvider(url, "p") },
});

Deno.test("draining: 503 draining with Retry-After and the client's request id, body never read", async () => {
  await withGateway(oneProvider, async ({ gw, post, mock }) => {
    gw.gateway.draining = true;
    const res = await post(UNREADABLE, { "x-request-id": "drain-1" });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "1");
    assert.equal(res.headers.get("x-request-id"), "drain-1");
    const body = await res.json();
    assert.equal(body.error.code, "draining");
    assert.equal(body.error.type, "unavailable");
    assert.match(body.error.message, /shutting down/);
    // Every model route has the door, each answering in its own format.
    const anthropic = await post(UNREADABLE, {}, "/anthropic/v1/messages");
    // Anthropic's word for "unavailable, back off and retry" is 529 overloaded_error.
    assert.equal(anthropic.status, 529);
    assert.equal(anthropic.headers.get("retry-after"), "1");
    assert.equal((await anthropic.json()).error.type, "overloaded_error");
    const embed = await post(UNREADABLE, {}, "/v1/embeddings");
    assert.equal(embed.status, 503);
    await embed.body?.cancel();
    assert.equal(mock.hits("p"), 0);
    assert.equal(gw.gateway.inFlight, 0, "a refusal leaves nothing in flight");
    // Routes that are not model routes are not shut by the door.
    const models = await fetch(`${gw.url}/v1/models`);
    assert.equal(models.status, 200);
    await models.body?.cancel();
  });
});

Deno.test("draining: the MCP tool routes refuse too, each in its own shape", async () => {
  await withGateway(oneProvider, async ({ gw, post }) => {
    gw.gateway.draining = true;
    const rpc = await post(
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
      { accept: "application/json, text/event-stream", "x-request-id": "mcp-1" },
      "/mcp",
    );
    assert.equal(rpc.status, 503);
    assert.equal(rpc.headers.get("retry-after"), "1");
    assert.equal(rpc.headers.get("x-request-id"), "mcp-1");
    const body = await rpc.json();
    assert.equal(body.jsonrpc, "2.0");
    assert.match(body.error.message, /shutting down/);
    const one = await post({ jsonrpc: "2.0", id: 1, method: "tools/list" }, {}, "/mcp/docs");
    assert.equal(one.status, 503);
    await one.body?.cancel();
    const exec = await post({ name: "docs__search", arguments: {} }, {}, "/v1/mcp/tool/execute");
    assert.equal(exec.status, 503);
    assert.equal((await exec.json()).error.code, "draining");
    assert.equal(gw.gateway.inFlight, 0);
  });
});

Deno.test("past limits.maxInFlight: 503 gateway_overloaded before the body is read; capacity comes back", async () => {
  await withGateway(
    (url) => ({ ...oneProvider(url), limits: { maxInFlight: 2 } }),
    async ({ gw, post, mock }) => {
      mock.setFaults("p", [{ kind: "latency", ms: 400, times: 2 }]);
      const slow = [
        post({ model: "p/m", messages: hello }),
        post({ model: "p/m", messages: hello }),
      ];
      await eventually(() => gw.gateway.inFlight === 2, 2_000, "two slow calls in flight");
      for (let i = 0; i < 3; i++) {
        const shed = await post(UNREADABLE);
        assert.equal(shed.status, 503);
        assert.equal(shed.headers.get("retry-after"), "1");
        assert.ok(shed.headers.get("x-request-id"));
        const body = await shed.json();
        assert.equal(body.error.code, "gateway_overloaded");
        assert.equal(body.error.type, "unavailable");
        assert.match(body.error.message, /limit of 2 requests in flight/);
      }
      assert.equal(gw.gateway.inFlight, 2, "shed calls do not add to the count");
      for (const r of await Promise.all(slow)) {
        assert.equal(r.status, 200);
        await r.body?.cancel();
      }
      assert.equal(gw.gateway.inFlight, 0);
      const after = await post(UNREADABLE);
      assert.equal(after.status, 400, "below the limit the body is read again");
      assert.equal((await after.json()).error.code, "invalid_json");
      assert.equal(mock.hits("p"), 2);
    },
  );
});

Deno.test("limits.maxInFlight 0 means no limit", async () => {
  await withGateway(
    (url) => ({ ...oneProvider(url), limits: { maxInFlight: 0 } }),
    async ({ gw, post, mock }) => {
      mock.setFaults("p", [{ kind: "latency", ms: 300, times: 3 }]);
      const calls = [1, 2, 3].map(() => post({ model: "p/m", messages: hello }));
      await eventually(() => gw.gateway.inFlight === 3, 2_000, "three calls in flight");
      for (const r of await Promise.all(calls)) {
        assert.equal(r.status, 200);
        await r.body?.cancel();
      }
    },
  );
});

const keyed = (url: string): ConfigFile => ({
  ...oneProvider(url),
  virtualKeys: [{ name: "team", key: "env:TEAM_KEY", providers: [{ provider: "p" }] }],
});
const SECRET = "vk-front-test-secret-0123456789";

Deno.test("with virtual keys, a missing or unknown key is a 401 before the body is read", async () => {
  await withGateway(keyed, async ({ gw, post, mock }) => {
    const cases: Record<string, string>[] = [
      {},
      { authorization: "Bearer vk-not-a-key" },
      { "x-api-key": "vk-nope" },
    ];
    for (const headers of cases) {
      const res = await post(UNREADABLE, { ...headers, "x-request-id": "k-1" });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.headers.get("x-request-id"), "k-1");
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
      const body = await res.json();
      assert.equal(typeof body.error.code, "string");
      assert.notEqual(body.error.code, "invalid_json");
    }
    assert.equal(mock.hits("p"), 0);
    assert.equal(gw.gateway.inFlight, 0);
    // The right key passes the door: its body is read (and then served).
    const bad = await post(UNREADABLE, { authorization: `Bearer ${SECRET}` });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_json");
    const ok = await post({ model: "p/m", messages: hello }, { authorization: `Bearer ${SECRET}` });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    assert.equal(mock.hits("p"), 1);
  }, { TEAM_KEY: SECRET });
});

Deno.test("draining is decided before the key: a keyless call while draining gets 503, not 401", async () => {
  await withGateway(keyed, async ({ gw, post }) => {
    gw.gateway.draining = true;
    const res = await post(UNREADABLE);
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, "draining");
  }, { TEAM_KEY: SECRET });
});

Deno.test("in flight: up while a JSON call runs, 0 as soon as its answer is back", async () => {
  await withGateway(oneProvider, async ({ gw, post, mock }) => {
    assert.equal(gw.gateway.inFlight, 0);
    mock.setFaults("p", [{ kind: "latency", ms: 300, times: 1 }]);
    const pending = post({ model: "p/m", messages: hello });
    await eventually(() => gw.gateway.inFlight === 1, 2_000, "the call in flight");
    const res = await pending;
    assert.equal(res.status, 200);
    await res.json();
    assert.equal(gw.gateway.inFlight, 0);
    // An error answer from the upstream is finished too.
    mock.setFaults("p", [{ kind: "status", status: 500, times: 1 }]);
    const failed = await post({ model: "p/m", messages: hello });
    assert.ok(failed.status >= 500);
    await failed.body?.cancel();
    assert.equal(gw.gateway.inFlight, 0);
  });
});

Deno.test("in flight: a stream counts until its body ends, not when its headers are sent", async () => {
  await withGateway(oneProvider, async ({ gw, post, mock }) => {
    mock.setFaults("p", [{ kind: "latency", ms: 0, chunkMs: 150, times: 1 }]);
    const res = await post({ model: "p/m", messages: hello, stream: true });
    assert.equal(res.status, 200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    assert.ok(!first.done);
    assert.equal(gw.gateway.inFlight, 1, "the stream is still running");
    let text = first.value;
    while (true) {
      const n = await reader.read();
      if (n.done) break;
      text += n.value;
    }
    assert.match(text, /data: \[DONE\]/);
    await eventually(() => gw.gateway.inFlight === 0, 2_000, "in-flight back to 0 after the end");
  });
});

Deno.test("in flight: a stream the client cancels goes back to 0", async () => {
  await withGateway(oneProvider, async ({ gw, post, mock }) => {
    mock.setFaults("p", [{ kind: "stall", afterChunks: 1 }]);
    const res = await post({ model: "p/m", messages: hello, stream: true });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    assert.ok(!(await reader.read()).done);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(gw.gateway.inFlight, 1, "a stalled stream is still in flight");
    await reader.cancel();
    await eventually(() => gw.gateway.inFlight === 0, 3_000, "in-flight back to 0 after cancel");
  });
});
