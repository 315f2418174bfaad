// POST /anthropic/v1/messages/count_tokens on a real listening gateway, called by the official
// Anthropic SDK (`client.messages.countTokens`) and by raw fetch, against a local mock of
// Anthropic's count_tokens endpoint: the exact count from an Anthropic-type candidate (in plan
// order, falling over on failure), an estimate marked `x-gateway-estimate: true` otherwise,
// Anthropic-shaped 400s, and virtual keys.
import Anthropic from "@anthropic-ai/sdk";
import assert from "node:assert/strict";
import type { ConfigFile } from "../../../src/config.ts";
import type { RunningGateway } from "../../../src/server.ts";
import { startTestGateway } from "../../_support/gateway.ts";

interface Seen {
  target: string;
  headers: Headers;
  body: Record<string, unknown>;
}

/**
 * Anthropic's count_tokens at `/{target}/v1/messages/count_tokens`. It counts one token per
 * character of the messages' JSON, so the test knows the exact answer and that it came from here;
 * targets in `failing` answer 529 overloaded_error as Anthropic does.
 */
function countingUpstream(failing: ReadonlySet<string>) {
  const seen: Seen[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const [target, ...rest] = new URL(req.url).pathname.split("/").filter(Boolean);
    if (req.method !== "POST" || rest.join("/") !== "v1/messages/count_tokens") {
      return Response.json({ type: "error", error: { type: "not_found_error", message: "no" } }, {
        status: 404,
      });
    }
    const body = await req.json();
    seen.push({ target, headers: req.headers, body });
    if (failing.has(target)) {
      return Response.json(
        { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
        { status: 529 },
      );
    }
    return Response.json({ input_tokens: JSON.stringify(body.messages).length });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    close: () => server.shutdown(),
  };
}

const config = (url: string, extra: Partial<ConfigFile> = {}): ConfigFile => ({
  retries: { max: 0 },
  providers: {
    anthro: { type: "anthropic", baseUrl: `${url}/anthro/v1`, keys: [{ value: "env:K1" }] },
    backup: { type: "anthropic", baseUrl: `${url}/backup/v1`, keys: [{ value: "env:K2" }] },
    oai: { type: "openai", baseUrl: `${url}/oai/v1`, keys: [{ value: "env:K3" }] },
  },
  routes: { claude: ["anthro/claude-x", "backup/claude-y"] },
  ...extra,
});
const env = {
  K1: "sk-ant-one",
  K2: "sk-ant-two",
  K3: "sk-oai",
  TEAM_KEY: "vk-team-0123456789abcdef",
};

interface Ctx {
  gw: RunningGateway;
  up: ReturnType<typeof countingUpstream>;
  client: Anthropic;
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
}

async function withGateway(
  opts: { failing?: string[]; extra?: Partial<ConfigFile> },
  fn: (c: Ctx) => Promise<void>,
): Promise<void> {
  const up = countingUpstream(new Set(opts.failing ?? []));
  const gw = startTestGateway(config(up.url, opts.extra), env);
  try {
    await fn({
      gw,
      up,
      client: new Anthropic({ apiKey: "x", baseURL: `${gw.url}/anthropic`, maxRetries: 0 }),
      post: (body, headers = {}) =>
        fetch(`${gw.url}/anthropic/v1/messages/count_tokens`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
    });
  } finally {
    await gw.shutdown(2_000);
    await up.close();
  }
}

const messages = [{ role: "user" as const, content: "What is the capital of France?" }];
const exact = JSON.stringify(messages).length;

Deno.test("an Anthropic provider's own count comes back exactly, asked with its key and version", async () => {
  await withGateway({}, async ({ client, up }) => {
    const { data, response } = await client.messages.countTokens({
      model: "anthro/claude-x",
      system: "Be brief.",
      messages,
      tools: [{ name: "weather", input_schema: { type: "object", properties: {} } }],
    }).withResponse();
    assert.equal(data.input_tokens, exact);
    assert.equal(response.headers.get("x-gateway-estimate"), null);
    assert.equal(response.headers.get("x-gateway-provider"), "anthro");
    assert.equal(response.headers.get("x-gateway-model"), "claude-x");
    assert.ok(response.headers.get("request-id"));
    assert.equal(up.seen.length, 1);
    const [call] = up.seen;
    assert.equal(call.target, "anthro");
    assert.equal(call.headers.get("x-api-key"), "sk-ant-one");
    assert.equal(call.headers.get("anthropic-version"), "2023-06-01");
    // The client's body, with the upstream's model name and nothing of the gateway's.
    assert.equal(call.body.model, "claude-x");
    assert.equal(call.body.system, "Be brief.");
    assert.deepEqual(call.body.messages, messages);
    assert.equal((call.body.tools as unknown[]).length, 1);
    assert.equal("fallbacks" in call.body, false);
  });
});

Deno.test("a failing Anthropic upstream falls over to the next candidate (route alias, fallbacks)", async () => {
  await withGateway({ failing: ["anthro"] }, async ({ client, up, post }) => {
    const { data, response } = await client.messages.countTokens({ model: "claude", messages })
      .withResponse();
    assert.equal(data.input_tokens, exact);
    assert.equal(response.headers.get("x-gateway-provider"), "backup");
    assert.equal(response.headers.get("x-gateway-model"), "claude-y");
    assert.deepEqual(up.seen.map((s) => [s.target, s.body.model]), [
      ["anthro", "claude-x"],
      ["backup", "claude-y"],
    ]);
    assert.equal(up.seen[1].headers.get("x-api-key"), "sk-ant-two");
    // Fallbacks named in the body (or the x-gateway-fallbacks header) are candidates too.
    for (
      const [body, headers] of [
        [{ model: "anthro/a", fallbacks: ["backup/b"], messages }, {}],
        [{ model: "anthro/a", messages }, { "x-gateway-fallbacks": "oai/x, backup/b" }],
      ] as const
    ) {
      const res = await post(body, headers);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { input_tokens: exact });
      assert.equal(res.headers.get("x-gateway-provider"), "backup");
      assert.equal(res.headers.get("x-gateway-model"), "b");
    }
  });
});

Deno.test("a model no Anthropic provider serves gets an estimate, marked as one, without a call", async () => {
  await withGateway({}, async ({ client, up }) => {
    const long = "word ".repeat(400); // 2,000 characters: about 500 tokens
    const { data, response } = await client.messages.countTokens({
      model: "oai/gpt-4o-mini",
      messages: [{ role: "user", content: long }],
    }).withResponse();
    assert.equal(response.headers.get("x-gateway-estimate"), "true");
    assert.ok(data.input_tokens >= 450 && data.input_tokens <= 600, String(data.input_tokens));
    const short = await client.messages.countTokens({
      model: "oai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.ok(short.input_tokens > 0 && short.input_tokens < data.input_tokens);
    assert.equal(up.seen.length, 0);
  });
});

Deno.test("every Anthropic upstream failing gives the estimate too", async () => {
  await withGateway({ failing: ["anthro", "backup"] }, async ({ post, up }) => {
    const res = await post({ model: "claude", messages });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-estimate"), "true");
    assert.equal(res.headers.get("x-gateway-provider"), null);
    const { input_tokens } = await res.json();
    assert.ok(input_tokens > 0 && input_tokens !== exact, String(input_tokens));
    assert.equal(up.seen.length, 2);
  });
});

Deno.test("bad input is an Anthropic-shaped 400 naming the field, before any upstream call", async () => {
  await withGateway({}, async ({ client, post, up }) => {
    const err = await client.messages.countTokens({ model: "nope/x", messages })
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof Anthropic.BadRequestError, String(err));
    assert.equal(err.type, "invalid_request_error");
    assert.match(err.apiMessage ?? "", /unknown provider "nope"/);
    for (
      const [body, field] of [
        [{ model: "anthro/x" }, /^messages: /],
        [
          { model: "anthro/x", messages: [{ role: "user", content: 7 }] },
          /^messages\[0\]\.content/,
        ],
        [{ model: "anthro/x", messages, system: 3 }, /^system: /],
        [{ messages }, /^model: /],
        ["{not json", /not valid JSON/],
      ] as const
    ) {
      const res = await post(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const answer = await res.json();
      assert.equal(answer.type, "error");
      assert.equal(answer.error.type, "invalid_request_error");
      assert.match(answer.error.message, field);
      assert.ok(res.headers.get("x-request-id"));
    }
    assert.equal(up.seen.length, 0);
  });
});

Deno.test("with virtual keys the caller's key is required and narrows the candidates", async () => {
  const extra: Partial<ConfigFile> = {
    virtualKeys: [{ name: "team", key: "env:TEAM_KEY", providers: [{ provider: "backup" }] }],
  };
  await withGateway({ extra }, async ({ post, up }) => {
    const anonymous = await post({ model: "backup/claude-y", messages });
    assert.equal(anonymous.status, 401);
    assert.equal((await anonymous.json()).error.type, "authentication_error");
    const key = { "x-api-key": env.TEAM_KEY };
    const forbidden = await post({ model: "anthro/claude-x", messages }, key);
    assert.equal(forbidden.status, 403);
    assert.equal((await forbidden.json()).error.type, "permission_error");
    assert.equal(up.seen.length, 0);
    const res = await post({ model: "backup/claude-y", messages }, key);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { input_tokens: exact });
    assert.deepEqual(up.seen.map((s) => s.target), ["backup"]);
  });
});
