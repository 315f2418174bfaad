// Graceful shutdown of the real process, started with the Dockerfile's CMD permissions: on SIGTERM a
// stream already flowing and a JSON request already waiting on its upstream both finish, new
// requests are refused with a 503 `draining` (or the port is closed), the process exits 0, and
// the in-flight requests' events are in JetStream.
import assert from "node:assert/strict";
import { completionText, startMockUpstream } from "../bench/mock/mod.ts";
import { containerPermissions, spawnGateway } from "../bench/faults/procs.ts";
import { readStream, startNatsServer } from "./_support/nats_server.ts";

const hello = [{ role: "user", content: "hello" }];

function post(url: string, body: unknown, id: string) {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": id },
    body: JSON.stringify(body),
  });
}

/** The text of an OpenAI SSE stream's content deltas, and whether it ended with [DONE]. */
function readSse(text: string) {
  let content = "";
  let done = false;
  for (const block of text.split("\n\n")) {
    const data = block.split("\n").find((l) => l.startsWith("data: "))?.slice(6);
    if (!data) continue;
    if (data === "[DONE]") done = true;
    else content += JSON.parse(data).choices?.[0]?.delta?.content ?? "";
  }
  return { content, done, error: /^event: error/m.test(text) };
}

Deno.test("SIGTERM: in-flight stream and request finish, new ones are refused, exit 0, events flushed", async () => {
  const nats = await startNatsServer();
  const mock = await startMockUpstream({ chunks: 8 });
  const dir = await Deno.makeTempDir({ prefix: "gateway-shutdown-" });
  const instance = `shutdown-${crypto.randomUUID().slice(0, 8)}`;
  let gw: Awaited<ReturnType<typeof spawnGateway>> | undefined;
  try {
    // "slow": a stream of 8 pieces 150 ms apart; "wait": a JSON answer after 800 ms.
    mock.setFaults("slow", [{ kind: "latency", ms: 0, chunkMs: 150 }]);
    mock.setFaults("wait", [{ kind: "latency", ms: 800 }]);
    const config = `${dir}/gateway.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        providers: {
          slow: { type: "openai", baseUrl: `${mock.url}/slow/v1` },
          wait: { type: "openai", baseUrl: `${mock.url}/wait/v1` },
        },
        retries: { max: 0 },
      }),
    );
    gw = await spawnGateway(
      { GATEWAY_CONFIG: config, NATS_URL: nats.wsUrl, GATEWAY_INSTANCE: instance },
      await containerPermissions(dir),
    );
    const url = gw.url;
    for (let i = 0; i < 200; i++) {
      const ready = await fetch(`${url}/readyz`);
      const body = await ready.json();
      if (ready.status === 200 && body.events?.connected) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    // A stream is flowing (its first piece has arrived) and a JSON request is waiting upstream.
    const streamRes = await post(
      url,
      { model: "slow/m", messages: hello, stream: true },
      "in-flight-stream",
    );
    assert.equal(streamRes.status, 200);
    const reader = streamRes.body!.pipeThrough(new TextDecoderStream()).getReader();
    let streamed = "";
    while (!streamed.includes('"content":"')) {
      const r = await reader.read();
      assert.ok(!r.done, "the stream ended before its first piece");
      streamed += r.value;
    }
    const waiting = post(url, { model: "wait/m", messages: hello }, "in-flight-json");
    await new Promise((r) => setTimeout(r, 100)); // the JSON request is in the gateway

    const exited = gw.stop("SIGTERM", 20_000);
    await new Promise((r) => setTimeout(r, 150));

    // New work is refused while the old finishes.
    try {
      const refused = await post(url, { model: "slow/m", messages: hello }, "after-sigterm");
      const body = await refused.json();
      assert.equal(refused.status, 503, JSON.stringify(body));
      assert.equal(body.error.code, "draining");
      assert.ok(Number(refused.headers.get("retry-after")) >= 1, "Retry-After on the 503");
    } catch (e) {
      // Or the port is already closed: also a refusal.
      if (e instanceof assert.AssertionError) throw e;
      assert.match(String(e), /connect|refused|reset/i);
    }

    // The in-flight stream completes whole, with [DONE].
    while (true) {
      const r = await reader.read();
      if (r.done) break;
      streamed += r.value;
    }
    const sse = readSse(streamed);
    assert.equal(sse.error, false, streamed);
    assert.equal(sse.done, true, `no [DONE]:\n${streamed}`);
    assert.equal(sse.content, completionText("slow"));

    const json = await waiting;
    assert.equal(json.status, 200);
    assert.equal((await json.json()).choices[0].message.content, completionText("wait"));

    const status = await exited;
    assert.equal(status.code, 0, `exit ${status.code}\n${gw.stdout()}\n${gw.stderr()}`);
    assert.match(gw.stdout(), /SIGTERM received, draining/);
    assert.match(gw.stdout(), /gateway: stopped/);

    // The events of both in-flight requests were flushed to JetStream before the exit.
    // Each worker publishes under the instance id plus -w<index> (one worker per core).
    const events = (await readStream(nats.wsUrl)).filter((e) =>
      e.source === `/gateway/${instance}` || e.source.startsWith(`/gateway/${instance}-w`)
    );
    const terminal = (id: string) =>
      events.filter((e) =>
        (e.data as { requestId?: string }).requestId === id && e.type.startsWith("gateway.request.")
      ).map((e) => e.type);
    assert.deepEqual(terminal("in-flight-stream"), [
      "gateway.request.started",
      "gateway.request.completed",
    ]);
    assert.deepEqual(terminal("in-flight-json"), [
      "gateway.request.started",
      "gateway.request.completed",
    ]);
    assert.deepEqual(terminal("after-sigterm"), [], "a refused request starts nothing");
  } finally {
    if (gw && !gw.exited()) await gw.stop("SIGKILL");
    await mock.close();
    await nats.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
