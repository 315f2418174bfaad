// Mock LLM upstream for tests, the README demo and benchmarks. It speaks the wire formats in
// ./formats/ (OpenAI, Anthropic, Azure OpenAI, Gemini, Bedrock Converse, Cohere v2: JSON and
// streams) and injects faults on demand. The first path segment names a "target", so one server
// stands in for many providers, each with its own fault queue and hit counter. This file is the
// core: faults, counters, latency, hangs, cut streams and shutdown; each format only says how its
// provider's requests, answers and errors look.
import type { Chunk, MockCall, MockContent, MockFormat, MockReply } from "./formats/format.ts";
import { FORMATS, openai } from "./formats/mod.ts";

/**
 * A fault to inject. Each format answers it in its provider's own shape: `status` uses the
 * format's error body (`type` is the OpenAI/Anthropic error type, Gemini's `status` string or
 * Bedrock's exception name; `code` the OpenAI/Azure error code), `rate_limit` its rate-limit
 * answer plus Retry-After, `quota` its "quota or credit exhausted" answer.
 */
export type Fault =
  | {
    kind: "status";
    status: number;
    type?: string;
    code?: string;
    message?: string;
    retryAfterSec?: number;
    times?: number;
  }
  | { kind: "rate_limit"; retryAfterSec?: number; retryAfterMs?: number; times?: number }
  | { kind: "quota"; times?: number }
  | { kind: "hang"; times?: number }
  | { kind: "cut"; afterChunks?: number; times?: number }
  | { kind: "malformed"; times?: number }
  /** `ms` before the answer; `chunkMs` (optional) between the pieces of the answer it sends. */
  | { kind: "latency"; ms: number; chunkMs?: number; times?: number };

export interface MockOptions {
  port?: number;
  hostname?: string;
  /** Added before every answer on the model routes. */
  latencyMs?: number;
  /** Length of the completion text (ASCII, so bytes = chars). Default 64. */
  completionBytes?: number;
  /** Content pieces per streamed answer. Default 4. */
  chunks?: number;
}

export interface MockUpstream {
  /** e.g. "http://127.0.0.1:PORT" */
  url: string;
  port: number;
  /** Replace the fault queue of a target: faults apply in order, each `times` requests (default: forever). */
  setFaults(target: string, faults: Fault[]): void;
  clearFaults(target?: string): void;
  /** Requests received on that target's model routes (every format's chat and embed routes). */
  hits(target: string): number;
  allHits(): Record<string, number>;
  /** Clears faults and counters. */
  reset(): void;
  close(): Promise<void>;
}

interface Queued {
  fault: Fault;
  left: number;
}

const KINDS = ["status", "rate_limit", "quota", "hang", "cut", "malformed", "latency"];
const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
const encoder = new TextEncoder();

/** Validates untrusted JSON (control API, header, CLI) as a Fault or Fault[]; throws on a bad one. */
export function parseFaults(value: unknown): Fault[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    const fail = (why: string): never => {
      throw new Error(`fault ${i}: ${why}`);
    };
    if (typeof item !== "object" || item === null) return fail("expected an object");
    const f = item as Record<string, unknown>;
    const int = (v: unknown, min: number, max = Infinity) =>
      Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
    if (!KINDS.includes(f.kind as string)) fail(`kind must be one of ${KINDS.join(", ")}`);
    if (f.kind === "status" && !int(f.status, 400, 599)) fail("status must be from 400 to 599");
    if (f.kind === "latency" && !(typeof f.ms === "number" && f.ms >= 0)) fail("ms must be >= 0");
    const gap = f.chunkMs;
    if (f.kind === "latency" && gap !== undefined && !(typeof gap === "number" && gap >= 0)) {
      fail("chunkMs must be >= 0");
    }
    if (f.times !== undefined && !int(f.times, 1)) fail("times must be a positive integer");
    return f as unknown as Fault;
  });
}

/** The deterministic completion text a target answers with: "Hello from {target}." padded with words. */
export function completionText(target: string, bytes = 64): string {
  let text = `Hello from ${target}.`;
  for (let i = 0; text.length < bytes; i++) text += ` ${WORDS[i % WORDS.length]}`;
  return text.slice(0, Math.max(1, bytes));
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Ends our own streams on purpose; the server's onError keeps these out of the log. */
class MockCut extends Error {}

/** Sends chunks one per pull (`gapMs` apart); ends cleanly, or by erroring the connection ("cut"). */
function chunkStream(chunks: Chunk[], cut: boolean, closing: AbortSignal, gapMs = 0) {
  let i = 0;
  // The server waits for open bodies on shutdown; error them so close() stays prompt.
  let onClose = () => {};
  const release = () => closing.removeEventListener("abort", onClose);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onClose = () => controller.error(new MockCut("mock upstream closed"));
      closing.addEventListener("abort", onClose, { once: true });
    },
    async pull(controller) {
      if (i < chunks.length) {
        if (i > 0 && gapMs > 0) await sleep(gapMs, closing);
        const chunk = chunks[i++];
        return controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      }
      release();
      if (!cut) return controller.close();
      // Give the last chunk time to reach the socket before the connection breaks.
      await sleep(20, closing);
      controller.error(new MockCut("mock upstream: connection cut"));
    },
    cancel: release,
  });
}

/** The first half of a reply's bytes: a JSON body broken off mid-way. */
function firstHalf(chunks: Chunk[]): Uint8Array {
  const parts = chunks.map((c) => typeof c === "string" ? encoder.encode(c) : c);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) all.set(p, (at += p.length) - p.length);
  return all.slice(0, Math.floor(all.length / 2));
}

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
  const queues = new Map<string, Queued[]>();
  const counters = new Map<string, number>();
  // One signal ends hangs, sleeps and open streams, then shuts the server down.
  const closing = new AbortController();

  const nextFault = (target: string): Fault | undefined => {
    const queue = queues.get(target);
    const head = queue?.[0];
    if (!head) return undefined;
    if (--head.left <= 0) queue.shift();
    return head.fault;
  };

  const send = (reply: MockReply, cut = false, gapMs = 0) =>
    new Response(chunkStream(reply.chunks, cut, closing.signal, gapMs), {
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

  // A Response for the fault, or undefined when the request should then be answered normally.
  const applyFault = async (
    f: Fault,
    format: MockFormat,
    c: MockCall,
  ): Promise<Response | undefined> => {
    switch (f.kind) {
      case "latency":
        await sleep(f.ms, closing.signal);
        return undefined;
      case "hang": {
        // Only hangs read request.signal: in its legacy abort mode Deno warns once when it is read.
        const signal = AbortSignal.any([c.req.signal, closing.signal]);
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return new Response(null, { status: 499 });
      }
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
        return send(c.stream ? reply : { ...reply, chunks: [firstHalf(reply.chunks)] }, true);
      }
      case "malformed":
        return send(format.malformed(c));
    }
  };

  const modelCall = async (
    req: Request,
    format: MockFormat,
    target: string,
    call: Pick<MockCall, "route" | "url">,
  ): Promise<Response> => {
    const seq = (counters.get(target) ?? 0) + 1;
    counters.set(target, seq);
    const c: MockCall = { ...call, target, seq, body: {}, model: "unknown", stream: false, req };
    const refused = format.admit?.(c);
    if (refused) return refused;
    // A header fault wins and leaves the queue untouched.
    let fault: Fault | undefined;
    const header = req.headers.get("x-mock-fault");
    try {
      fault = header ? parseFaults(JSON.parse(header))[0] : nextFault(target);
    } catch (e) {
      return format.error(400, { message: `x-mock-fault: ${(e as Error).message}` });
    }
    const raw = await req.json().catch(() => undefined);
    const parsed = typeof raw === "object" && raw !== null && !Array.isArray(raw);
    c.body = parsed ? raw : {};
    c.model = format.model(c.body, c.route);
    c.stream = format.streaming(c.body, c.route);
    // Sleeps end early only when the server closes; a client gone meanwhile costs nothing.
    await sleep(latencyMs, closing.signal);
    const faulted = fault && await applyFault(fault, format, c);
    if (faulted) return faulted;
    if (closing.signal.aborted) return new Response(null, { status: 503 });
    if (!parsed) return format.error(400, { message: "The request body is not valid JSON." });
    const gapMs = fault?.kind === "latency" ? fault.chunkMs ?? 0 : 0;
    return format.validate(c) ?? send(answer(format, c), false, gapMs);
  };

  const mock: Omit<MockUpstream, "url" | "port"> = {
    setFaults(target, faults) {
      queues.set(target, faults.map((fault) => ({ fault, left: fault.times ?? Infinity })));
    },
    clearFaults(target) {
      if (target === undefined) queues.clear();
      else queues.delete(target);
    },
    hits: (target) => counters.get(target) ?? 0,
    allHits: () => Object.fromEntries(counters),
    reset() {
      queues.clear();
      counters.clear();
    },
    async close() {
      closing.abort();
      await server.finished;
    },
  };

  const control = async (req: Request, what?: string, target?: string): Promise<Response> => {
    const route = `${req.method} ${what}${target === undefined ? "" : " :target"}`;
    if (route === "GET hits") return Response.json(mock.allHits());
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

  const handle = (req: Request): Promise<Response> | Response => {
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
      if (route) return modelCall(req, format, target, { route, url });
    }
    return openai.error(404, { message: `Invalid URL (${req.method} ${url.pathname})` });
  };

  const server = Deno.serve({
    port: opts.port ?? 0,
    hostname: opts.hostname ?? "127.0.0.1",
    signal: closing.signal,
    onListen() {},
    onError(error) {
      // deno-lint-ignore no-console
      if (!(error instanceof MockCut)) console.error("mock upstream:", error);
      return openai.error(500, { message: "The mock upstream crashed." });
    },
  }, handle);
  const { port, hostname } = server.addr;
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return Promise.resolve({ ...mock, url, port });
}
