import assert from "node:assert/strict";
import { buildConfig } from "../src/config.ts";
import type { GatewayEvent } from "../src/events/mod.ts";
import { silentLogger } from "../src/lib/logger.ts";
import { createBus, type RunningGateway, startGateway, startupLines } from "../src/server.ts";
import { startTestGateway } from "./_support/gateway.ts";

const enc = new TextEncoder();
const hello = [{ role: "user", content: "hello" }];

Deno.test("start-up lines show the URL, each provider with its key env names, routes and the bus", async () => {
  const config = buildConfig(
    {
      port: 0,
      providers: {
        openai: {
          type: "openai",
          keys: [{ value: "env:OPENAI_API_KEY" }, { value: "env:OPENAI_KEY_2", id: "spare" }],
        },
        local: { type: "openai", baseUrl: "http://127.0.0.1:8000/v1" },
        claude: { type: "anthropic", keys: [{ value: "env:ANTHROPIC_API_KEY" }] },
      },
      routes: { fast: ["local/llama", "openai/gpt-4o-mini"] },
    },
    (n) =>
      ({
        OPENAI_API_KEY: "sk-secret-one",
        OPENAI_KEY_2: "sk-secret-two",
        ANTHROPIC_API_KEY: "sk-ant-3",
      })[n],
    "gateway.json",
  );
  const running = startGateway(config, { logger: silentLogger, hostname: "127.0.0.1" });
  try {
    const lines = startupLines(config, running);
    const text = lines.join("\n");
    assert.match(lines[0], new RegExp(`listening on ${running.url}$`));
    assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(text.includes(`POST ${running.url}/v1/chat/completions`));
    assert.ok(text.includes("config: gateway.json"));
    assert.ok(
      lines.includes(
        "  provider openai: openai https://api.openai.com/v1  keys: openai-0 (env OPENAI_API_KEY), spare (env OPENAI_KEY_2)",
      ),
      text,
    );
    assert.ok(
      lines.includes("  provider local: openai http://127.0.0.1:8000/v1  keys: no key"),
      text,
    );
    assert.ok(
      lines.includes(
        "  provider claude: anthropic https://api.anthropic.com/v1  keys: claude-0 (env ANTHROPIC_API_KEY)",
      ),
      text,
    );
    assert.ok(lines.includes("  route fast → local/llama → openai/gpt-4o-mini"), text);
    assert.ok(
      lines.includes(
        "  failover: headers 30s, first token 10s, idle 10s, request 180s; breakers per model and provider-wide; stream continuation on",
      ),
      text,
    );
    assert.equal(lines.at(-1), "  events: in-process event bus (NATS_URL not set)");
    assert.doesNotMatch(text, /sk-secret|sk-ant-3/, "secrets never reach the terminal");
    assert.doesNotMatch(text, /providers: none yet/);
  } finally {
    await running.shutdown();
  }
});

Deno.test("with no providers, the start-up lines say how to add one", async () => {
  const config = buildConfig({ port: 0 }, () => undefined, "environment (no GATEWAY_CONFIG file)");
  const running = startGateway(config, { logger: silentLogger, hostname: "127.0.0.1" });
  try {
    const text = startupLines(config, running).join("\n");
    assert.match(
      text,
      /providers: none yet\. Set OPENAI_API_KEY and\/or ANTHROPIC_API_KEY, or point GATEWAY_CONFIG at a gateway\.json\./,
    );
    assert.doesNotMatch(text, / {2}provider /);
  } finally {
    await running.shutdown();
  }
});

Deno.test("createBus is the in-process bus without NATS, and NATS when a URL is set", async () => {
  const memory = createBus(buildConfig({}, () => undefined, "t"), silentLogger);
  assert.equal(memory.kind, "memory");
  assert.match(memory.describe, /in-process event bus/);
  await memory.close();
  const nats = createBus(
    buildConfig({}, (n) => (n === "NATS_URL" ? "ws://127.0.0.1:1" : undefined), "t"),
    silentLogger,
  );
  try {
    assert.equal(nats.kind, "nats");
    assert.match(nats.describe, /ws:\/\/127\.0\.0\.1:1/);
  } finally {
    await nats.close();
  }
});

/** An OpenAI-format upstream that sends the first content, then waits for `release()`. */
function heldUpstream() {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    enc.encode(`data: ${
      JSON.stringify({
        id: "chatcmpl-held",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta, finish_reason: finish }],
      })
    }\n\n`);
  const released = Promise.withResolvers<void>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (step++ === 0) {
          c.enqueue(chunk({ role: "assistant", content: "" }));
          c.enqueue(chunk({ content: "first " }));
          return;
        }
        await released.promise;
        c.enqueue(chunk({ content: "last" }));
        c.enqueue(chunk({}, "stop"));
        c.enqueue(enc.encode("data: [DONE]\n\n"));
        c.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    release: () => released.resolve(),
    async close() {
      released.resolve();
      await server.shutdown();
    },
  };
}

function heldGateway(upstreamUrl: string): RunningGateway {
  return startTestGateway({
    providers: {
      held: {
        type: "openai",
        baseUrl: upstreamUrl,
        timeouts: { firstTokenMs: 2_000, totalMs: 60_000 },
      },
    },
  });
}

/** Starts a stream through the gateway and reads until its first content arrived. */
async function startStream(gw: RunningGateway) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    body: JSON.stringify({ model: "held/m", messages: hello, stream: true }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("first ")) {
    const r = await reader.read();
    if (r.done) break;
    text += r.value;
  }
  return {
    /** Everything the client received, to the end of the stream (or the connection). */
    async rest() {
      try {
        while (true) {
          const r = await reader.read();
          if (r.done) break;
          text += r.value;
        }
      } catch (e) {
        text += `\n<connection error: ${(e as Error).name}>`;
      }
      return text;
    },
  };
}

Deno.test("shutdown() lets an in-flight stream finish, refusing new work meanwhile, then closes", async () => {
  const upstream = heldUpstream();
  const gw = heldGateway(upstream.url);
  try {
    const stream = await startStream(gw);
    let stopped = false;
    const stopping = gw.shutdown(10_000).then(() => void (stopped = true));

    await new Promise((r) => setTimeout(r, 100));
    assert.equal(stopped, false, "shutdown did not wait for the stream");
    // Draining: readiness fails and new requests go elsewhere.
    const ready = await fetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).reason, "draining");
    const refused = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "held/m", messages: hello }),
    });
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).error.code, "draining");

    upstream.release();
    const text = await stream.rest();
    assert.ok(text.includes("last"), text);
    assert.ok(text.trimEnd().endsWith("data: [DONE]"), "the stream finished normally");
    await stopping;
    assert.equal(gw.gateway.inFlight, 0);
    await assert.rejects(fetch(`${gw.url}/healthz`), TypeError, "the server is closed");
  } finally {
    await gw.shutdown();
    await upstream.close();
  }
});

Deno.test("shutdown() is bounded: a stream that outlives the grace period is ended", async () => {
  const upstream = heldUpstream();
  const gw = heldGateway(upstream.url);
  try {
    const events: GatewayEvent[] = [];
    gw.bus.subscribe((e) => events.push(e));
    const stream = await startStream(gw);
    const t0 = performance.now();
    const stopping = gw.shutdown(200);
    const text = await stream.rest();
    await stopping;
    const took = performance.now() - t0;
    assert.ok(took < 3_000, `shutdown took ${took} ms with a 200 ms grace period`);
    assert.doesNotMatch(text, /\[DONE\]/, "a cut stream must not look complete");
    assert.match(
      text,
      /event: error\ndata: .*The gateway shut down before the answer was complete/,
    );
    const kinds = events.map((e) => e.type);
    assert.ok(kinds.includes("attempt.aborted"), kinds.join(" "));
    assert.ok(!kinds.includes("attempt.failed"), "the provider is not blamed for our shutdown");
    await assert.rejects(fetch(`${gw.url}/healthz`), TypeError);
  } finally {
    upstream.release();
    await gw.shutdown();
    await upstream.close();
  }
});

Deno.test("shutdown() is idempotent and returns the same promise", async () => {
  const gw = startTestGateway({});
  const a = gw.shutdown();
  const b = gw.shutdown();
  assert.equal(a, b);
  await a;
  await assert.rejects(fetch(`${gw.url}/healthz`), TypeError);
});

Deno.test("start-up lines show route groups, strategies, stickiness and the plugins in order", async () => {
  const config = buildConfig(
    {
      port: 0,
      providers: {
        groq: { type: "groq" },
        cerebras: { type: "cerebras" },
        openai: { type: "openai" },
      },
      routes: {
        fast: [[{ target: "groq/llama", weight: 2 }, "cerebras/llama"], "openai/gpt-4o-mini"],
        chat: {
          chain: [{ group: ["groq/llama", "cerebras/llama"], strategy: "latency" }],
          sticky: { header: "x-session-id" },
        },
      },
      plugins: [{ type: "guardrail", maxTokens: 512 }, { type: "cache", maxEntries: 10 }],
    },
    () => undefined,
    "gateway.json",
  );
  const running = startGateway(config, { logger: silentLogger, hostname: "127.0.0.1" });
  try {
    const lines = startupLines(config, running);
    const text = lines.join("\n");
    assert.ok(
      lines.includes("  route fast → {groq/llama ×2 | cerebras/llama} → openai/gpt-4o-mini"),
      text,
    );
    assert.ok(
      lines.includes(
        "  route chat → fastest of {groq/llama | cerebras/llama}  (sticky by x-session-id)",
      ),
      text,
    );
    const plugins = lines.filter((l) => l.startsWith("  plugin "));
    assert.deepEqual(plugins, [
      "  plugin guardrail: 0 deny rule(s), max tokens 512 (clamp)",
      "  plugin cache: response cache, in-memory LRU (10 entries, TTL 300000 ms)",
    ]);
  } finally {
    await running.shutdown(100);
  }
});

Deno.test("HOST chooses the listen address and the start-up lines show it and who may read what", async () => {
  const local = buildConfig({ port: 0 }, (n) => ({ HOST: "127.0.0.1" })[n], "t");
  const a = startGateway(local, { logger: silentLogger });
  try {
    assert.equal(a.hostname, "127.0.0.1");
    const lines = startupLines(local, a);
    assert.match(lines[0], new RegExp(`listening on ${a.url}$`));
    assert.ok(
      lines.includes(
        "  operator endpoints: /v1/gateway/*, /dashboard open to anyone (set GATEWAY_ADMIN_KEY to protect them); /metrics open",
      ),
      lines.join("\n"),
    );
    const res = await fetch(`${a.url}/healthz`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await a.shutdown();
  }
  const env: Record<string, string> = { GATEWAY_ADMIN_KEY: "adm", METRICS_TOKEN: "m" };
  const all = buildConfig({ port: 0 }, (n) => env[n], "t");
  assert.equal(all.host, "0.0.0.0");
  const b = startGateway(all, { logger: silentLogger });
  try {
    const lines = startupLines(all, b);
    assert.match(
      lines[0],
      /listening on http:\/\/127\.0\.0\.1:\d+ {2}\(HOST=0\.0\.0\.0: every interface\)$/,
    );
    assert.ok(
      lines.includes(
        "  operator endpoints: /v1/gateway/*, /dashboard, /admin/* behind GATEWAY_ADMIN_KEY; /metrics behind METRICS_TOKEN",
      ),
      lines.join("\n"),
    );
  } finally {
    await b.shutdown();
  }
});
