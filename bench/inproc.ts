// The gateway's own CPU per request, without sockets: both the gateway's Hono app and a bare
// forwarding app (what bench/forwarder.ts does) answer in-process calls, and their upstream is a
// ProviderHttp that hands back a prebuilt OpenAI answer (JSON ~1 KB, or 10 SSE chunks). What is
// left is exactly the work each app does per call, so the difference is the gateway's own cost,
// measured with far less noise than over loopback. Run it with `--cpu-prof` to profile that work.
// `deno run -A bench/inproc.ts [--stream] [--requests 20000] [--concurrency 32] [--rounds 3]
//   [--only gateway|forwarder] [--upstream-ms 5]` (the delay keeps calls in flight, as over a
//   network, so what they hold lives through collections; figures are process CPU time per call)
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { Hono } from "hono";
import { createApp } from "../src/app.ts";
import { buildConfig } from "../src/config.ts";
import { createMemoryBus } from "../src/events/mod.ts";
import { createGateway } from "../src/gateway.ts";
import { systemClock } from "../src/lib/clock.ts";
import { createIdGen } from "../src/lib/ids.ts";
import { silentLogger } from "../src/lib/logger.ts";
import type { ProviderHttp } from "../src/ports.ts";
import { chatObjects, chatReply } from "./mock/formats/openai.ts";
import { completionText } from "./mock/mod.ts";

const { values: opt } = parseArgs({
  args: Deno.args,
  options: {
    stream: { type: "boolean", default: false },
    requests: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "32" },
    rounds: { type: "string", default: "3" },
    only: { type: "string" },
    "upstream-ms": { type: "string", default: "0" },
  },
});
const stream = opt.stream;
const total = Number(opt.requests);
const concurrency = Number(opt.concurrency);
// A delay keeps calls in flight (as over a network), so their objects live through collections.
const upstreamMs = Number(opt["upstream-ms"]);

// The mock upstream's own answer bytes, built once.
const text = completionText("t1", 1024);
const pieces = Array.from({ length: 10 }, (_, i) => text.slice(i * 103, (i + 1) * 103));
const call = {
  target: "t1",
  seq: 1,
  route: { operation: "chat" as const },
  body: {},
  model: "gpt-4o-mini",
  stream,
  url: new URL("http://mock/t1/v1/chat/completions"),
  req: new Request("http://mock/"),
};
const reply = chatReply(
  call,
  chatObjects(call, { text, pieces, input: 3, output: 256, complete: true }),
  true,
  {},
);
const encoder = new TextEncoder();
const frames = reply.chunks.map((c) => typeof c === "string" ? encoder.encode(c) : c);

/** An upstream that reads the request body (as a server would) and answers with the frames. */
const upstream: ProviderHttp = {
  async fetch(_url, init) {
    // What a server reads of the request: its body.
    if (typeof init.body !== "string") throw new TypeError("expected a JSON text body");
    if (upstreamMs > 0) await new Promise((r) => setTimeout(r, upstreamMs));
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (i < frames.length) ctl.enqueue(frames[i++]);
        else ctl.close();
      },
    });
    return new Response(body, { headers: reply.headers });
  },
};

function forwarderApp(): (req: Request) => Response | Promise<Response> {
  const app = new Hono();
  app.post("/v1/chat/completions", async (c) => {
    const res = await upstream.fetch("http://mock/t1/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: await c.req.text(),
      signal: c.req.raw.signal,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  return app.fetch;
}

function gatewayApp(): (req: Request) => Response | Promise<Response> {
  const gw = createGateway({
    config: buildConfig(
      {
        providers: { mock: { type: "openai", baseUrl: "http://mock/t1/v1" } },
        retries: { max: 0 },
      },
      () => undefined,
      "bench",
    ),
    bus: createMemoryBus(),
    clock: systemClock,
    ids: createIdGen(),
    random: Math.random,
    http: upstream,
    logger: silentLogger,
  });
  return createApp(gw).fetch;
}

const body = (model: string) =>
  JSON.stringify({
    model,
    messages: [{ role: "user", content: "Say hello" }],
    ...(stream ? { stream: true } : {}),
  });

async function drive(
  fetch: (req: Request) => Response | Promise<Response>,
  model: string,
  n: number,
): Promise<number> {
  const payload = body(model);
  let sent = 0;
  let failed = 0;
  const worker = async () => {
    while (sent < n) {
      sent++;
      const res = await fetch(
        new Request("http://gw/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer x" },
          body: payload,
        }),
      );
      await res.arrayBuffer();
      if (res.status !== 200) failed++;
    }
  };
  // CPU time, not wall time: with an upstream delay the wall clock would measure the delay.
  const c0 = cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const c = cpuUsage(c0);
  const us = (c.user + c.system) / n;
  if (failed) throw new Error(`${failed} of ${n} calls failed`);
  return us;
}

const subjects = [
  { name: "forwarder", fetch: forwarderApp(), model: "gpt-4o-mini" },
  { name: "gateway", fetch: gatewayApp(), model: "mock/gpt-4o-mini" },
].filter((s) => !opt.only || s.name === opt.only);

// Warm up (JIT), then interleaved rounds; the median round is reported.
for (const s of subjects) await drive(s.fetch, s.model, Math.min(2000, total));
const results = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
for (let r = 0; r < Number(opt.rounds); r++) {
  for (const s of subjects) results.get(s.name)!.push(await drive(s.fetch, s.model, total));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `in-process, ${
    stream ? "SSE 10 chunks" : "JSON ~1 KB"
  }, ${total} calls × ${opt.rounds}, concurrency ${concurrency}`,
);
for (const [name, xs] of results) {
  console.log(
    `  ${name.padEnd(10)} ${median(xs).toFixed(1).padStart(7)} µs/call  (rounds: ${
      xs.map((x) => x.toFixed(1)).join(", ")
    })`,
  );
}
Deno.exit(0);
