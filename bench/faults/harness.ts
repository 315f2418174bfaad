// Runs one fault scenario end to end and checks what a user would notice: a fresh nats-server
// (JetStream + websocket) and a fresh gateway process (`deno run -A src/main.ts`, its config in
// a temp GATEWAY_CONFIG, NATS_URL set), the shared mock upstream process with the scenario's
// faults, open-loop load at a fixed rate, then every answer checked and every event read back
// from JetStream. Shared by `deno task bench:faults` and tests/bench/faults_test.ts.
import type { CloudEvent } from "../../src/events/envelope.ts";
import { startNatsServer } from "../../tests/_support/nats_server.ts";
import { readStreamSettled, settleEvents } from "./events.ts";
import { isOpenAiError, parseSse } from "./wire.ts";
import {
  closedPort,
  ERROR_LINE,
  type MockControl,
  mockControl,
  type Proc,
  spawnGateway,
  spawnMock,
} from "./procs.ts";
import type { Scenario, ScenarioContext } from "./scenarios.ts";

export interface Stack {
  mock: MockControl;
  mockProc: Proc;
  /** A port nothing listens on, for the "connection refused" provider. */
  closedPort: number;
  close(): Promise<void>;
}

/** The mock upstream process, shared by every scenario (reset between them). */
export async function startStack(): Promise<Stack> {
  // A few pieces per stream, so a stream can be cut or abandoned half-way.
  const mockProc = await spawnMock(["--chunks", "6"]);
  return {
    mock: mockControl(mockProc.url),
    mockProc,
    closedPort: closedPort(),
    close: async () => void await mockProc.stop(),
  };
}

export interface RunOptions {
  /** Requests per second, sent open-loop (on schedule, whatever the answers do). */
  rate: number;
  seconds: number;
  /** A request without an answer by then is the gateway's fault (default 20 s). */
  answerTimeoutMs?: number;
}

/** One request as the client saw it. */
export interface Answer {
  id: string;
  /** Histogram key: "200", "200 sse error", "502", "client abort", … */
  outcome: string;
  status?: number;
  provider?: string;
  fallbackIndex?: number;
  latencyMs: number;
  /** Why this answer is the gateway's own fault, if it is. */
  gatewayError?: string;
  /** The start of an error answer's body, for the report. */
  detail?: string;
  /** The terminal event JetStream must hold for this request id. */
  terminal: "completed" | "failed" | "any";
}

export interface EventView {
  type: string;
  provider: string;
  data: Record<string, unknown>;
}

export interface ScenarioResult {
  name: string;
  about: string;
  sent: number;
  outcomes: Record<string, number>;
  servedBy: Record<string, number>;
  p50: number;
  p99: number;
  /** fallback.taken events in JetStream. */
  fallbacks: number;
  breaker: { opened: number; halfOpened: number; closed: number };
  /** Upstream calls the mock received, per target. */
  hits: Record<string, number>;
  events: {
    /** Events the gateway says JetStream acknowledged (GET /readyz), before it was stopped. */
    published: number;
    dropped: number;
    /** Events from this gateway stored in JetStream. */
    stored: number;
    /** Requests that should have exactly one request.completed / request.failed. */
    expectedTerminal: number;
    lost: number;
    duplicated: number;
    /** Terminal event of the wrong kind for what the client saw (completed vs failed, status). */
    mismatched: number;
    /** The same CloudEvent id stored twice. */
    duplicateIds: number;
  };
  gatewayErrors: number;
  gatewayErrorSamples: string[];
  crashed: boolean;
  exitCode: number | null;
  notes: Record<string, unknown>;
  /** One error body per non-200 status the clients saw. */
  answerSamples: Record<string, string>;
  /** Every stored event, for scenario checks. */
  stream: EventView[];
  /** Invariants and scenario expectations that did not hold; empty = pass. */
  violations: string[];
}

/** Counts stored events of `type` (without "gateway."), optionally about one provider. */
export function count(
  r: ScenarioResult,
  type: string,
  provider?: string,
  pred: (data: Record<string, unknown>) => boolean = () => true,
): number {
  return r.stream.filter((e) =>
    e.type === type && (provider === undefined || e.provider === provider) && pred(e.data)
  ).length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ClientPlan {
  stream: boolean;
  abortAfterMs?: number;
  abortAfterFirstChunk?: boolean;
  timeoutMs: number;
}

async function sendOne(
  url: string,
  id: string,
  body: string,
  plan: ClientPlan,
  at: number,
): Promise<Answer> {
  const ctl = new AbortController();
  let clientAborted = false;
  let timedOut = false;
  const abort = () => {
    clientAborted = true;
    ctl.abort();
  };
  const timers = [
    setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, plan.timeoutMs),
  ];
  if (plan.abortAfterMs !== undefined) timers.push(setTimeout(abort, plan.abortAfterMs));
  const base = { id, latencyMs: 0 };
  const done = (a: Omit<Answer, "id" | "latencyMs">): Answer => ({
    ...base,
    ...a,
    latencyMs: performance.now() - at,
  });
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": id },
      body,
      signal: ctl.signal,
    });
    const provider = res.headers.get("x-gateway-provider") ?? undefined;
    const fb = res.headers.get("x-gateway-fallback-index");
    const seen = {
      status: res.status,
      provider,
      fallbackIndex: fb === null ? undefined : Number(fb),
    };
    if (res.headers.get("x-request-id") !== id) {
      await res.body?.cancel();
      return done({
        ...seen,
        outcome: "wrong request id",
        terminal: "any",
        gatewayError: `x-request-id ${res.headers.get("x-request-id")} instead of ${id}`,
      });
    }
    if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      try {
        while (true) {
          const r = await reader.read();
          if (r.done) break;
          text += r.value;
          if (plan.abortAfterFirstChunk && text.includes('"content":"')) {
            abort();
            await reader.cancel().catch(() => {});
            break;
          }
        }
      } catch (e) {
        if (!clientAborted) throw e;
      }
      if (clientAborted) return done({ ...seen, outcome: "client abort", terminal: "any" });
      const frames = parseSse(text);
      const last = frames[frames.length - 1];
      if (last?.event === "error") {
        const ok = isOpenAiError(JSON.parse(last.data));
        return done({
          ...seen,
          outcome: "200 sse error",
          terminal: "failed",
          gatewayError: ok ? undefined : `SSE error not OpenAI-shaped: ${last.data}`,
        });
      }
      if (last?.data === "[DONE]") {
        const content = frames.some((f) => f.data.includes('"content":"'));
        return done({
          ...seen,
          outcome: "200",
          terminal: "completed",
          gatewayError: content ? undefined : "stream without content",
        });
      }
      return done({
        ...seen,
        outcome: "truncated stream",
        terminal: "any",
        gatewayError: "stream ended without [DONE] or an error event",
      });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.status === 200) {
      const content = (json as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]
        ?.message?.content;
      return done({
        ...seen,
        outcome: "200",
        terminal: "completed",
        gatewayError: typeof content === "string" ? undefined : `200 without a completion: ${text}`,
      });
    }
    const shaped = isOpenAiError(json);
    const type = (json as { error?: { type?: string } })?.error?.type;
    return done({
      ...seen,
      outcome: String(res.status),
      terminal: "failed",
      detail: text.slice(0, 300),
      gatewayError: !shaped
        ? `${res.status} not OpenAI-shaped: ${text.slice(0, 200)}`
        : res.status === 500 || type === "internal_error"
        ? `${res.status} ${text.slice(0, 200)}`
        : undefined,
    });
  } catch (e) {
    if (clientAborted) return done({ outcome: "client abort", terminal: "any" });
    if (timedOut) {
      return done({
        outcome: "no answer",
        terminal: "any",
        gatewayError: `no answer within ${plan.timeoutMs} ms`,
      });
    }
    return done({ outcome: "connection error", terminal: "any", gatewayError: String(e) });
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}

/** Open loop: request i leaves at start + i/rate whatever happened to the others. */
async function load(
  url: string,
  scenario: Scenario,
  opts: RunOptions,
  prefix: string,
): Promise<Answer[]> {
  const total = Math.max(1, Math.round(opts.rate * opts.seconds));
  const body = JSON.stringify({
    model: `${scenario.primary}/gpt-4o-mini`,
    fallbacks: ["b/claude-3-5-haiku-latest"],
    messages: [{ role: "user", content: "Say hello" }],
    max_tokens: 64,
    ...(scenario.stream ? { stream: true } : {}),
  });
  const plan: ClientPlan = {
    stream: scenario.stream === true,
    abortAfterMs: scenario.client?.abortAfterMs,
    abortAfterFirstChunk: scenario.client?.abortAfterFirstChunk,
    timeoutMs: opts.answerTimeoutMs ?? 20_000,
  };
  const start = performance.now() + 20;
  const answers: Promise<Answer>[] = [];
  for (let i = 0; i < total; i++) {
    const at = start + (i * 1000) / opts.rate;
    const wait = at - performance.now();
    if (wait > 1) await sleep(wait);
    answers.push(sendOne(url, `${prefix}-${i}`, body, plan, at));
  }
  return await Promise.all(answers);
}

/** The gateway's config for a scenario: a primary `a`, a healthy fallback `b`, and `dead`. */
export function baseConfig(mockUrl: string, deadPort: number) {
  const breaker = {
    failureRateThreshold: 0.5,
    minimumRequests: 5,
    windowMs: 2_000,
    openMs: 500,
    maxOpenMs: 2_000,
    halfOpenProbes: 1,
  };
  const timeouts = { firstTokenMs: 2_000, totalMs: 5_000 };
  const keys = [{ value: "env:FAULTS_API_KEY" }];
  return {
    providers: {
      a: { type: "openai", baseUrl: `${mockUrl}/a/v1`, keys, breaker, timeouts },
      // A different wire format behind the fallback, so every fallover also translates.
      b: { type: "anthropic", baseUrl: `${mockUrl}/b/v1`, keys, timeouts },
      dead: { type: "openai", baseUrl: `http://127.0.0.1:${deadPort}/v1`, keys, breaker, timeouts },
    } as Record<string, Record<string, unknown>>,
    retries: { max: 0, baseMs: 5, maxMs: 20 },
  };
}

export type GatewayConfig = ReturnType<typeof baseConfig>;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function runScenario(
  scenario: Scenario,
  stack: Stack,
  opts: RunOptions,
): Promise<ScenarioResult> {
  await stack.mock.reset();
  const nats = await startNatsServer();
  const dir = await Deno.makeTempDir({ prefix: `faults-${scenario.name}-` });
  const instance = `faults-${scenario.name.replaceAll("_", "-")}-${
    crypto.randomUUID().slice(0, 6)
  }`;
  let gw: Proc | undefined;
  try {
    const base = baseConfig(stack.mock.url, stack.closedPort);
    const config = scenario.config ? scenario.config(base) : base;
    const configPath = `${dir}/gateway.json`;
    await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2));
    gw = await spawnGateway({
      GATEWAY_CONFIG: configPath,
      NATS_URL: nats.wsUrl,
      GATEWAY_INSTANCE: instance,
      FAULTS_API_KEY: "sk-faults",
    });
    const gwUrl = gw.url;
    await settleEvents(gwUrl, 10_000); // connected to NATS before the load
    const notes: Record<string, unknown> = {};
    const ended = new AbortController();
    const ctx: ScenarioContext = {
      mock: stack.mock,
      nats,
      gatewayUrl: gwUrl,
      rate: opts.rate,
      seconds: opts.seconds,
      signal: ended.signal,
      notes,
      sleep: (ms) =>
        new Promise((r) => {
          const t = setTimeout(r, ms);
          ended.signal.addEventListener("abort", () => {
            clearTimeout(t);
            r(undefined);
          }, { once: true });
        }),
    };
    await scenario.setup?.(ctx);
    const during = scenario.during?.(ctx);
    const answers = await load(`${gwUrl}/v1/chat/completions`, scenario, opts, instance);
    ended.abort();
    await during;
    await scenario.teardown?.(ctx);

    const phase = (name: string, t0: number) =>
      notes[`${name}Ms`] = Math.round(performance.now() - t0);
    let t = performance.now();
    const crashedDuringLoad = gw.exited();
    const health = crashedDuringLoad
      ? 0
      : await fetch(`${gwUrl}/healthz`).then(async (r) => (await r.body?.cancel(), r.status))
        .catch(() => 0);
    const bus = crashedDuringLoad
      ? { published: 0, dropped: 0, buffered: 0, connected: false }
      : await settleEvents(gwUrl, 15_000);
    phase("settle", t);
    const hits = await stack.mock.hits();
    t = performance.now();
    const exit = await gw.stop("SIGTERM");
    phase("stop", t);
    t = performance.now();
    const stored = await readStreamSettled(nats, `/gateway/${instance}`, bus.published);
    phase("read", t);
    return analyse(scenario, opts, {
      answers,
      stored,
      bus,
      hits,
      health,
      exit,
      crashed: crashedDuringLoad,
      stderr: gw.stderr(),
      notes,
    });
  } finally {
    if (gw && !gw.exited()) await gw.stop("SIGKILL");
    await nats.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function analyse(
  scenario: Scenario,
  opts: RunOptions,
  run: {
    answers: Answer[];
    stored: CloudEvent[];
    bus: { published: number; dropped: number };
    hits: Record<string, number>;
    health: number;
    exit: Deno.CommandStatus;
    crashed: boolean;
    stderr: string;
    notes: Record<string, unknown>;
  },
): ScenarioResult {
  const { answers, stored } = run;
  const outcomes: Record<string, number> = {};
  const servedBy: Record<string, number> = {};
  for (const a of answers) {
    outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
    if (a.provider && (a.outcome === "200")) {
      servedBy[a.provider] = (servedBy[a.provider] ?? 0) + 1;
    }
  }
  const stream: EventView[] = stored.map((e) => ({
    type: e.type.replace(/^gateway\./, ""),
    provider: e.subject.split(".").pop() ?? "_",
    data: e.data as Record<string, unknown>,
  }));
  const terminals = new Map<string, EventView[]>();
  const started = new Set(
    stream.filter((e) => e.type === "request.started").map((e) => String(e.data.requestId)),
  );
  let neverStarted = 0;
  for (const e of stream) {
    if (e.type !== "request.completed" && e.type !== "request.failed") continue;
    const id = String(e.data.requestId);
    terminals.set(id, [...(terminals.get(id) ?? []), e]);
  }
  let lost = 0, duplicated = 0, mismatched = 0;
  const samples: string[] = [];
  const sample = (s: string) => samples.length < 5 && samples.push(s);
  for (const a of answers) {
    const t = terminals.get(a.id) ?? [];
    if (t.length === 0 && a.outcome === "client abort" && !started.has(a.id)) {
      // Gone before the gateway had read its request: it never started, so nothing to end.
      neverStarted++;
      continue;
    }
    if (t.length === 0) {
      lost++;
      sample(
        `lost: no terminal event for ${a.id} (${a.outcome}; request.started ${
          started.has(a.id) ? "stored" : "missing"
        })`,
      );
      continue;
    }
    if (t.length > 1) {
      duplicated++;
      sample(`duplicated: ${t.length} terminal events for ${a.id}`);
    }
    const e = t[0];
    const want = a.terminal === "any" ? undefined : `request.${a.terminal}`;
    // A JSON error answer and its request.failed carry the same status.
    const statusOk = e.type !== "request.failed" || a.terminal !== "failed" ||
      a.outcome === "200 sse error" || e.data.status === a.status;
    const abortOk = a.outcome !== "client abort" || e.type === "request.completed" ||
      e.data.status === 499;
    if ((want && e.type !== want) || !statusOk || !abortOk) {
      mismatched++;
      sample(`mismatch: ${a.id} answered ${a.outcome} but stored ${e.type} ${e.data.status ?? ""}`);
    }
  }
  const ids = new Set(stored.map((e) => e.id));
  const errorLines = run.stderr.split("\n").filter((l) => ERROR_LINE.test(l));
  const gwErrors = answers.filter((a) => a.gatewayError);
  const latencies = answers.filter((a) => a.outcome === "200").map((a) => a.latencyMs)
    .sort((x, y) => x - y);
  const result: ScenarioResult = {
    name: scenario.name,
    about: scenario.about,
    sent: answers.length,
    outcomes,
    servedBy,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    fallbacks: stream.filter((e) => e.type === "fallback.taken").length,
    breaker: {
      opened: stream.filter((e) => e.type === "breaker.opened").length,
      halfOpened: stream.filter((e) => e.type === "breaker.half_opened").length,
      closed: stream.filter((e) => e.type === "breaker.closed").length,
    },
    hits: run.hits,
    events: {
      published: run.bus.published,
      dropped: run.bus.dropped,
      stored: stored.length,
      expectedTerminal: answers.length - neverStarted,
      lost,
      duplicated,
      mismatched,
      duplicateIds: stored.length - ids.size,
    },
    gatewayErrors: gwErrors.length + errorLines.length + (run.crashed ? 1 : 0),
    gatewayErrorSamples: [
      ...gwErrors.slice(0, 3).map((a) => `${a.id}: ${a.gatewayError}`),
      ...errorLines.slice(0, 3),
    ],
    crashed: run.crashed,
    exitCode: run.exit.code,
    notes: run.notes,
    answerSamples: Object.fromEntries(
      answers.filter((a) => a.detail).map((a) => [a.outcome, `${a.id}: ${a.detail}`]),
    ),
    stream,
    violations: [],
  };
  const v = result.violations;
  if (run.crashed) {
    v.push(`the gateway process exited during the load:\n${run.stderr.slice(-2000)}`);
  }
  if (result.gatewayErrors > 0) {
    v.push(
      `${result.gatewayErrors} gateway errors: ${result.gatewayErrorSamples.join(" | ")}`,
    );
  }
  if (run.health !== 200) v.push(`GET /healthz after the load answered ${run.health}`);
  if (run.exit.code !== 0) v.push(`SIGTERM exit code ${run.exit.code}`);
  if (lost || duplicated || mismatched) v.push(samples.join("; "));
  if (result.events.duplicateIds) v.push(`${result.events.duplicateIds} event ids stored twice`);
  if (run.bus.dropped) v.push(`${run.bus.dropped} events dropped by the gateway`);
  if (stored.length < run.bus.published) {
    v.push(`JetStream holds ${stored.length} events, the gateway published ${run.bus.published}`);
  }
  v.push(...scenario.expect(result, opts));
  return result;
}

/** A scenario that could not run at all (its processes did not start …), as a failed row. */
export function unrunResult(scenario: Scenario, error: unknown): ScenarioResult {
  return {
    name: scenario.name,
    about: scenario.about,
    sent: 0,
    outcomes: {},
    servedBy: {},
    p50: NaN,
    p99: NaN,
    fallbacks: 0,
    breaker: { opened: 0, halfOpened: 0, closed: 0 },
    hits: {},
    events: {
      published: 0,
      dropped: 0,
      stored: 0,
      expectedTerminal: 0,
      lost: 0,
      duplicated: 0,
      mismatched: 0,
      duplicateIds: 0,
    },
    gatewayErrors: 0,
    gatewayErrorSamples: [],
    crashed: false,
    exitCode: null,
    notes: {},
    answerSamples: {},
    stream: [],
    violations: [`did not run: ${error instanceof Error ? error.message : String(error)}`],
  };
}

// --- the table ---

const histogram = (o: Record<string, number>) =>
  Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}×${n}`).join(" ");

/** One row per scenario: what was sent, what came back, what the event stream holds. */
export function formatTable(results: ScenarioResult[]): string {
  const head = [
    "scenario",
    "sent",
    "answers (client view)",
    "served a/b",
    "p50/p99 ms",
    "fallbacks",
    "breaker o/h/c",
    "upstream hits a/b",
    "events gw→JetStream",
    "lost/dup",
    "gw errors",
    "result",
  ];
  const rows = results.map((r) => [
    r.name,
    String(r.sent),
    histogram(r.outcomes),
    `${r.servedBy.a ?? 0}/${r.servedBy.b ?? 0}`,
    `${fmt(r.p50)}/${fmt(r.p99)}`,
    String(r.fallbacks),
    `${r.breaker.opened}/${r.breaker.halfOpened}/${r.breaker.closed}`,
    `${r.hits.a ?? 0}/${r.hits.b ?? 0}`,
    `${r.events.published}→${r.events.stored}`,
    `${r.events.lost}/${r.events.duplicated + r.events.duplicateIds}`,
    String(r.gatewayErrors),
    r.violations.length ? "FAIL" : "ok",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

const fmt = (x: number) => Number.isFinite(x) ? x.toFixed(0) : "-";
