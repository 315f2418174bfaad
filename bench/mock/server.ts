// Mock LLM upstream for tests, the README demo and benchmarks. It speaks the OpenAI Chat
// Completions and Anthropic Messages wire formats (JSON and SSE) and injects faults on demand.
// The first path segment names a "target", so one server stands in for many providers, each
// with its own fault queue and hit counter.

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
  | { kind: "latency"; ms: number; times?: number };

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
  /** Requests received on that target's completion routes (chat/completions and messages). */
  hits(target: string): number;
  allHits(): Record<string, number>;
  /** Clears faults and counters. */
  reset(): void;
  close(): Promise<void>;
}

type Api = "openai" | "anthropic";
type Json = Record<string, unknown>;
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

// Prompt size from the text of messages (string or content parts) and Anthropic's `system`.
function promptChars(body: Json): number {
  const text = (c: unknown): string =>
    typeof c === "string"
      ? c
      : Array.isArray(c)
      ? c.map((p) => (typeof p?.text === "string" ? p.text : "")).join("")
      : "";
  const messages = Array.isArray(body.messages) ? body.messages : [];
  return text(body.system).length +
    messages.reduce((n: number, m) => n + text(m?.content).length, 0);
}

// --- error bodies, exactly in each provider's documented shape ---

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

interface ErrorSpec {
  type?: string;
  code?: string | null;
  message?: string;
  param?: string | null;
  headers?: Record<string, string>;
}

function errorResponse(api: Api, status: number, spec: ErrorSpec = {}): Response {
  const server = status >= 500;
  const message = spec.message ??
    (status === 529 ? "Overloaded" : `Mock upstream error ${status}.`);
  const body = api === "openai"
    ? {
      error: {
        message,
        type: spec.type ?? (server ? "server_error" : "invalid_request_error"),
        param: spec.param ?? null,
        code: spec.code ?? null,
      },
    }
    : {
      type: "error",
      error: {
        type: spec.type ?? ANTHROPIC_TYPES[status] ??
          (server ? "api_error" : "invalid_request_error"),
        message,
      },
    };
  return Response.json(body, { status, headers: spec.headers });
}

// --- SSE and body helpers ---

const sseData = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const sseEvent = (event: string, data: Json) =>
  `event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`;

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

/** Sends frames one per pull; ends cleanly, or by erroring the connection ("cut"). */
function frameStream(frames: string[], cut: boolean, closing: AbortSignal) {
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
      if (i < frames.length) return controller.enqueue(encoder.encode(frames[i++]));
      release();
      if (!cut) return controller.close();
      // Give the last frame time to reach the socket before the connection breaks.
      await sleep(20, closing);
      controller.error(new MockCut("mock upstream: connection cut"));
    },
    cancel: release,
  });
}

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};
const JSON_HEADERS = { "content-type": "application/json" };

/** One request on a completion route, as the fault and answer builders see it. */
interface Call {
  api: Api;
  target: string;
  seq: number;
  body: Json;
  model: string;
  stream: boolean;
  req: Request;
}

// --- successful answers ---

interface Content {
  text: string;
  pieces: string[];
  input: number;
  output: number;
  /** false when the stream is to be cut after `pieces`: no finish, no terminator. */
  complete: boolean;
}
interface Answer {
  frames: string[];
  json: string;
}

function openaiAnswer(c: Call, { text, pieces, input, output, complete }: Content): Answer {
  const head = {
    id: `chatcmpl-${c.target}-${c.seq}`,
    created: Math.floor(Date.now() / 1000),
    model: c.model,
    system_fingerprint: "fp_mock",
  };
  const usage = { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
  const json = JSON.stringify({
    ...head,
    object: "chat.completion",
    choices: [{
      index: 0,
      message: { role: "assistant", content: text, refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage,
  });
  // With include_usage every chunk carries `usage: null` and a last one, with no choices, the usage.
  const withUsage = (c.body.stream_options as Json | undefined)?.include_usage === true;
  const chunk = (choices: Json[], usage: Json | null = null) =>
    sseData({
      ...head,
      object: "chat.completion.chunk",
      choices,
      ...(withUsage ? { usage } : {}),
    });
  const choice = (delta: Json, finish: string | null = null) => [
    { index: 0, delta, logprobs: null, finish_reason: finish },
  ];
  const frames = [
    chunk(choice({ role: "assistant", content: "", refusal: null })),
    ...pieces.map((p) => chunk(choice({ content: p }))),
  ];
  if (complete) {
    frames.push(chunk(choice({}, "stop")));
    if (withUsage) frames.push(chunk([], usage));
    frames.push("data: [DONE]\n\n");
  }
  return { frames, json };
}

function anthropicAnswer(c: Call, { text, pieces, input, output, complete }: Content): Answer {
  const message = {
    id: `msg_${c.target}_${c.seq}`,
    type: "message",
    role: "assistant",
    model: c.model,
    content: [{ type: "text", text }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: input, output_tokens: output },
  };
  const start = {
    ...message,
    content: [],
    stop_reason: null,
    usage: { input_tokens: input, output_tokens: 1 },
  };
  const frames = [
    sseEvent("message_start", { message: start }),
    sseEvent("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    sseEvent("ping", {}),
    ...pieces.map((p) =>
      sseEvent("content_block_delta", { index: 0, delta: { type: "text_delta", text: p } })
    ),
  ];
  if (complete) {
    frames.push(
      sseEvent("content_block_stop", { index: 0 }),
      sseEvent("message_delta", {
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: output },
      }),
      sseEvent("message_stop", {}),
    );
  }
  return { frames, json: JSON.stringify(message) };
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

  // Builds the frames (SSE) and body (JSON) of a successful answer; `cutAfter` truncates streams.
  const answer = (c: Call, cutAfter?: number): Answer => {
    const text = completionText(c.target, completionBytes);
    const content: Content = {
      text,
      pieces: splitText(text, chunks).slice(0, cutAfter),
      input: tokens(promptChars(c.body)),
      output: tokens(text.length),
      complete: cutAfter === undefined,
    };
    return c.api === "openai" ? openaiAnswer(c, content) : anthropicAnswer(c, content);
  };

  // A Response for the fault, or undefined when the request should then be answered normally.
  const applyFault = async (f: Fault, c: Call): Promise<Response | undefined> => {
    const openai = c.api === "openai";
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
        const headers: Record<string, string> = f.retryAfterSec === undefined
          ? {}
          : { "retry-after": String(f.retryAfterSec) };
        return errorResponse(c.api, f.status, { ...f, headers });
      }
      case "rate_limit": {
        const sec = f.retryAfterSec ?? (f.retryAfterMs === undefined ? 1 : f.retryAfterMs / 1000);
        const headers: Record<string, string> = { "retry-after": String(Math.ceil(sec)) };
        if (f.retryAfterMs !== undefined) headers["retry-after-ms"] = String(f.retryAfterMs);
        return openai
          ? errorResponse(c.api, 429, {
            type: "requests",
            code: "rate_limit_exceeded",
            message: `Rate limit reached for ${c.model} on requests (mock ${c.target}).`,
            headers,
          })
          : errorResponse(c.api, 429, {
            message: `This request exceeds the rate limit of mock ${c.target}.`,
            headers,
          });
      }
      case "quota":
        // OpenAI reports an exhausted quota as 429 insufficient_quota; Anthropic as 402 billing_error.
        return openai
          ? errorResponse(c.api, 429, {
            type: "insufficient_quota",
            code: "insufficient_quota",
            message: "You exceeded your current quota; check your plan and billing details.",
          })
          : errorResponse(c.api, 402, { message: "Your credit balance is too low (mock)." });
      case "cut": {
        const { frames, json } = answer(c, f.afterChunks ?? 1);
        const body = c.stream ? frames : [json.slice(0, Math.floor(json.length / 2))];
        return new Response(frameStream(body, true, closing.signal), {
          headers: c.stream ? SSE_HEADERS : JSON_HEADERS,
        });
      }
      case "malformed": {
        if (!c.stream) {
          return new Response('{"id": "mock", "choices": [ oops', { headers: JSON_HEADERS });
        }
        const bad = openai
          ? 'data: {"id": "mock", "choices": [ oops\n\n'
          : 'event: message_start\ndata: {"type": "message_start", oops\n\n';
        return new Response(frameStream([bad], false, closing.signal), { headers: SSE_HEADERS });
      }
    }
  };

  const validate = (c: Call): Response | undefined => {
    const { body, api } = c;
    const missing = (param: string) =>
      api === "openai"
        ? errorResponse(api, 400, {
          message: `Missing required parameter: '${param}'.`,
          param,
          code: "missing_required_parameter",
        })
        : errorResponse(api, 400, { message: `${param}: Field required` });
    if (typeof body.model !== "string") return missing("model");
    if (!Array.isArray(body.messages)) return missing("messages");
    if (api === "anthropic" && typeof body.max_tokens !== "number") return missing("max_tokens");
    return undefined;
  };

  const completion = async (req: Request, api: Api, target: string): Promise<Response> => {
    const seq = (counters.get(target) ?? 0) + 1;
    counters.set(target, seq);
    // A header fault wins and leaves the queue untouched.
    let fault: Fault | undefined;
    const header = req.headers.get("x-mock-fault");
    try {
      fault = header ? parseFaults(JSON.parse(header))[0] : nextFault(target);
    } catch (e) {
      return errorResponse(api, 400, { message: `x-mock-fault: ${(e as Error).message}` });
    }
    const raw = await req.json().catch(() => undefined);
    const parsed = typeof raw === "object" && raw !== null && !Array.isArray(raw);
    const body: Json = parsed ? raw : {};
    const c: Call = {
      api,
      target,
      seq,
      body,
      model: typeof body.model === "string" ? body.model : "unknown",
      stream: body.stream === true,
      req,
    };
    // Sleeps end early only when the server closes; a client gone meanwhile costs nothing.
    await sleep(latencyMs, closing.signal);
    const faulted = fault && await applyFault(fault, c);
    if (faulted) return faulted;
    if (closing.signal.aborted) return new Response(null, { status: 503 });
    if (!parsed) return errorResponse(api, 400, { message: "The request body is not valid JSON." });
    const invalid = validate(c);
    if (invalid) return invalid;
    const idHeader = api === "openai" ? "x-request-id" : "request-id";
    const headers = { [idHeader]: `req_${target}_${seq}` };
    const { frames, json } = answer(c);
    return c.stream
      ? new Response(frameStream(frames, false, closing.signal), {
        headers: { ...SSE_HEADERS, ...headers },
      })
      : new Response(json, { headers: { ...JSON_HEADERS, ...headers } });
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
        return errorResponse("openai", 400, { message: (e as Error).message });
      }
    }
    if (route === "DELETE faults :target" || route === "DELETE faults") {
      mock.clearFaults(target);
      return Response.json({ ok: true });
    }
    return errorResponse("openai", 404, { message: `Unknown control route ${route}` });
  };

  const handle = (req: Request): Promise<Response> | Response => {
    const { pathname } = new URL(req.url);
    const [first, second, ...rest] = pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (first === "_mock") return control(req, second, rest[0]);
    const route = `${req.method} ${second}/${rest.join("/")}`;
    if (first && route === "GET v1/models") {
      const created = 1700000000;
      return Response.json({
        object: "list",
        data: ["mock-fast", "mock-smart"].map((id) => ({
          id,
          object: "model",
          created,
          owned_by: first,
        })),
      });
    }
    if (first && route === "POST v1/chat/completions") return completion(req, "openai", first);
    if (first && route === "POST v1/messages") return completion(req, "anthropic", first);
    return errorResponse("openai", 404, { message: `Invalid URL (${req.method} ${pathname})` });
  };

  const server = Deno.serve({
    port: opts.port ?? 0,
    hostname: opts.hostname ?? "127.0.0.1",
    signal: closing.signal,
    onListen() {},
    onError(error) {
      // deno-lint-ignore no-console
      if (!(error instanceof MockCut)) console.error("mock upstream:", error);
      return errorResponse("openai", 500, { message: "The mock upstream crashed." });
    },
  }, handle);
  const { port, hostname } = server.addr;
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return Promise.resolve({ ...mock, url, port });
}
