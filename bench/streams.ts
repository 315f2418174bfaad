// Memory and CPU per concurrent stream: N slow streams held open at once (default 2,000 streams
// of 10 chunks spread over 5 s) against a local mock on 127.0.0.1, through the forwarder that
// reads every chunk in JavaScript (bench/forwarder.ts --inspect) and through the gateway,
// alternating rounds. Per stream: the server's CPU time (from /proc) over the round, and its
// resident memory while every stream is open (the RSS plateau, sampled, minus the server's RSS
// before the round). The figures are ratios within one run, never timed assertions.
// `deno run -A bench/streams.ts [--streams 2000] [--seconds 5] [--chunks 10] [--rounds 2]
//   [--ramp-ms 2000]` (streams are opened evenly over the ramp, then all are open at once)
// (`--mock PORT` is the slow upstream itself, started by the benchmark in its own process.)
import { parseArgs } from "node:util";
import { canPin, cpuMsOf, freePort, memoryOf, spawnServer, waitUp } from "./e2e/procs.ts";
import { median } from "./e2e/stats.ts";

const { values: opt } = parseArgs({
  args: Deno.args,
  options: {
    streams: { type: "string", default: "2000" },
    seconds: { type: "string", default: "5" },
    chunks: { type: "string", default: "10" },
    rounds: { type: "string", default: "2" },
    "ramp-ms": { type: "string", default: "2000" },
    mock: { type: "string" },
  },
});
const chunks = Number(opt.chunks);
const gapMs = (Number(opt.seconds) * 1000) / chunks;

if (opt.mock) {
  // The slow upstream: each stream sends one OpenAI chunk (~100 bytes of content) every gapMs.
  const encoder = new TextEncoder();
  const piece = "x".repeat(100);
  const frame = (delta: string, finish: string | null) =>
    encoder.encode(
      `data: ${
        JSON.stringify({
          id: "chatcmpl-mock",
          object: "chat.completion.chunk",
          created: 1,
          model: "gpt-4o-mini",
          choices: [{ index: 0, delta: { content: delta }, finish_reason: finish }],
        })
      }\n\n`,
    );
  const frames = Array.from(
    { length: chunks },
    (_, i) => frame(piece, i === chunks - 1 ? "stop" : null),
  );
  const done = encoder.encode("data: [DONE]\n\n");
  // When each stream request reached the mock (wall clock ms), read and reset by GET /arrivals.
  let arrivals: number[] = [];
  Deno.serve({ port: Number(opt.mock), hostname: "127.0.0.1", onListen() {} }, (req) => {
    if (req.method === "GET") {
      if (!req.url.endsWith("/arrivals")) return new Response("ok");
      const body = JSON.stringify(arrivals);
      arrivals = [];
      return new Response(body);
    }
    arrivals.push(Date.now());
    let i = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      async start() {
        await req.arrayBuffer();
      },
      pull(ctl) {
        if (i >= chunks) {
          ctl.enqueue(done);
          ctl.close();
          return;
        }
        // The first chunk at once (the stream is established), the others spaced out.
        const wait = i === 0 ? 0 : gapMs;
        return new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            ctl.enqueue(frames[i++]);
            resolve();
          }, wait);
        });
      },
      cancel() {
        clearTimeout(timer);
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
} else {
  await main();
}

async function main() {
  const n = Number(opt.streams);
  const root = new URL("../", import.meta.url).pathname;
  const cpu = (await canPin()) ? 1 : undefined;
  const tmp = await Deno.makeTempDir({ prefix: "bench-streams-" });
  const servers: ReturnType<typeof spawnServer>[] = [];
  try {
    const mockPort = freePort();
    const mock = spawnServer("mock", [
      Deno.execPath(),
      "run",
      "-A",
      "bench/streams.ts",
      "--mock",
      String(mockPort),
      "--seconds",
      String(opt.seconds),
      "--chunks",
      String(chunks),
    ], { cpu, cwd: root, log: `${tmp}/mock.log` });
    servers.push(mock);
    await waitUp(mock, `http://127.0.0.1:${mockPort}/`);
    const upstream = `http://127.0.0.1:${mockPort}/t1/v1`;
    const config = `${tmp}/gateway.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        providers: { mock: { type: "openai", baseUrl: upstream } },
        retries: { max: 0 },
        limits: { maxInFlight: 0 },
      }),
    );
    const targets = [
      { name: "forwarder --inspect", args: ["bench/forwarder.ts"], model: "gpt-4o-mini" },
      { name: "gateway", args: ["src/main.ts"], model: "mock/gpt-4o-mini" },
    ];
    const sides = [];
    for (const t of targets) {
      const port = freePort();
      const extra = t.name === "gateway" ? [] : [String(port), upstream, "--inspect"];
      const server = spawnServer(t.name, [Deno.execPath(), "run", "-A", ...t.args, ...extra], {
        cpu,
        cwd: root,
        log: `${tmp}/${t.name.replaceAll(" ", "")}.log`,
        env: { GATEWAY_CONFIG: config, PORT: String(port), NATS_URL: "" },
      });
      servers.push(server);
      await waitUp(server, `http://127.0.0.1:${port}/healthz`, (r) => r.status > 0);
      sides.push({
        ...t,
        server,
        url: `http://127.0.0.1:${port}/v1/chat/completions`,
        cpuUs: [] as number[],
        kb: [] as number[],
      });
    }
    // Warm-up: a few hundred short bursts through each (JIT), not measured.
    const arrivals = `http://127.0.0.1:${mockPort}/arrivals`;
    for (const s of sides) await wave(s.url, s.model, Math.min(200, n), arrivals);
    for (let round = 0; round < Number(opt.rounds); round++) {
      for (const s of round % 2 ? [...sides].reverse() : sides) {
        const rss0 = (await memoryOf(s.server.pid)).rssMb;
        const cpu0 = await cpuMsOf(s.server.pid);
        let plateau = 0;
        const sampler = setInterval(async () => {
          plateau = Math.max(plateau, (await memoryOf(s.server.pid)).rssMb);
        }, 200);
        const { ok, failed } = await wave(s.url, s.model, n, arrivals);
        clearInterval(sampler);
        const cpuUs = ((await cpuMsOf(s.server.pid)) - cpu0) * 1000 / Math.max(1, ok);
        const kb = Math.max(0, plateau - rss0) * 1024 / Math.max(1, ok);
        s.cpuUs.push(cpuUs);
        s.kb.push(kb);
        console.error(
          `round ${round + 1} ${s.name}: ${ok} streams (${failed} failed), ${
            cpuUs.toFixed(0)
          } µs CPU and ${kb.toFixed(1)} KB RSS per stream (RSS ${rss0.toFixed(0)} → ${
            plateau.toFixed(0)
          } MB)`,
        );
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const [fwd, gw] = sides;
    console.log(
      `${n} concurrent streams, ${chunks} chunks over ${opt.seconds} s · median of ${opt.rounds} rounds`,
    );
    console.log("| server | CPU µs/stream | RSS KB/stream | rounds (µs; KB) |");
    console.log("|---|---:|---:|---|");
    for (const s of sides) {
      console.log(
        `| ${s.name} | ${median(s.cpuUs).toFixed(0)} | ${median(s.kb).toFixed(1)} | ${
          s.cpuUs.map((x) => x.toFixed(0)).join(", ")
        }; ${s.kb.map((x) => x.toFixed(1)).join(", ")} |`,
      );
    }
    console.log(
      `gateway ÷ forwarder --inspect: CPU ${(median(gw.cpuUs) / median(fwd.cpuUs)).toFixed(2)}×, ` +
        `memory ${
          (median(gw.kb) / Math.max(0.1, median(fwd.kb))).toFixed(2)
        }× (target ≤ 1.2× each)`,
    );
  } finally {
    for (const s of servers.reverse()) await s.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** Opens `n` streams at once and reads each to its end; counts the ones that completed. */
async function wave(url: string, model: string, n: number, mockUrl?: string) {
  const body = JSON.stringify({
    model,
    messages: [{ role: "user", content: "Say hello" }],
    stream: true,
  });
  let ok = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  // Per stream, ms from its scheduled send: response headers, first body bytes (the first chunk).
  const headersMs: number[] = [];
  const firstByteMs: number[] = [];
  const overflows0 = await listenOverflows();
  const t0 = Date.now();
  // Opened evenly over the ramp (shorter than a stream, so all n are open at once at its end):
  // n connections opened in the same instant measure a connection storm, not streams held.
  const rampMs = Number(opt["ramp-ms"]);
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const at = t0 + (i * rampMs) / n;
    await new Promise((r) => setTimeout(r, at - Date.now()));
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      headersMs.push(Date.now() - at);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        if (text === "") firstByteMs.push(Date.now() - at);
        text += r.value;
      }
      if (res.status === 200 && text.includes("[DONE]")) ok++;
      else {
        failed++;
        firstFailure ??= `${res.status} ${text.slice(-300)}`;
      }
    } catch (e) {
      failed++;
      firstFailure ??= String(e);
    }
  }));
  if (firstFailure) console.error(`  first failure: ${firstFailure}`);
  const overflows = (await listenOverflows()) - overflows0;
  const spread = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (p: number) => s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
    return `p50 ${q(0.5)} p99 ${q(0.99)} max ${s[s.length - 1] ?? NaN} ms`;
  };
  let arrived = "";
  if (mockUrl) {
    const at: number[] = await (await fetch(mockUrl)).json();
    arrived = ` · at the mock ${at.length} requests, ${
      spread(at.map((x) => x - t0))
    } after the start`;
  }
  console.error(
    `  headers ${spread(headersMs)} · first chunk ${spread(firstByteMs)}${arrived} · ` +
      `listen-queue overflows (kernel, all sockets) ${overflows}`,
  );
  return { ok, failed };
}

/** The kernel's count of connections dropped because a listen queue was full (TcpExt). */
async function listenOverflows(): Promise<number> {
  const text = await Deno.readTextFile("/proc/net/netstat").catch(() => "");
  const lines = text.split("\n").filter((l) => l.startsWith("TcpExt:"));
  if (lines.length < 2) return NaN;
  const names = lines[0].split(" ");
  const values = lines[1].split(" ");
  return Number(values[names.indexOf("ListenOverflows")]);
}
