// The scenarios of the sequential suite (bench/faults/suite.ts): each one injects a fault into
// the primary model (and sometimes the fallback), sends a few requests the way a user would, and
// checks what that user would notice plus the story the events tell. They run one after another
// on ONE long-lived gateway with its shipped defaults, so each also inherits whatever state the
// previous ones left behind, as in production. The runner adds the common checks (every answer
// that is not a success is an OpenAI-shaped error with a sensible status, nothing hangs) and,
// after each scenario, the recovery check (traffic back on the primary within 30 s).
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { completionPieces, completionText, type Fault, type MockCallRecord } from "../mock/mod.ts";
import { type Answer, type Ref, refName } from "./suite_client.ts";

/** What the gateway promises with its default config (the suite checks these, not the config). */
export const PROMISES = {
  /** No response headers within this → fall over. */
  headersMs: 30_000,
  /** A stream with no first content within this → fall over. */
  firstTokenMs: 10_000,
  /** A stream with no chunk for this long after content → continue on the next candidate. */
  idleMs: 10_000,
  /** Traffic is back on a recovered primary within this. */
  recoveryMs: 30_000,
};

/** The mock serves every answer as this many pieces of a 64-byte text (suite.ts starts it so). */
export const MOCK_CHUNKS = 6;
export const MOCK_BYTES = 64;

export interface SuiteConfig {
  name: "same" | "split";
  about: string;
  primary: Ref;
  fallback: Ref;
}

export const CONFIGS: Record<SuiteConfig["name"], SuiteConfig> = {
  same: {
    name: "same",
    about: "primary and fallback are two models of provider a (OpenAI format)",
    primary: { provider: "a", model: "gpt-4o", target: "a" },
    fallback: { provider: "a", model: "gpt-4o-mini", target: "a" },
  },
  split: {
    name: "split",
    about: "primary a/gpt-4o (OpenAI format), fallback on provider b (Anthropic format)",
    primary: { provider: "a", model: "gpt-4o", target: "a" },
    fallback: { provider: "b", model: "claude-3-5-haiku-latest", target: "b" },
  },
};

export interface AskOptions {
  timeoutMs?: number;
  /** Extra request body fields. */
  body?: Record<string, unknown>;
}

export interface SuiteContext {
  readonly config: SuiteConfig;
  /** The long bench run (longer flapping); CI runs the short one. */
  readonly long: boolean;
  /** Replaces the faults of the primary's and the fallback's model (each scoped to its model). */
  inject(primary: Fault[], fallback?: Fault[]): Promise<void>;
  /** A JSON request for the primary with the fallback (openai SDK); recorded for the report. */
  json(opts?: AskOptions): Promise<Answer>;
  /** The same as a stream (fetch, SSE framing kept). */
  stream(opts?: AskOptions): Promise<Answer>;
  /** This scenario's events so far, read back from JetStream, oldest first. */
  events(): Promise<GatewayEvent[]>;
  /** The mock's calls since this scenario began. */
  calls(): Promise<MockCallRecord[]>;
  /** Records a failure unless `ok`: what a user would notice, or a gap in the story. */
  expect(ok: boolean, what: string): void;
  /** A fact for the report that is not a pass/fail (e.g. whether a prefill was sent). */
  note(fact: string): void;
  sleep(ms: number): Promise<void>;
}

export interface SuiteScenario {
  name: string;
  about: string;
  run(ctx: SuiteContext): Promise<void>;
}

// --- what the checks look at ---

type Ev<T extends GatewayEvent["type"]> = Extract<GatewayEvent, { type: T }>;

const of = <T extends GatewayEvent["type"]>(
  events: GatewayEvent[],
  type: T,
  pred: (e: Ev<T>) => boolean = () => true,
): Ev<T>[] => events.filter((e): e is Ev<T> => e.type === type && pred(e as Ev<T>));

const is = (r: Ref) => (e: { provider?: string; model?: string }) =>
  e.provider === r.provider && e.model === r.model;

const who = (a: Answer) =>
  a.status === 200 ? `${a.provider}/${a.model}` : `${a.status || a.transport}`;

/** The mock's calls for `r`'s model in this scenario. */
const callsTo = async (ctx: SuiteContext, r: Ref) =>
  (await ctx.calls()).filter((c) => c.target === r.target && c.model === r.model);

const fullText = (r: Ref) => completionText(r.target, MOCK_BYTES);
const partialText = (r: Ref, pieces: number) =>
  completionPieces(r.target, MOCK_BYTES, MOCK_CHUNKS).slice(0, pieces).join("");

/** Each answer is a 200 served by `ref`. */
function servedBy(ctx: SuiteContext, answers: Answer[], ref: Ref) {
  for (const a of answers) {
    ctx.expect(
      a.status === 200 && a.provider === ref.provider && a.model === ref.model,
      `${a.id}: expected 200 from ${refName(ref)}, got ${who(a)}`,
    );
  }
}

/** A stream that ended as one whole answer: exactly one [DONE], no error event, no garbage. */
function whole(ctx: SuiteContext, a: Answer) {
  const s = a.sse;
  const ok = a.status === 200 && !!s && s.done === 1 && s.errorEvents === 0 && s.garbage === 0;
  // No answer at all is reported once, by the runner.
  if (ok || a.transport) return;
  ctx.expect(
    false,
    `${a.id}: expected one whole stream (one [DONE], no error event), got ${
      s
        ? `${s.done}×[DONE], ${s.errorEvents} error event(s)${
          a.error ? ` (${a.error.message})` : ""
        }, ${s.garbage} unparseable frame(s)`
        : who(a)
    }`,
  );
}

function latencyBelow(ctx: SuiteContext, a: Answer, ms: number) {
  ctx.expect(
    a.latencyMs < ms,
    `${a.id}: answered after ${Math.round(a.latencyMs)} ms, expected under ${ms} ms`,
  );
}

/** The fallback was never passed over without being asked (a primary's trouble blocking it). */
function fallbackNeverSkipped(ctx: SuiteContext, events: GatewayEvent[]) {
  const { fallback } = ctx.config;
  const skipped = of(events, "attempt.skipped", is(fallback));
  ctx.expect(
    skipped.length === 0,
    `${refName(fallback)} skipped without a call ${skipped.length}× (${
      [...new Set(skipped.map((e) => e.reason))].join(", ")
    })`,
  );
}

function noSameModelRetry(ctx: SuiteContext, events: GatewayEvent[], why: string) {
  const retries = of(events, "attempt.retrying", is(ctx.config.primary));
  ctx.expect(
    retries.length === 0,
    `${why}: expected no same-model retry, got ${retries.length} attempt.retrying on ${
      refName(ctx.config.primary)
    }`,
  );
}

/** One whole stream served by `ref`, with `ref`'s whole text. */
function wholeFrom(ctx: SuiteContext, a: Answer, ref: Ref) {
  servedBy(ctx, [a], ref);
  whole(ctx, a);
  ctx.expect(
    a.text === fullText(ref),
    `${a.id}: expected ${refName(ref)}'s whole text, got ${JSON.stringify(a.text)}`,
  );
}

/** The primary's whole text as one stream, with no fallback; returns the scenario's events. */
async function wholeFromPrimary(ctx: SuiteContext, a: Answer): Promise<GatewayEvent[]> {
  wholeFrom(ctx, a, ctx.config.primary);
  const events = await ctx.events();
  ctx.expect(of(events, "fallback.taken").length === 0, "expected no fallback");
  return events;
}

async function sequential(n: number, ask: () => Promise<Answer>): Promise<Answer[]> {
  const out: Answer[] = [];
  for (let i = 0; i < n; i++) out.push(await ask());
  return out;
}

/** A stream cut (or stalled) on the primary must reach the client as one continued answer. */
function continued(ctx: SuiteContext, a: Answer, events: GatewayEvent[]) {
  const { primary, fallback } = ctx.config;
  whole(ctx, a);
  const head = partialText(primary, 2);
  const text = a.text ?? "";
  ctx.expect(
    text.startsWith(head) && text.length > head.length && text.endsWith(fullText(fallback)),
    `${a.id}: expected the primary's 2 pieces ${JSON.stringify(head)} continued by the ` +
      `fallback's text, got ${JSON.stringify(text)}`,
  );
  const story = of(events, "stream.continued", (e) => is(fallback)(e));
  ctx.expect(
    story.some((e) => e.fromProvider === primary.provider && e.fromModel === primary.model),
    `expected a stream.continued event from ${refName(primary)} to ${refName(fallback)}, got ${
      of(events, "stream.continued").map((e) =>
        `${e.fromProvider}/${e.fromModel}→${e.provider}/${e.model}`
      ).join(", ") || "none"
    }`,
  );
}

// --- the scenarios ---

const always = (f: Fault): Fault[] => [f];

export const SUITE_SCENARIOS: readonly SuiteScenario[] = [
  {
    name: "rate_limit_retry_after",
    about: "primary answers 429 + Retry-After: 1 once",
    async run(ctx) {
      await ctx.inject([{ kind: "rate_limit", retryAfterSec: 1, times: 1 }]);
      const answers = await sequential(4, () => ctx.json());
      const { primary, fallback } = ctx.config;
      for (const a of answers) {
        ctx.expect(
          a.status === 200 && (is(primary)(a) || is(fallback)(a)),
          `${a.id}: expected 200 from either model, got ${who(a)}`,
        );
        latencyBelow(ctx, a, 3_500);
      }
      const events = await ctx.events();
      fallbackNeverSkipped(ctx, events);
      const blocked = of(events, "ratelimit.blocked", (e) => e.provider === primary.provider);
      ctx.expect(
        blocked.length > 0 && blocked.every((e) => e.model === primary.model),
        `expected ratelimit.blocked naming model ${primary.model} (not the whole key), got ${
          blocked.map((e) => e.model ?? "whole key").join(", ") || "none"
        }`,
      );
    },
  },
  {
    name: "rate_limit_no_retry_after",
    about: "primary answers 429 without any retry hint, persistently",
    async run(ctx) {
      await ctx.inject(always({
        kind: "status",
        status: 429,
        type: "requests",
        code: "rate_limit_exceeded",
        message: "Rate limit reached for gpt-4o in organization org-mock on requests per min " +
          "(RPM): Limit 500, Used 500, Requested 1.",
      }));
      const answers = await sequential(5, () => ctx.json());
      servedBy(ctx, answers, ctx.config.fallback);
      for (const a of answers) latencyBelow(ctx, a, 5_000);
      fallbackNeverSkipped(ctx, await ctx.events());
    },
  },
  {
    name: "error_500_once",
    about: "primary answers 500 once",
    async run(ctx) {
      await ctx.inject([{ kind: "status", status: 500, times: 1 }]);
      const [a] = await sequential(1, () => ctx.json());
      servedBy(ctx, [a], ctx.config.primary);
      const events = await ctx.events();
      const retries = of(events, "attempt.retrying", is(ctx.config.primary));
      ctx.expect(retries.length === 1, `expected 1 same-model retry, got ${retries.length}`);
      ctx.expect(of(events, "fallback.taken").length === 0, "expected no fallback");
    },
  },
  {
    name: "error_503_persistent",
    about: "every call to the primary answers 503",
    async run(ctx) {
      await ctx.inject(always({ kind: "status", status: 503 }));
      const answers = await sequential(8, () => ctx.json());
      const { primary, fallback } = ctx.config;
      servedBy(ctx, answers, fallback);
      const events = await ctx.events();
      fallbackNeverSkipped(ctx, events);
      const opened = of(events, "breaker.opened", (e) => e.provider === primary.provider);
      ctx.expect(
        opened.some((e) => e.model === primary.model),
        `expected breaker.opened for model ${primary.model}, got ${
          opened.map((e) => e.model ?? "provider-wide").join(", ") || "none"
        }`,
      );
      ctx.expect(
        opened.every((e) => e.model !== undefined),
        "a model's 503s opened the provider-wide breaker",
      );
      const called = (await callsTo(ctx, fallback)).length;
      ctx.expect(called >= answers.length, `${refName(fallback)} called ${called}×, expected ≥ 8`);
    },
  },
  {
    name: "tcp_reset",
    about: "the primary's connection is dropped before any response byte",
    async run(ctx) {
      await ctx.inject(always({ kind: "reset" }));
      const answers = await sequential(3, () => ctx.json());
      servedBy(ctx, answers, ctx.config.fallback);
      fallbackNeverSkipped(ctx, await ctx.events());
    },
  },
  {
    name: "no_response",
    about: "the primary never sends headers (JSON request)",
    async run(ctx) {
      await ctx.inject(always({ kind: "hang" }));
      // Waiting longer than the promise would only tell how much later a failure came.
      const a = await ctx.json({ timeoutMs: PROMISES.headersMs + 6_000 });
      servedBy(ctx, [a], ctx.config.fallback);
      latencyBelow(ctx, a, PROMISES.headersMs + 5_000);
    },
  },
  {
    name: "slow_first_token",
    about: "streaming; the primary's first token comes after 15 s",
    async run(ctx) {
      await ctx.inject(always({ kind: "slow_first_token", ms: 15_000 }));
      // Long enough to see a gateway that waits 15 s and retries the same model once.
      const a = await ctx.stream({ timeoutMs: 35_000 });
      wholeFrom(ctx, a, ctx.config.fallback);
      latencyBelow(ctx, a, PROMISES.firstTokenMs + 3_000);
      noSameModelRetry(ctx, await ctx.events(), "first-token timeout");
    },
  },
  {
    name: "stream_cut",
    about: "streaming; the primary's stream breaks after 2 pieces",
    async run(ctx) {
      await ctx.inject(always({ kind: "cut", afterChunks: 2 }));
      const a = await ctx.stream({ timeoutMs: 30_000 });
      continued(ctx, a, await ctx.events());
    },
  },
  {
    name: "stream_stall",
    about: "streaming; the primary stalls after 2 pieces (connection open)",
    async run(ctx) {
      await ctx.inject(always({ kind: "stall", afterChunks: 2 }));
      const a = await ctx.stream({ timeoutMs: PROMISES.idleMs + 10_000 });
      continued(ctx, a, await ctx.events());
      latencyBelow(ctx, a, PROMISES.idleMs + 5_000);
    },
  },
  {
    name: "malformed_chunk",
    about: "streaming; one garbage event mid-stream from the primary",
    async run(ctx) {
      await ctx.inject(always({ kind: "malformed_chunk", afterChunks: 2 }));
      const events = await wholeFromPrimary(ctx, await ctx.stream());
      ctx.expect(
        of(events, "stream.continued").length === 0,
        "expected no continuation on another model",
      );
      const { fallback } = ctx.config;
      const called = (await callsTo(ctx, fallback)).length;
      ctx.expect(called === 0, `${refName(fallback)} was called ${called}×`);
    },
  },
  {
    name: "no_done",
    about: "streaming; the primary ends after finish_reason without [DONE]",
    async run(ctx) {
      await ctx.inject(always({ kind: "no_done" }));
      const events = await wholeFromPrimary(ctx, await ctx.stream());
      const failed = of(events, "attempt.failed");
      ctx.expect(
        failed.length === 0,
        `expected no attempt.failed, got ${failed.map((e) => `${e.errorType}: ${e.message}`)}`,
      );
    },
  },
  {
    name: "context_length",
    about: "primary: context_length_exceeded → fallback; both → 400 with the provider's words",
    async run(ctx) {
      await ctx.inject(always({ kind: "context_length" }));
      const a = await ctx.json();
      servedBy(ctx, [a], ctx.config.fallback);
      noSameModelRetry(ctx, await ctx.events(), "context length");
      await ctx.inject(always({ kind: "context_length" }), always({ kind: "context_length" }));
      const both = await ctx.json();
      ctx.expect(
        both.status === 400 && !!both.error &&
          /maximum context length|prompt is too long/i.test(both.error.message),
        `${both.id}: with no model able to take the prompt, expected a 400 with the ` +
          `provider's context-length message, got ${both.status || both.transport} ${
            both.error?.message ?? both.unshaped ?? ""
          }`,
      );
    },
  },
  {
    name: "content_filter",
    about: "primary refuses the prompt on content policy (400)",
    async run(ctx) {
      await ctx.inject(always({ kind: "content_filter" }));
      const a = await ctx.json();
      ctx.expect(
        a.status === 400 && !!a.error && /safety system/.test(a.error.message),
        `${a.id}: expected the provider's content-policy 400, got ${a.status || a.transport} ${
          a.error?.message ?? a.unshaped ?? ""
        }`,
      );
      latencyBelow(ctx, a, 2_000);
      const { fallback } = ctx.config;
      const called = (await callsTo(ctx, fallback)).length;
      ctx.expect(called === 0, `${refName(fallback)} was called ${called}× for a refused prompt`);
    },
  },
  {
    name: "prefill_rejected",
    about: "streaming; primary cut after 2 pieces, the fallback rejects assistant prefill",
    async run(ctx) {
      await ctx.inject(always({ kind: "cut", afterChunks: 2 }), always({ kind: "reject_prefill" }));
      const a = await ctx.stream({ timeoutMs: 30_000 });
      whole(ctx, a);
      const head = partialText(ctx.config.primary, 2);
      const text = a.text ?? "";
      ctx.expect(
        text.startsWith(head) && text.length > head.length,
        `${a.id}: expected the primary's 2 pieces continued, got ${JSON.stringify(text)}`,
      );
      const { fallback } = ctx.config;
      const prefills = (await callsTo(ctx, fallback)).filter((c) => c.prefill);
      ctx.note(
        prefills.length
          ? `a prefill was sent to ${refName(fallback)} ${prefills.length}× and rejected`
          : `no prefill was sent to ${refName(fallback)}`,
      );
    },
  },
  {
    name: "flapping",
    about: "primary toggles 503 / healthy every 2 s under ~5 requests/s",
    async run(ctx) {
      const seconds = ctx.long ? 60 : 20;
      const end = Date.now() + seconds * 1000;
      const toggling = (async () => {
        for (let broken = true; Date.now() < end; broken = !broken) {
          await ctx.inject(broken ? always({ kind: "status", status: 503 }) : []);
          await ctx.sleep(Math.min(2_000, end - Date.now()));
        }
        await ctx.inject([]);
      })();
      // Open loop: a request every 200 ms, whatever the answers do.
      const sent: Promise<Answer>[] = [];
      for (let at = Date.now(); at < end; at += 200) {
        await ctx.sleep(at - Date.now());
        sent.push(ctx.json({ timeoutMs: 40_000 }));
      }
      const answers = await Promise.all(sent);
      await toggling;
      const { primary, fallback } = ctx.config;
      const bad = answers.filter((a) => a.status !== 200);
      ctx.expect(
        bad.length === 0,
        `${bad.length} of ${answers.length} requests not answered 200 (${
          [...new Set(bad.map(who))].join(", ")
        })`,
      );
      const count = (r: Ref) => answers.filter((a) => a.status === 200 && is(r)(a)).length;
      ctx.note(`served ${count(primary)} by the primary, ${count(fallback)} by the fallback`);
    },
  },
  {
    name: "accounting",
    about: "a failover answer (JSON and stream) names the model that served it",
    async run(ctx) {
      await ctx.inject(always({ kind: "status", status: 503 }));
      const { fallback } = ctx.config;
      const json = await ctx.json();
      servedBy(ctx, [json], fallback);
      if (json.status === 200) {
        const b = json.body;
        const extra = b.extra_fields ?? {};
        ctx.expect(b.model === fallback.model, `${json.id}: body model ${b.model}`);
        ctx.expect(
          typeof b.usage?.prompt_tokens === "number" &&
            typeof b.usage?.completion_tokens === "number",
          `${json.id}: usage missing (${JSON.stringify(b.usage)})`,
        );
        ctx.expect(
          json.fallbackIndex === 1 && extra.fallback_index === 1 &&
            extra.provider === fallback.provider && extra.model === fallback.model,
          `${json.id}: headers (${json.provider}/${json.model} #${json.fallbackIndex}) and ` +
            `extra_fields (${extra.provider}/${extra.model} #${extra.fallback_index}) disagree`,
        );
      }
      const stream = await ctx.stream({ body: { stream_options: { include_usage: true } } });
      servedBy(ctx, [stream], fallback);
      if (stream.status !== 200) return;
      whole(ctx, stream);
      const chunks = stream.sse?.chunks ?? [];
      const models = [...new Set(chunks.map((c) => c.model))];
      ctx.expect(
        models.length === 1 && models[0] === fallback.model,
        `${stream.id}: chunk models ${models.join(", ")}`,
      );
      ctx.expect(
        chunks.some((c) => typeof c.usage?.completion_tokens === "number"),
        `${stream.id}: no usage chunk`,
      );
      ctx.expect(
        stream.fallbackIndex === 1,
        `${stream.id}: fallback index ${stream.fallbackIndex}`,
      );
    },
  },
];
