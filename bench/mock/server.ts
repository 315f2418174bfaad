// Mock LLM upstream for tests, the README demo and benchmarks. It speaks the wire formats in
// ./formats/ (OpenAI, Anthropic, Azure OpenAI, Gemini, Bedrock Converse, Cohere v2: JSON and
// streams) and injects faults on demand (./faults.ts). The first path segment names a "target",
// so one server stands in for many providers, each with its own fault queue and hit counter.
// This file is the core: counters, the call log, latency and each fault's answer; ./stream.ts
// puts answers on the wire; each format only says how its provider's requests, answers and
// errors look.
import type { MockCall, MockContent, MockFormat, MockReply } from "./formats/format.ts";
import { endsWithAssistant, FORMATS, openai } from "./formats/mod.ts";
import { applies, type Fault, FaultQueues, parseFaults } from "./faults.ts";
import { startResetFront } from "./reset_front.ts";
import {
  chunkStream,
  type ChunkTiming,
  firstHalf,
  MockCut,
  sleep,
  type StreamEnd,
} from "./stream.ts";

export interface MockOptions {
  port?: number;
  hostname?: string;
  /** Added before every answer on the model routes. */
  latencyMs?: number;
  /** Length of the completion text (ASCII, so bytes = chars). Default 64. */
  completionBytes?: number;
  /** Content pieces per streamed answer. Default 4. */
  chunks?: number;
  /**
   * Serve through a TCP front (./reset_front.ts) so `reset` faults can drop a connection before
   * any response byte. Off by default: the extra hop would skew overhead benchmarks.
   */
  resets?: boolean;
}

/** One request on a model route, as the call log keeps it. */
export interface MockCallRecord {
  target: string;
  model: string;
  stream: boolean;
  /** The conversation ended with an assistant turn (a prefill). */
  prefill: boolean;
  /** The fault it got, if any. */
  fault?: Fault["kind"];
  /** Date.now() when it arrived. */
  at: number;
}

export interface MockUpstream {
  /** e.g. "http://127.0.0.1:PORT" */
  url: string;
  port: number;
  /**
   * Replace the fault queue of a target: faults apply in order, each `times` requests (default:
   * forever). Throws on a `reset` fault when the mock was started without `resets`.
   */
  setFaults(target: string, faults: Fault[]): void;
  clearFaults(target?: string): void;
  /** Requests received on that target's model routes (every format's chat and embed routes). */
  hits(target: string): number;
  allHits(): Record<string, number>;
  /** The last requests on the model routes (up to 10 000), oldest first. */
  calls(): MockCallRecord[];
  /** Clears faults, counters and the call log. */
  reset(): void;
  close(): Promise<void>;
}

const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
const MAX_CALLS = 10_000;

/** The deterministic completion text a target answers with: "Hello from {target}." padded with words. */
export function completionText(target: string, bytes = 64): string {
  let text = `Hello from ${target}.`;
  for (let i = 0; text.length < bytes; i++) text += ` ${WORDS[i % WORDS.length]}`;
  return text.slice(0, Math.max(1, bytes));
}

/** The pieces a target's streamed answer sends its completion text in (`chunks` of them). */
export function completionPieces(target: string, bytes = 64, chunks = 4): string[] {
  return splitText(completionText(target, bytes), chunks);
}

function splitText(text: string, n: number): string[] {
  const count = Math.max(1, Math.min(n, text.length));
  return Array.from(
    { length: count },
    (_, i) =>
      text.slice(Math.floor(i * text.length / count), Math.floor((i + 1) * text.length / count)),
  );
}

const tokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));

function withHeaders(res: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) res.headers.set(name, value);
  return res;
}

// --- the server ---

/**
 * Starts the mock on `127.0.0.1` (port 0 = a free one). Close it in a `finally`.
 *
 * ```ts
 * const mock = await startMockUpstream();
 * try {
 *   mock.setFaults("openai", [{ kind: "rate_limit", retryAfterSec: 2, times: 1 }]);
 *   const url = `${mock.url}/openai/v1/chat/completions`; // 429 once, then 200s
 * } finally {
 *   await mock.close();
 * }
 * ```
 */
export function startMockUpstream(opts: MockOptions = {}): Promise<MockUpstream> {
  const { latencyMs = 0, completionBytes = 64, chunks = 4 } = opts;
  const queues = new FaultQueues();
  const counters = new Map<string, number>();
  let log: MockCallRecord[] = [];
  // One signal ends hangs, sleeps and open streams, then shuts the server down.
  const closing = new AbortController();

  const send = (reply: MockReply, end: StreamEnd = "close", timing?: ChunkTiming) =>
    new Response(chunkStream(reply.chunks, end, closing.signal, timing), {
      headers: reply.headers,
    });

  // The format's successful answer; `cutAfter` truncates the stream after that many pieces.
  const answer = (format: MockFormat, c: MockCall, cutAfter?: number): MockReply => {
    const text = completionText(c.target, completionBytes);
    const content: MockContent = {
      text,
      pieces: splitText(text, chunks).slice(0, cutAfter),
      input: tokens(format.prompt(c).length),
      output: tokens(text.length),
      complete: cutAfter === undefined,
    };
    return format.answer(c, content);
  };

  // No answer until the client goes away (or the mock closes).
  const holdOpen = async (c: MockCall) => {
    // Only these read request.signal: in its legacy abort mode Deno warns once when it is read.
    await sleep(Infinity, AbortSignal.any([c.req.signal, closing.signal]));
    return new Response(null, { status: 499 });
  };

  // A whole streamed answer, changed by one of the stream faults; JSON requests get `json`.
  const streamFault = (
    format: MockFormat,
    c: MockCall,
    json: () => Response | undefined,
    change: (reply: MockReply, at: number) => Response,
  ) => {
    if (!c.stream) return json();
    const reply = answer(format, c);
    return change(reply, reply.firstPiece ?? 0);
  };

  // A Response for the fault, or undefined when the request should then be answered normally.
  const applyFault = async (
    f: Fault,
    format: MockFormat,
    c: MockCall,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response | undefined> => {
    switch (f.kind) {
      case "latency":
        await sleep(f.ms, closing.signal);
        return undefined;
      case "hang":
        return await holdOpen(c);
      case "status": {
        const res = format.error(f.status, { type: f.type, code: f.code, message: f.message });
        return f.retryAfterSec === undefined
          ? res
          : withHeaders(res, { "retry-after": String(f.retryAfterSec) });
      }
      case "rate_limit": {
        const sec = f.retryAfterSec ?? (f.retryAfterMs === undefined ? 1 : f.retryAfterMs / 1000);
        const headers: Record<string, string> = { "retry-after": String(Math.ceil(sec)) };
        if (f.retryAfterMs !== undefined) headers["retry-after-ms"] = String(f.retryAfterMs);
        return withHeaders(format.rateLimit(c, { sec, ms: f.retryAfterMs }), headers);
      }
      case "quota":
        return format.quota(c);
      case "cut": {
        const reply = answer(format, c, f.afterChunks ?? 1);
        return send(c.stream ? reply : { ...reply, chunks: [firstHalf(reply.chunks)] }, "cut");
      }
      case "malformed":
        return send(format.malformed(c));
      case "stall":
        return streamFault(
          format,
          c,
          () => {
            const reply = answer(format, c);
            return send({ ...reply, chunks: [firstHalf(reply.chunks)] }, "stall");
          },
          (reply, at) =>
            send({ ...reply, chunks: reply.chunks.slice(0, at + (f.afterChunks ?? 1)) }, "stall"),
        );
      case "slow_first_token":
        if (!c.stream) await sleep(f.ms, closing.signal);
        return streamFault(
          format,
          c,
          () => undefined,
          (reply, at) => send(reply, "close", { hold: { at, ms: f.ms } }),
        );
      case "malformed_chunk":
        return streamFault(format, c, () => undefined, (reply, at) => {
          const broken = [...reply.chunks];
          broken.splice(at + (f.afterChunks ?? 1), 0, ...format.malformed(c).chunks);
          return send({ ...reply, chunks: broken });
        });
      case "no_done":
        return streamFault(
          format,
          c,
          () => undefined,
          (reply) =>
            send(reply.endMarker ? { ...reply, chunks: reply.chunks.slice(0, -1) } : reply),
        );
      case "reset":
        // The front closes the client's connection; this request's own then ends too.
        front?.drop(info.remoteAddr.port);
        return await holdOpen(c);
      case "context_length":
        return format.reject(c, "context_length");
      case "content_filter":
        return format.reject(c, "content_filter");
      case "reject_prefill":
        return format.reject(c, "prefill");
    }
  };

  const needsFront = (faults: Fault[]) => {
    if (!front && faults.some((f) => f.kind === "reset")) {
      throw new Error(
        "reset faults need the mock started with resets: true (CLI: --resets)",
      );
    }
    return faults;
  };

  const modelCall = async (
    req: Request,
    format: MockFormat,
    target: string,
    call: Pick<MockCall, "route" | "url">,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response> => {
    const seq = (counters.get(target) ?? 0) + 1;
    counters.set(target, seq);
    const c: MockCall = { ...call, target, seq, body: {}, model: "unknown", stream: false, req };
    const refused = format.admit?.(c);
    if (refused) return refused;
    // The body first: which fault applies depends on the model and on the last turn.
    const raw = await req.json().catch(() => undefined);
    const parsed = typeof raw === "object" && raw !== null && !Array.isArray(raw);
    c.body = parsed ? raw : {};
    c.model = format.model(c.body, c.route);
    c.stream = format.streaming(c.body, c.route);
    const prefill = endsWithAssistant(c.body);
    const record: MockCallRecord = {
      target,
      model: c.model,
      stream: c.stream,
      prefill,
      at: Date.now(),
    };
    log.push(record);
    if (log.length > MAX_CALLS) log = log.slice(-MAX_CALLS / 2);
    // A header fault wins and leaves the queue untouched.
    let fault: Fault | undefined;
    const header = req.headers.get("x-mock-fault");
    try {
      fault = header
        ? needsFront(parseFaults(JSON.parse(header)))[0]
        : queues.take(target, { model: c.model, prefill });
    } catch (e) {
      return format.error(400, { message: `x-mock-fault: ${(e as Error).message}` });
    }
    if (fault && header && !applies(fault, { model: c.model, prefill })) fault = undefined;
    if (fault) record.fault = fault.kind;
    // Sleeps end early only when the server closes; a client gone meanwhile costs nothing.
    await sleep(latencyMs, closing.signal);
    const faulted = fault && await applyFault(fault, format, c, info);
    if (faulted) return faulted;
    if (closing.signal.aborted) return new Response(null, { status: 503 });
    if (!parsed) return format.error(400, { message: "The request body is not valid JSON." });
    const gapMs = fault?.kind === "latency" ? fault.chunkMs ?? 0 : 0;
    return format.validate(c) ?? send(answer(format, c), "close", { gapMs });
  };

  const mock: Omit<MockUpstream, "url" | "port"> = {
    setFaults: (target, faults) => queues.set(target, needsFront(faults)),
    clearFaults: (target) => queues.clear(target),
    hits: (target) => counters.get(target) ?? 0,
    allHits: () => Object.fromEntries(counters),
    calls: () => [...log],
    reset() {
      queues.clear();
      counters.clear();
      log = [];
    },
    async close() {
      closing.abort();
      front?.close();
      await server.finished;
    },
  };

  const control = async (req: Request, what?: string, target?: string): Promise<Response> => {
    const route = `${req.method} ${what}${target === undefined ? "" : " :target"}`;
    if (route === "GET hits") return Response.json(mock.allHits());
    if (route === "GET calls") return Response.json(mock.calls());
    if (route === "POST reset") {
      mock.reset();
      return Response.json({ ok: true });
    }
    if (route === "POST faults :target") {
      try {
        const faults = parseFaults(await req.json());
        mock.setFaults(target!, faults);
        return Response.json({ target, faults });
      } catch (e) {
        return openai.error(400, { message: (e as Error).message });
      }
    }
    if (route === "DELETE faults :target" || route === "DELETE faults") {
      mock.clearFaults(target);
      return Response.json({ ok: true });
    }
    return openai.error(404, { message: `Unknown control route ${route}` });
  };

  const handle = (
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response> | Response => {
    const url = new URL(req.url);
    const [target, ...path] = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (target === "_mock") return control(req, path[0], path[1]);
    if (target && req.method === "GET" && path.join("/") === "v1/models") {
      const created = 1700000000;
      return Response.json({
        object: "list",
        data: ["mock-fast", "mock-smart"].map((id) => ({
          id,
          object: "model",
          created,
          owned_by: target,
        })),
      });
    }
    for (const format of target ? FORMATS : []) {
      const route = format.match(req.method, path, url);
      if (route) return modelCall(req, format, target, { route, url }, info);
    }
    return openai.error(404, { message: `Invalid URL (${req.method} ${url.pathname})` });
  };

  const hostname = opts.hostname ?? "127.0.0.1";
  const server = Deno.serve({
    // Behind the front, the HTTP server itself listens on a private port of the loopback.
    port: opts.resets ? 0 : opts.port ?? 0,
    hostname: opts.resets ? "127.0.0.1" : hostname,
    signal: closing.signal,
    onListen() {},
    onError(error) {
      // deno-lint-ignore no-console
      if (!(error instanceof MockCut)) console.error("mock upstream:", error);
      return openai.error(500, { message: "The mock upstream crashed." });
    },
  }, handle);
  const front = opts.resets
    ? startResetFront({ hostname, port: opts.port ?? 0 }, {
      hostname: "127.0.0.1",
      port: server.addr.port,
    })
    : undefined;
  const addr = front ?? server.addr;
  const host = addr.hostname === "0.0.0.0" || addr.hostname === "::" ? "127.0.0.1" : addr.hostname;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  return Promise.resolve({ ...mock, url, port: addr.port });
}
