// The sequential scenario suite: what production looks like. ONE long-lived gateway process with
// its shipped defaults (the config names only providers, keys and base URLs: no breaker, timeout
// or retry settings), the mock upstream process (with its TCP front, so connections can be
// reset) and a nats-server, then every scenario of ./suite_scenarios.ts one after another on that
// same gateway, so each inherits the state the ones before left. After each scenario the faults
// are cleared and health requests are sent until one is served by the primary again (the
// gateway promises that within 30 s), each of which must be a 200; then /readyz must be 200.
// Events are read back from JetStream to check the story each scenario tells.
//
// Two configurations: `same` (primary a/gpt-4o, fallback a/gpt-4o-mini: one provider, OpenAI
// format) and `split` (fallback b/claude-3-5-haiku-latest, Anthropic format).
//
//   deno task bench:faults --suite                  # both configs on one gateway, 60 s flapping
//   deno task bench:faults --suite --short          # 20 s flapping (what CI runs)
//   deno task bench:faults --suite --config same --only stream_cut,no_done
//
// In CI: tests/bench/suite_same_test.ts and tests/bench/suite_split_test.ts (one gateway each,
// a step per scenario, so `deno test --parallel` runs the two side by side).
import { fromCloudEvent } from "../../src/events/envelope.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { type NatsServer, startNatsServer } from "../../tests/_support/nats_server.ts";
import type { Fault, MockCallRecord } from "../mock/mod.ts";
import { readStreamSettled, settleEvents } from "./events.ts";
import {
  ERROR_LINE,
  type MockControl,
  mockControl,
  type Proc,
  spawnGateway,
  spawnMock,
} from "./procs.ts";
import { type Answer, type Ask, askJson, askStream, type Ref, refName } from "./suite_client.ts";
import {
  type AskOptions,
  MOCK_BYTES,
  MOCK_CHUNKS,
  PROMISES,
  type SuiteConfig,
  type SuiteContext,
  type SuiteScenario,
} from "./suite_scenarios.ts";

export interface SuiteStack {
  mock: MockControl;
  mockProc: Proc;
  nats: NatsServer;
  gateway: Proc;
  /** The gateway's GATEWAY_INSTANCE: its events' source is /gateway/<instance>. */
  instance: string;
  dir: string;
}

/**
 * Mock upstream, nats-server and one gateway with default settings (providers only); `workers`
 * sets its WORKERS (absent: the gateway's own default).
 */
export async function startSuiteStack(workers?: string): Promise<SuiteStack> {
  const mockProc = await spawnMock([
    "--chunks",
    String(MOCK_CHUNKS),
    "--completion-bytes",
    String(MOCK_BYTES),
    "--resets",
  ]);
  const dir = await Deno.makeTempDir({ prefix: "fault-suite-" });
  let nats: NatsServer | undefined;
  try {
    nats = await startNatsServer();
    const keys = [{ value: "env:SUITE_API_KEY" }];
    const config = {
      providers: {
        a: { type: "openai", baseUrl: `${mockProc.url}/a/v1`, keys },
        b: { type: "anthropic", baseUrl: `${mockProc.url}/b/v1`, keys },
      },
    };
    await Deno.writeTextFile(`${dir}/gateway.json`, JSON.stringify(config, null, 2));
    const instance = `suite-${crypto.randomUUID().slice(0, 8)}`;
    const gateway = await spawnGateway({
      GATEWAY_CONFIG: `${dir}/gateway.json`,
      NATS_URL: nats.wsUrl,
      GATEWAY_INSTANCE: instance,
      SUITE_API_KEY: "sk-suite",
      ...(workers ? { WORKERS: workers } : {}),
    });
    await settleEvents(gateway.url, 10_000); // connected to NATS before the first request
    return { mock: mockControl(mockProc.url), mockProc, nats, gateway, instance, dir };
  } catch (e) {
    await nats?.stop();
    await mockProc.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * Stops the gateway with SIGTERM (it must exit 0 by itself) and everything else; returns what
 * went wrong with the gateway's exit.
 */
export async function stopSuiteStack(stack: SuiteStack): Promise<string[]> {
  const problems: string[] = [];
  try {
    if (stack.gateway.exited()) problems.push("the gateway process had already exited");
    const status = await stack.gateway.stop("SIGTERM", 15_000);
    if (status.code !== 0) {
      problems.push(`SIGTERM: exit code ${status.code}\n${stack.gateway.stderr().slice(-2000)}`);
    }
  } finally {
    await stack.mockProc.stop();
    await stack.nats.stop();
    await Deno.remove(stack.dir, { recursive: true }).catch(() => {});
  }
  return problems;
}

export interface ScenarioRun {
  config: SuiteConfig["name"];
  scenario: string;
  about: string;
  answers: Answer[];
  /** Empty = pass. */
  failures: string[];
  notes: string[];
  /** The scenario's events, summarised: what the gateway did. */
  story: string;
  /** ms from clearing the faults to the first answer served by the primary, if it came. */
  recoveryMs?: number;
  healthRequests: number;
  ms: number;
}

export interface SuiteOptions {
  /** The long bench run: 60 s of flapping instead of 20 s. */
  long?: boolean;
  /** The gateway's WORKERS (absent: its default). */
  workers?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

const SENSIBLE = (status: number) =>
  (status >= 400 && status < 500) || [502, 503, 504].includes(status);

const who = (a: Answer) =>
  a.status === 200 ? `200 by ${a.provider}/${a.model}` : `${a.status || a.transport}`;

/** Answers by status: "200×3 503×1"; a stream that ended with an error event counts apart. */
function histogram(answers: Answer[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const k = a.transport
      ? "no answer"
      : a.sse && a.sse.errorEvents
      ? `${a.status} sse error`
      : String(a.status);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, v]) => `${k}×${v}`).join(" ") || "-";
}

/** What every answer must be, whatever the scenario: a success, or an OpenAI-shaped error. */
function commonFailures(a: Answer): string[] {
  if (a.transport) return [`${a.id}: ${a.transport}`];
  if (a.unshaped) return [`${a.id}: error not OpenAI-shaped (${a.status}): ${a.unshaped}`];
  if (a.status === 200) {
    const s = a.sse;
    if (s && s.done === 0 && s.errorEvents === 0) {
      return [`${a.id}: the stream ended without [DONE] or an error event`];
    }
    return [];
  }
  if (!a.error) return [`${a.id}: ${a.status} without an error body`];
  return SENSIBLE(a.status) ? [] : [`${a.id}: status ${a.status} (${a.error.message})`];
}

/** One line per kind of event that tells the story (starts and successes left out). */
export function story(events: GatewayEvent[]): string {
  const counts = new Map<string, number>();
  const pm = (e: { provider: string; model?: string }) =>
    e.model ? `${e.provider}/${e.model}` : `${e.provider} (provider-wide)`;
  for (const e of events) {
    let line: string | undefined;
    switch (e.type) {
      case "attempt.failed":
        line = `failed ${pm(e)} ${e.errorType}${e.status ? ` ${e.status}` : ""}${
          e.code ? ` ${e.code}` : ""
        }`;
        break;
      case "attempt.retrying":
        line = `retry ${pm(e)}`;
        break;
      case "attempt.skipped":
        line = `skipped ${pm(e)} ${e.reason}`;
        break;
      case "attempt.aborted":
        line = `aborted ${pm(e)}`;
        break;
      case "fallback.taken":
        line = `fallback ${e.fromProvider}/${e.fromModel}→${e.provider}/${e.model} (${e.reason})`;
        break;
      case "stream.continued":
        line = `continued ${e.fromProvider}/${e.fromModel}→${e.provider}/${e.model} (${e.mode})`;
        break;
      case "breaker.opened":
      case "breaker.half_opened":
      case "breaker.closed":
        line = `${e.type} ${pm(e)}`;
        break;
      case "ratelimit.blocked":
        line = `ratelimit.blocked ${e.provider}/${e.model ?? `${e.key} (whole key)`} ${e.reason}`;
        break;
      case "model.unavailable":
        line = `model.unavailable ${pm(e)}`;
        break;
      case "request.failed":
        line = `request.failed ${e.status} ${e.errorType}`;
        break;
      case "request.completed":
        line = `served by ${e.provider}/${e.model}`;
        break;
    }
    if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].map(([line, n]) => (n > 1 ? `${line} ×${n}` : line)).join(" · ") || "-";
}

/** Runs one scenario on the suite's gateway, then waits for traffic to come back to the primary. */
export async function runScenario(
  stack: SuiteStack,
  config: SuiteConfig,
  scenario: SuiteScenario,
  opts: SuiteOptions = {},
): Promise<ScenarioRun> {
  const { mock, gateway, nats } = stack;
  const { primary, fallback } = config;
  const prefix = `${config.name}.${scenario.name}.`;
  const run: ScenarioRun = {
    config: config.name,
    scenario: scenario.name,
    about: scenario.about,
    answers: [],
    failures: [],
    notes: [],
    story: "-",
    healthRequests: 0,
    ms: 0,
  };
  if (gateway.exited()) {
    run.failures.push("not run: the gateway process is gone");
    return run;
  }
  const targets = [...new Set([primary.target, fallback.target])];
  const clearFaults = () => Promise.all(targets.map((t) => mock.clearFaults(t)));
  await clearFaults();
  const started = Date.now();
  const stderrFrom = gateway.stderr().length;
  let n = 0;
  const ask = (o: AskOptions = {}, id = `${prefix}${n++}`): Ask => ({
    gatewayUrl: gateway.url,
    id,
    model: refName(primary),
    fallbacks: [refName(fallback)],
    timeoutMs: o.timeoutMs ?? 20_000,
    extra: o.body,
  });
  const record = async (answer: Promise<Answer>) => {
    const a = await answer;
    run.answers.push(a);
    return a;
  };
  const allEvents = async () => {
    const bus = await settleEvents(gateway.url, 10_000);
    const stored = await readStreamSettled(nats, `/gateway/${stack.instance}`, bus.published);
    return stored.map(fromCloudEvent);
  };
  const mine = (e: GatewayEvent) =>
    e.at >= started && (!("requestId" in e) || (e.requestId ?? "").startsWith(prefix));
  const ctx: SuiteContext = {
    config,
    long: opts.long === true,
    async inject(onPrimary: Fault[], onFallback: Fault[] = []) {
      // One queue per target: in `same` both models share target a.
      const scoped = (fs: Fault[], model: string) => fs.map((f) => ({ ...f, model }));
      const queues = new Map<string, Fault[]>(targets.map((t) => [t, []]));
      queues.get(primary.target)!.push(...scoped(onPrimary, primary.model));
      queues.get(fallback.target)!.push(...scoped(onFallback, fallback.model));
      for (const [target, faults] of queues) await mock.setFaults(target, faults);
    },
    json: (o) => record(askJson(ask(o))),
    stream: (o) => record(askStream(ask(o))),
    events: async () => (await allEvents()).filter(mine),
    calls: async (): Promise<MockCallRecord[]> =>
      (await mock.calls()).filter((c) => c.at >= started && targets.includes(c.target)),
    expect(ok, what) {
      if (!ok) run.failures.push(what);
    },
    note: (fact) => void run.notes.push(fact),
    sleep,
  };
  try {
    await scenario.run(ctx);
  } catch (e) {
    run.failures.push(`the scenario itself failed: ${e instanceof Error ? e.stack : e}`);
  }
  run.ms = Date.now() - started;
  for (const a of run.answers) run.failures.push(...commonFailures(a));
  run.story = story((await allEvents().catch(() => [])).filter(mine));

  // Recovery: no faults, same model and fallbacks, until the primary serves again.
  await clearFaults();
  const cleared = Date.now();
  const health: Answer[] = [];
  while (Date.now() - cleared < PROMISES.recoveryMs && !gateway.exited()) {
    const id = `${prefix}health.${health.length}`;
    const h = await askJson(ask({ timeoutMs: 20_000 }, id));
    health.push(h);
    if (h.status === 200 && h.provider === primary.provider && h.model === primary.model) {
      run.recoveryMs = Date.now() - cleared;
      break;
    }
    await sleep(250);
  }
  run.healthRequests = health.length;
  const unhealthy = health.filter((h) => h.status !== 200);
  if (unhealthy.length) {
    const first = unhealthy[0];
    run.failures.push(
      `${unhealthy.length} of ${health.length} health answers not 200 (${histogram(unhealthy)}; ` +
        `first: ${first.error?.message ?? first.transport ?? first.unshaped})`,
    );
  }
  if (run.recoveryMs === undefined) {
    const last = health.at(-1);
    run.failures.push(
      `traffic not back on ${refName(primary)} within ${PROMISES.recoveryMs / 1000} s ` +
        `(${health.length} health requests; the last answered ${last ? who(last) : "-"}); ` +
        `its breaker as the gateway shows it: ${await breakerViews(gateway.url, primary)}`,
    );
  }
  const ready = await fetch(`${gateway.url}/readyz`).then(async (
    r,
  ) => (await r.body?.cancel(), r.status))
    .catch((e) => String(e));
  if (ready !== 200) run.failures.push(`GET /readyz after recovery: ${ready}`);
  if (gateway.exited()) {
    run.failures.push(`the gateway process exited:\n${gateway.stderr().slice(-2000)}`);
  }
  const errors = gateway.stderr().slice(stderrFrom).split("\n").filter((l) => ERROR_LINE.test(l));
  if (errors.length) {
    run.failures.push(
      `the gateway logged ${errors.length} error(s): ${errors.slice(0, 3).join(" | ")}`,
    );
  }
  return run;
}

/**
 * The primary model's breaker as GET /v1/gateway/providers shows it, asked on fresh connections
 * (with workers, each may land on another worker), the distinct answers joined.
 */
async function breakerViews(url: string, ref: Ref): Promise<string> {
  const views = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    try {
      const res = await fetch(`${url}/v1/gateway/providers`, { client });
      const body = await res.json() as {
        data: { id: string; models?: { model: string; breaker: unknown }[] }[];
      };
      const p = body.data.find((d) => d.id === ref.provider);
      views.add(JSON.stringify(p?.models?.find((m) => m.model === ref.model)?.breaker ?? null));
    } catch (e) {
      views.add(`unreadable (${e instanceof Error ? e.message : e})`);
    } finally {
      client.close();
    }
  }
  return [...views].join(" | ");
}

/** Every scenario of each config, in order, on one gateway; `onRun` sees each result as it lands. */
export async function runSuite(
  configs: SuiteConfig[],
  scenarios: readonly SuiteScenario[],
  opts: SuiteOptions = {},
  onRun: (r: ScenarioRun) => void = () => {},
): Promise<{ runs: ScenarioRun[]; shutdown: string[] }> {
  const stack = await startSuiteStack(opts.workers);
  const runs: ScenarioRun[] = [];
  let shutdown: string[] = [];
  try {
    for (const config of configs) {
      for (const s of scenarios) {
        const r = await runScenario(stack, config, s, opts);
        runs.push(r);
        onRun(r);
      }
    }
  } finally {
    shutdown = await stopSuiteStack(stack);
  }
  return { runs, shutdown };
}

// --- the report ---

const servedLine = (r: ScenarioRun, configs: Record<string, SuiteConfig>) => {
  const { primary, fallback } = configs[r.config];
  const by = (ref: { provider: string; model: string }) =>
    r.answers.filter((a) =>
      a.status === 200 && a.provider === ref.provider && a.model === ref.model
    )
      .length;
  return `P${by(primary)} F${by(fallback)}`;
};

/** One row per scenario × config: result, answers, latency, who served, recovery. */
export function formatSuiteTable(
  runs: ScenarioRun[],
  configs: Record<string, SuiteConfig>,
): string {
  const head = [
    "config",
    "scenario",
    "result",
    "answers",
    "latency ms max",
    "served P/F",
    "recovery s",
  ];
  const rows = runs.map((r) => [
    r.config,
    r.scenario,
    r.failures.length ? "FAIL" : "ok",
    histogram(r.answers),
    r.answers.length ? String(Math.round(Math.max(...r.answers.map((a) => a.latencyMs)))) : "-",
    servedLine(r, configs),
    r.recoveryMs === undefined ? "no" : (r.recoveryMs / 1000).toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

/** The details of one run: its failures, notes and story, indented for a log. */
export function describeRun(r: ScenarioRun): string {
  return [
    ...r.failures.map((f) => `  - ${f}`),
    ...r.notes.map((n) => `  · ${n}`),
    `  events: ${r.story}`,
  ].join("\n");
}
