// Bad input against a real listening gateway: ≥ 1,000 seeded cases of truncated and invalid
// JSON, wrong types, bodies over limits.maxBodyBytes, deep nesting, bad headers, unknown providers
// and models and invalid UTF-8 on the OpenAI, embeddings, Anthropic and GenAI routes, plus slow
// clients that trickle a body and hang up. Whatever arrives, a client gets a 4xx in its route's
// documented error shape (or a real answer, when a mutation happens to be valid), never a 5xx;
// the gateway logs no error, keeps serving, and its memory stays bounded.
//
// FUZZ_SEED=<n> replays a run (FUZZ_CASES=<n> runs more); a failure names the seed and each case.
// Memory: the bound below is on this whole process (client, mock and gateway together). A
// gateway run as its own process under this input levels off (≈ 225 MiB RSS from ≈ 4,000 cases
// on, flat to 16,000), and the V8 heap after a forced GC grows by only a few MiB.
import assert from "node:assert/strict";
import { type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import { buildConfig } from "../../src/config.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { type RunningGateway, startGateway } from "../../src/server.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261125);
const CASES = Number(Deno.env.get("FUZZ_CASES") ?? 1_200);
const MAX_BODY = 64 * 1024;
const enc = new TextEncoder();

/** mulberry32: small, fast, seedable. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

// --- routes and their documented error shapes ---

type Shape = "openai" | "anthropic" | "google";

interface Route {
  name: string;
  shape: Shape;
  path(rng: Rng, model: string): string;
  /** A valid body for this route (the model goes in the path for GenAI). */
  body(rng: Rng, model: string): Record<string, unknown>;
}

const MODELS = ["a/gpt-4o-mini", "b/claude-3-5-haiku-latest", "g/gemini-2.0-flash"];
const hello = [{ role: "user", content: "hello" }];

const ROUTES: readonly Route[] = [
  {
    name: "chat",
    shape: "openai",
    path: (rng) =>
      rng.pick([
        "/v1/chat/completions",
        "/openai/v1/chat/completions",
        "/litellm/chat/completions",
      ]),
    body: (rng, model) => ({
      model,
      messages: hello,
      ...(rng.chance(0.3) ? { fallbacks: [rng.pick(MODELS)] } : {}),
      ...(rng.chance(0.3) ? { stream: true } : {}),
      ...(rng.chance(0.3) ? { max_tokens: 16, temperature: 0.5 } : {}),
    }),
  },
  {
    name: "embeddings",
    shape: "openai",
    path: () => "/v1/embeddings",
    body: (rng) => ({
      model: rng.pick(["a/text-embedding-3-small", "g/text-embedding-004"]),
      input: rng.chance(0.5) ? "hello" : ["hello", "world"],
    }),
  },
  {
    name: "anthropic",
    shape: "anthropic",
    path: () => "/anthropic/v1/messages",
    body: (rng, model) => ({
      model,
      max_tokens: 16,
      messages: hello,
      ...(rng.chance(0.3) ? { system: "be brief" } : {}),
      ...(rng.chance(0.3) ? { stream: true } : {}),
    }),
  },
  {
    name: "genai",
    shape: "google",
    path: (rng, model) =>
      `/genai/${rng.pick(["v1", "v1beta"])}/models/${
        rng.chance(0.5) ? encodeURIComponent(model) : model
      }:${rng.pick(["generateContent", "streamGenerateContent", "streamGenerateContent?alt=sse"])}`,
    body: (rng) => ({
      contents: [{ role: "user", parts: [{ text: "hello" }] }],
      ...(rng.chance(0.3) ? { generationConfig: { temperature: 0.5, maxOutputTokens: 16 } } : {}),
    }),
  },
];

// --- mutations ---

interface Case {
  id: number;
  route: Route;
  kind: string;
  path: string;
  headers: Record<string, string>;
  body: BodyInit;
  /** Only these statuses are right for this case (else: anything below 500). */
  expect?: number[];
  /** A request id the gateway must not echo. */
  badRequestId?: string;
  /** Checked on a 400: the message names this. */
  names?: string;
}

const WRONG_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  "",
  "x",
  "NaN",
  [],
  {},
  [1, "a", null],
  { a: { b: [] } },
  "a".repeat(2_000),
  [[[[[]]]]],
];

const BROKEN_JSON: readonly string[] = [
  "",
  " ",
  "{",
  "}",
  "[",
  "null",
  "true",
  "0",
  '"string"',
  "[]",
  "{'model': 'a/b'}",
  '{"model": "a/b",}',
  '{"model": a/b}',
  '{"model": "a/b" "messages": []}',
  '{"model": NaN}',
  '{"model": "a/b", "messages": [{"role": "user", "content": "hi"}]}garbage',
  "\u0000",
  '{"a":1}{"b":2}',
  '{"model":"\\ud800"}',
  '{"model":"\\x41"}',
  "<xml/>",
  "model=a%2Fb&messages=hi",
];

/** Every path to a value inside `v`, as key lists. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  if (at.length) out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  }
  return out;
}

function setAt(root: Record<string, unknown>, path: (string | number)[], value: unknown) {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    o = o[k] as Record<string | number, unknown>;
    if (typeof o !== "object" || o === null) return; // an earlier mutation replaced a parent
  }
  const last = path[path.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
}

const clone = <T>(v: T): T => structuredClone(v);

function randomText(rng: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0x20, 0x7e));
  return s;
}

/** Deep nesting: `[[[…]]]` or `{"a":{"a":…}}`, `depth` levels, as JSON text. */
function nested(rng: Rng, depth: number): string {
  return rng.chance(0.5)
    ? "[".repeat(depth) + "]".repeat(depth)
    : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** Splices invalid UTF-8 into the bytes of a JSON string value. */
function invalidUtf8(rng: Rng, json: string): Uint8Array<ArrayBuffer> {
  const bytes = enc.encode(json);
  const at = json.indexOf('"hello') + 1 || json.indexOf('"', 1) + 1;
  const bad = rng.pick([[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [
    0xf8,
    0x88,
    0x80,
    0x80,
    0x80,
  ], [0x80]]);
  return new Uint8Array([...bytes.subarray(0, at), ...bad, ...bytes.subarray(at)]);
}

/** A body stream with no content-length (chunked), `size` bytes in pieces. */
function chunkedBody(text: string): ReadableStream<Uint8Array> {
  const bytes = enc.encode(text);
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.subarray(at, at += 16 * 1024));
    },
  });
}

const KINDS = [
  "truncated",
  "invalid_json",
  "wrong_type",
  "missing_field",
  "not_an_object",
  "huge",
  "huge_chunked",
  "deep",
  "content_type",
  "huge_header",
  "bad_request_id",
  "fallbacks_header",
  "unknown_provider",
  "unknown_model",
  "invalid_utf8",
] as const;

function makeCase(rng: Rng, id: number): Case {
  const route = rng.pick(ROUTES);
  const kind = rng.pick(KINDS);
  let model = rng.pick(MODELS);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const c = (body: BodyInit, extra: Partial<Case> = {}): Case => ({
    id,
    route,
    kind,
    path: route.path(rng, model),
    headers,
    body,
    ...extra,
  });
  const valid = route.body(rng, model);
  const text = JSON.stringify(valid);
  switch (kind) {
    case "truncated":
      return c(text.slice(0, rng.int(0, text.length - 1)), { expect: [400] });
    case "invalid_json":
      return c(rng.chance(0.7) ? rng.pick(BROKEN_JSON) : randomText(rng, rng.int(1, 200)), {
        expect: [400],
      });
    case "wrong_type": {
      const body = clone(valid);
      const ps = paths(body);
      for (let i = rng.int(1, 3); i > 0; i--) {
        setAt(body, rng.pick(ps), clone(rng.pick(WRONG_VALUES)));
      }
      return c(JSON.stringify(body));
    }
    case "missing_field": {
      const body = clone(valid);
      setAt(body, rng.pick(paths(body)), undefined);
      return c(JSON.stringify(body));
    }
    case "not_an_object":
      return c(JSON.stringify(rng.pick(WRONG_VALUES.filter((v) => typeof v !== "object"))), {
        expect: [400],
      });
    case "huge":
    case "huge_chunked": {
      const big = { ...valid, padding: "x".repeat(MAX_BODY + rng.int(1, 4 * MAX_BODY)) };
      const body = JSON.stringify(big);
      return c(kind === "huge" ? body : chunkedBody(body), { expect: [413] });
    }
    case "deep": {
      // Up to the size limit: 64 KiB holds ~32k levels of [].
      const depth = rng.pick([100, 1_000, 10_000, rng.int(1, 30_000)]);
      const where = rng.int(0, 3);
      const deep = nested(rng, depth);
      if (route.name === "genai" && where === 0) {
        // Google's OpenAPI schemas are translated recursively: the deepest trap of all.
        const schema = rng.chance(0.5)
          ? nested(rng, depth)
          : '{"type":"OBJECT","properties":{"x":'.repeat(depth) + '{"type":"STRING"}' +
            "}}".repeat(depth);
        return c(
          `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"generationConfig":{"responseSchema":${schema}}}`,
        );
      }
      if (where === 0) return c(text.replace(/"hello"/, deep));
      if (where === 1) return c(`${text.slice(0, -1)},"extra":${deep}}`);
      if (where === 2) return c(deep, { expect: [400, 413] });
      return c(
        `${text.slice(0, -1)},"tools":[{"type":"function","function":{"name":"f",` +
          `"parameters":${deep}}}]}`,
      );
    }
    case "content_type":
      headers["content-type"] = rng.pick([
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zzz",
        "application/json; charset=utf-16",
        "application/json; charset=latin1",
        "",
        "*/*",
        randomText(rng, rng.int(1, 100)),
      ]);
      return c(rng.chance(0.5) ? text : randomText(rng, rng.int(0, 300)));
    case "huge_header":
      // Kept under the HTTP layer's own header limit: past it Deno's server answers a bare 400.
      headers[rng.pick(["x-request-id", "x-gateway-fallbacks", "authorization", "x-junk"])] =
        randomText(rng, rng.int(4_096, 48_000)).replace(/\s/g, "a");
      return c(text);
    case "bad_request_id": {
      const bad = rng.pick([
        "x".repeat(rng.int(129, 2_000)),
        "has space",
        "semi;colon",
        'quote"d',
        "slash/es",
        "\u00e9t\u00e9",
        "<script>",
        "a,b",
        "{json}",
      ]);
      headers["x-request-id"] = bad;
      return c(text, { badRequestId: bad });
    }
    case "fallbacks_header":
      headers["x-gateway-fallbacks"] = rng.pick([
        ",,,",
        "nope/x",
        "a",
        "/",
        "a/b,".repeat(50),
        randomText(rng, rng.int(1, 300)),
        "a/b, nope/c",
      ]);
      return c(text);
    case "unknown_provider": {
      model = rng.pick(["nope/x", "x", "/x", "A/x", "../../etc/passwd", "open ai/x", "\u00e9/x"]);
      const body = route.name === "genai" ? valid : { ...valid, model };
      if (rng.chance(0.5) && route.name !== "genai") {
        Object.assign(body, { model: rng.pick(MODELS), fallbacks: [model, "zzz/y"] });
      }
      const path = route.name === "genai"
        ? `/genai/v1beta/models/${
          rng.pick([encodeURIComponent(model), "%zz", "%E0%A4%A", "", "nope%2Fx"])
        }:generateContent`
        : route.path(rng, model);
      return { ...c(JSON.stringify(body)), path };
    }
    case "unknown_model": {
      // A known provider with a model it does not list: passed upstream (the mock answers). For
      // Gemini the model is a path segment, so no "/" there (the upstream would 404 the URL).
      const p = rng.pick(["a", "b", "g"]);
      const names = ["no-such-model", "x".repeat(300), "\u00fc", "gpt-5-nonexistent"];
      if (p === "g" && rng.chance(0.3)) names.push("../../../x/v1beta/models/m", "..");
      model = `${p}/${rng.pick(p === "g" ? names : [...names, "a/b/c", "%2F"])}`;
      const body = route.name === "genai" ? valid : { ...valid, model };
      return c(JSON.stringify(body));
    }
    case "invalid_utf8":
      return c(invalidUtf8(rng, text), { expect: [400] });
  }
}

// --- checking an answer ---

function shapeOk(shape: Shape, status: number, body: unknown): boolean {
  const b = body as Record<string, Record<string, unknown>>;
  if (shape === "openai") {
    return typeof b?.error?.message === "string" && typeof b.error.type === "string" &&
      "code" in b.error && "param" in b.error;
  }
  if (shape === "anthropic") {
    return (b as unknown as { type: string }).type === "error" &&
      typeof b.error?.type === "string" && typeof b.error?.message === "string";
  }
  return b?.error?.code === status && typeof b.error.message === "string" &&
    typeof b.error.status === "string";
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

async function check(gw: RunningGateway, k: Case): Promise<string | undefined> {
  const where = `#${k.id} ${k.kind} ${k.route.name} ${k.path.slice(0, 80)}`;
  let res: Response;
  try {
    res = await fetch(`${gw.url}${k.path}`, { method: "POST", headers: k.headers, body: k.body });
  } catch (e) {
    return `${where}: no answer (${(e as Error).message})`;
  }
  const text = await res.text();
  if (res.status >= 500) return `${where}: ${res.status} ${text.slice(0, 300)}`;
  if (k.expect && !k.expect.includes(res.status)) {
    return `${where}: ${res.status}, expected ${k.expect.join("/")}: ${text.slice(0, 200)}`;
  }
  const id = res.headers.get("x-request-id");
  if (!id || !REQUEST_ID.test(id)) return `${where}: x-request-id ${id}`;
  if (k.badRequestId !== undefined && id === k.badRequestId) {
    return `${where}: echoed an invalid x-request-id`;
  }
  if (res.status >= 400) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return `${where}: ${res.status} body is not JSON: ${text.slice(0, 200)}`;
    }
    if (!shapeOk(k.route.shape, res.status, json)) {
      return `${where}: ${res.status} not in ${k.route.shape}'s error shape: ${text.slice(0, 200)}`;
    }
    if (res.status === 413 && !/maxBodyBytes/.test(text)) return `${where}: 413 says no limit`;
  } else if (res.status !== 200) {
    return `${where}: unexpected ${res.status}`;
  } else if (text.length === 0) {
    return `${where}: empty 200`;
  }
  return undefined;
}

// --- slow clients over raw TCP ---

async function rawClient(
  port: number,
  pieces: (string | Uint8Array)[],
  gapMs: number,
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    for (const p of pieces) {
      await conn.write(typeof p === "string" ? enc.encode(p) : p);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  } catch {
    // The server may answer and close first; what matters is what it does afterwards.
  } finally {
    conn.close(); // abandoned: the rest never comes
  }
}

function slowClients(port: number): Promise<void>[] {
  const head = (path: string, extra: string) =>
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${extra}\r\n`;
  const body = '{"model":"a/gpt-4o-mini","messages":[{"role":"user","content":"hel';
  const trickle = (s: string) => s.split("");
  return [
    // Declared 5,000 bytes, sent a few, one by one, then gone.
    rawClient(port, [
      head("/v1/chat/completions", "content-length: 5000\r\n"),
      ...trickle(body.slice(0, 30)),
    ], 15),
    rawClient(port, [head("/anthropic/v1/messages", "content-length: 900\r\n"), body], 200),
    rawClient(port, [head("/v1/embeddings", "content-length: 100\r\n"), '{"model":'], 300),
    // Chunked, a chunk cut short.
    rawClient(port, [
      head("/v1/chat/completions", "transfer-encoding: chunked\r\n"),
      "40\r\n",
      body.slice(0, 20),
    ], 150),
    rawClient(port, [
      head("/genai/v1beta/models/a%2Fgpt-4o-mini:generateContent", "content-length: 400\r\n"),
      '{"contents":[{"role":"user","parts":[{"te',
    ], 250),
    // Headers never finished.
    rawClient(port, ["POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-le"], 300),
  ];
}

// --- the test ---

async function withGateway(
  fn: (gw: RunningGateway, mock: MockUpstream, errors: string[]) => Promise<void>,
  maxBodyBytes = MAX_BODY,
) {
  const mock = await startMockUpstream();
  const errors: string[] = [];
  const keys = [{ value: "env:FUZZ_KEY" }];
  const config = buildConfig(
    {
      port: 0,
      providers: {
        a: { type: "openai", baseUrl: `${mock.url}/a/v1`, keys },
        b: { type: "anthropic", baseUrl: `${mock.url}/b/v1`, keys },
        g: { type: "gemini", baseUrl: `${mock.url}/g/v1beta`, keys },
      },
      retries: { max: 0 },
      limits: { maxBodyBytes },
    },
    (n) => (n === "FUZZ_KEY" ? "sk-fuzz" : undefined),
    "fuzz",
  );
  const logger = createLogger("error", (line) => errors.push(line));
  const gw = startGateway(config, { logger, hostname: "127.0.0.1" });
  try {
    await fn(gw, mock, errors);
  } finally {
    await gw.shutdown(1_000);
    await mock.close();
  }
}

Deno.test(`fuzz (seed ${SEED}): ${CASES} bad inputs get 4xx in each route's shape, never 5xx`, async () => {
  await withGateway(async (gw, _mock, errors) => {
    const rng = prng(SEED);
    // Warm up (JIT, connections) before the memory baseline.
    for (let i = 0; i < 20; i++) assert.equal(await check(gw, makeCase(prng(i), i)), undefined);
    const rssBefore = Deno.memoryUsage().rss;
    const failures: string[] = [];
    const kinds: Record<string, number> = {};
    // Made batch by batch (same sequence for a seed), so the test itself holds no old bodies.
    for (let i = 0; i < CASES; i += 8) {
      const batch = Array.from({ length: Math.min(8, CASES - i) }, (_, j) => makeCase(rng, i + j));
      const results = await Promise.all(batch.map((k) => check(gw, k)));
      for (const [j, r] of results.entries()) {
        kinds[batch[j].kind] = (kinds[batch[j].kind] ?? 0) + 1;
        if (r) failures.push(r);
      }
    }
    assert.deepEqual(
      failures.slice(0, 15),
      [],
      `seed ${SEED}: ${failures.length} of ${CASES} cases failed`,
    );
    // Every kind of bad input was tried many times.
    for (const k of KINDS) assert.ok((kinds[k] ?? 0) >= 30, `${k}: ${kinds[k]} cases`);

    // Still alive and serving.
    const health = await fetch(`${gw.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const ok = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "a/gpt-4o-mini", messages: hello }),
    });
    const okText = await ok.text();
    assert.equal(ok.status, 200, okText);
    assert.deepEqual(errors, [], "the gateway logged errors");
    assert.equal(gw.gateway.inFlight, 0, "nothing left in flight");

    const growthMb = (Deno.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(`fuzz: ${CASES} cases, seed ${SEED}, RSS +${growthMb.toFixed(1)} MiB`);
    assert.ok(growthMb < 300, `RSS grew by ${growthMb.toFixed(0)} MiB over ${CASES} cases`);
  });
});

Deno.test("fuzz: deep schemas, climbing model names and abandoned bodies are 400s", async () => {
  await withGateway(async (gw, mock, errors) => {
    const depth = 10_000; // ~350 KB: the stack gave out well before this depth
    const schema = '{"type":"OBJECT","properties":{"x":'.repeat(depth) + '{"type":"STRING"}' +
      "}}".repeat(depth);
    for (
      const [field, body] of [
        [
          "generationConfig.responseSchema",
          `{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"responseSchema":${schema}}}`,
        ],
        [
          "tools[0].functionDeclarations[0].parameters",
          `{"contents":[{"parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":${schema}}]}]}`,
        ],
      ]
    ) {
      const res = await fetch(`${gw.url}/genai/v1beta/models/a%2Fgpt-4o-mini:generateContent`, {
        method: "POST",
        body,
      });
      const json = await res.json();
      assert.equal(res.status, 400, JSON.stringify(json));
      assert.equal(json.error.status, "INVALID_ARGUMENT");
      assert.match(json.error.message, new RegExp(`^${field.replace(/[.[\]]/g, "\\$&")}: nested`));
    }
    // A schema of ordinary depth is still translated and served.
    const fine = await fetch(`${gw.url}/genai/v1beta/models/a%2Fgpt-4o-mini:generateContent`, {
      method: "POST",
      body: JSON.stringify({
        contents: [{ parts: [{ text: "hi" }] }],
        generationConfig: {
          responseSchema: { type: "OBJECT", properties: { x: { type: "STRING" } } },
        },
      }),
    });
    assert.equal(fine.status, 200, await fine.text());

    // A model name that climbs out of the provider's base URL (Gemini puts it in the path) is
    // refused before any call: the provider's key never reaches another path of its host.
    for (const model of ["g/../../../other/v1beta/models/x", "g/models/../../x"]) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ model, messages: hello }),
      });
      const json = await res.json();
      assert.equal(res.status, 400, JSON.stringify(json));
      assert.match(json.error.message, /"\." and "\.\." path segments are not allowed/);
    }
    assert.deepEqual(Object.keys(mock.allHits()).filter((t) => t !== "a"), []);

    // Slow clients trickle part of a body and hang up, while others are served meanwhile.
    const slow = slowClients(gw.port);
    const meanwhile = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "a/gpt-4o-mini", messages: hello }),
    });
    assert.equal(meanwhile.status, 200);
    await meanwhile.body?.cancel();
    await Promise.all(slow);
    await new Promise((r) => setTimeout(r, 200)); // the server notices the hang-ups
    assert.deepEqual(errors, [], "an abandoned body is not an internal error");
    const health = await fetch(`${gw.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  }, 1024 * 1024);
});

// --- the operator gate, /metrics and /v1/models under garbage credentials ---

const FUZZ_ADMIN = "fuzz-admin-key-0123456789";
const FUZZ_METRICS = "fuzz-metrics-token";
const FUZZ_VK = "vk-fuzz-virtual-key-0001";

/** A garbage Authorization or Cookie value: random bytes of the header alphabet, sometimes huge. */
function garbageHeader(rng: Rng): string {
  const n = rng.pick([0, 1, 7, 64, 1_000, rng.int(4_096, 40_000)]);
  const base = randomText(rng, n);
  return rng.pick([
    base,
    `Bearer ${base.replace(/\s/g, "a")}`,
    `Bearer ${FUZZ_ADMIN.slice(0, rng.int(0, FUZZ_ADMIN.length - 1))}`, // never the whole key
    `bearer   ${FUZZ_ADMIN}x`,
    "Bearer",
    "Basic " + btoa(base.slice(0, 100)),
    `Bearer ${base.slice(0, 40)} ${base.slice(40, 80)}`,
  ]);
}

function garbageCookie(rng: Rng): string {
  const t = () => randomText(rng, rng.int(0, 200)).replace(/;/g, "");
  const exp = rng.pick(["0", "9".repeat(16), String(Date.now() + 60_000), "-1", "x"]);
  return rng.pick([
    t(),
    `gateway_session=${t()}`,
    `gateway_session=v1.${exp}.${"0".repeat(32)}.${"A".repeat(43)}`,
    `gateway_session="v1.${exp}.${t()}"`,
    ";;;;=;=",
    `a=1; gateway_session; gateway_session==; ${t()}`,
    `gateway_session=${"v1.".repeat(rng.int(1, 5000))}`,
    "gateway_session=" + "%".repeat(rng.int(1, 1000)),
  ]);
}

Deno.test(`fuzz (seed ${SEED}): garbage credentials on operator endpoints, /metrics and /v1/models are clean 4xx`, async () => {
  const errors: string[] = [];
  const env: Record<string, string> = {
    GATEWAY_ADMIN_KEY: FUZZ_ADMIN,
    METRICS_TOKEN: FUZZ_METRICS,
    FUZZ_VK,
  };
  const config = buildConfig(
    {
      port: 0,
      providers: { a: { type: "openai", baseUrl: "http://127.0.0.1:9/v1", models: ["m"] } },
      virtualKeys: [{ name: "fuzz", key: "env:FUZZ_VK", providers: [{ provider: "a" }] }],
    },
    (n) => env[n],
    "fuzz",
  );
  const logger = createLogger("error", (line) => errors.push(line));
  const gw = startGateway(config, { logger, hostname: "127.0.0.1" });
  const rng = prng(SEED ^ 0x5eed);
  const paths = [
    "/v1/gateway/events",
    "/v1/gateway/providers",
    "/v1/gateway/x",
    "/dashboard",
    "/admin/keys",
    "/metrics",
    "/v1/models",
    "/v1/models/a/m",
    "/openai/v1/models",
    "/openai/v1/gateway/providers",
  ];
  try {
    const failures: string[] = [];
    for (let i = 0; i < 400; i += 8) {
      await Promise.all(Array.from({ length: 8 }, async (_, j) => {
        const id = i + j;
        const login = rng.chance(0.15);
        const path = login ? "/dashboard/session" : rng.pick(paths);
        const headers: Record<string, string> = {};
        if (rng.chance(0.8)) headers.authorization = garbageHeader(rng);
        if (rng.chance(0.6)) headers.cookie = garbageCookie(rng);
        if (rng.chance(0.3)) headers.accept = rng.pick(["text/html", "*/*", randomText(rng, 50)]);
        if (rng.chance(0.2)) headers["x-forwarded-proto"] = rng.pick(["https", "", "a,b"]);
        const init: RequestInit = { headers };
        if (login) {
          init.method = "POST";
          headers["content-type"] = rng.pick([
            "application/json",
            "application/x-www-form-urlencoded",
            randomText(rng, 20),
          ]);
          init.body = rng.pick([
            `key=${encodeURIComponent(randomText(rng, rng.int(0, 300)))}`,
            "key=%zz%",
            JSON.stringify({ key: rng.pick([null, 1, [], randomText(rng, 40)]) }),
            randomText(rng, rng.int(0, 20_000)),
            "x".repeat(rng.int(8_000, 70_000)),
          ]);
        }
        const where = `#${id} ${init.method ?? "GET"} ${path}`;
        let res: Response;
        try {
          res = await fetch(`${gw.url}${path}`, init);
        } catch (e) {
          failures.push(`${where}: no answer (${(e as Error).message})`);
          return;
        }
        const text = await res.text();
        if (res.status < 400 || res.status >= 500) {
          failures.push(`${where}: ${res.status} ${text.slice(0, 200)}`);
          return;
        }
        if (/^text\/html/.test(res.headers.get("content-type") ?? "")) {
          if (!text.includes('action="/dashboard/session"')) failures.push(`${where}: html`);
          return;
        }
        try {
          const body = JSON.parse(text);
          if (typeof body.error?.message !== "string" || typeof body.error.type !== "string") {
            failures.push(`${where}: not OpenAI-shaped: ${text.slice(0, 200)}`);
          }
        } catch {
          failures.push(`${where}: ${res.status} body is not JSON: ${text.slice(0, 200)}`);
        }
      }));
    }
    assert.deepEqual(failures.slice(0, 15), [], `seed ${SEED}: ${failures.length} failed`);
    assert.deepEqual(errors, [], "the gateway logged errors");
    // Still serving the right credentials.
    for (
      const [path, auth] of [
        ["/v1/gateway/providers", FUZZ_ADMIN],
        ["/metrics", FUZZ_METRICS],
        ["/v1/models", FUZZ_VK],
      ]
    ) {
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${auth}` } });
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
  } finally {
    await gw.shutdown(1_000);
  }
});
