// The prefix aliases on a real listening gateway: the official `openai` SDK on /openai/v1,
// LangChain's ChatOpenAI on /langchain/v1, and LiteLLM-style calls on /litellm with or without
// /v1, all served by the same handlers as /v1 (headers, fallbacks, errors and streams included).
import { ChatOpenAI } from "@langchain/openai";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { completionText, type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import type { GatewayEvent } from "../../src/events/mod.ts";
import { ALIASES, aliasTarget } from "../../src/http/aliases.ts";
import type { RunningGateway } from "../../src/server.ts";
import { eventually, mockProvider, startTestGateway } from "../_support/gateway.ts";

const hello = [{ role: "user" as const, content: "hello" }];

async function withGateway(fn: (mock: MockUpstream, gw: RunningGateway) => Promise<void>) {
  const mock = await startMockUpstream();
  let gw: RunningGateway | undefined;
  try {
    gw = startTestGateway({
      retries: { max: 0 },
      providers: {
        primary: mockProvider(mock.url, "primary", "openai", { models: ["gpt-4o-mini"] }),
        backup: mockProvider(mock.url, "backup", "anthropic"),
      },
    });
    await fn(mock, gw);
  } finally {
    await gw?.shutdown(2_000);
    await mock.close();
  }
}

Deno.test("aliasTarget maps each prefix to its /v1 path", () => {
  const [openai, litellm, langchain] = ALIASES;
  const cases: [typeof openai, string, string | undefined][] = [
    [openai, "/openai/v1/chat/completions", "/v1/chat/completions"],
    [openai, "/openai/v1/models", "/v1/models"],
    [openai, "/openai/chat/completions", undefined],
    [openai, "/openaiv1/models", undefined],
    [litellm, "/litellm/chat/completions", "/v1/chat/completions"],
    [litellm, "/litellm/v1/chat/completions", "/v1/chat/completions"],
    [litellm, "/litellm/models", "/v1/models"],
    [langchain, "/langchain/v1/chat/completions", "/v1/chat/completions"],
    [langchain, "/langchain/chat/completions", "/v1/chat/completions"],
  ];
  for (const [alias, path, want] of cases) assert.equal(aliasTarget(path, alias), want, path);
});

Deno.test("the openai SDK on /openai/v1: completion, stream, models, gateway headers", async () => {
  await withGateway(async (mock, gw) => {
    const client = new OpenAI({ apiKey: "x", baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    const { data, response } = await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      messages: hello,
    }).withResponse();
    assert.equal(data.choices[0].message.content, completionText("primary"));
    assert.equal(response.headers.get("x-gateway-provider"), "primary");
    assert.ok(response.headers.get("x-request-id"));

    const stream = await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      messages: hello,
      stream: true,
    });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    assert.equal(text, completionText("primary"));

    const models = await client.models.list();
    assert.ok(models.data.some((m) => m.id === "primary/gpt-4o-mini"));
    assert.equal(mock.hits("primary"), 2);
  });
});

Deno.test("the openai SDK on /openai/v1 gets the same failover and errors as /v1", async () => {
  await withGateway(async (mock, gw) => {
    const client = new OpenAI({ apiKey: "x", baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const { data, response } = await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      messages: hello,
      // @ts-expect-error: the gateway's extra body field
      fallbacks: ["backup/claude-x"],
    }).withResponse();
    assert.equal(data.choices[0].message.content, completionText("backup"));
    assert.equal(response.headers.get("x-gateway-fallback-index"), "1");

    const err = await client.chat.completions.create({ model: "nope/x", messages: hello })
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.code, "unknown_provider");
  });
});

Deno.test("LangChain ChatOpenAI on /langchain/v1: invoke and stream", async () => {
  await withGateway(async (mock, gw) => {
    const model = new ChatOpenAI({
      model: "primary/gpt-4o-mini",
      apiKey: "x",
      maxRetries: 0,
      configuration: { baseURL: `${gw.url}/langchain/v1` },
    });
    const answer = await model.invoke("hello");
    assert.equal(answer.content, completionText("primary"));

    let text = "";
    for await (const chunk of await model.stream("hello")) text += chunk.content;
    assert.equal(text, completionText("primary"));
    assert.equal(mock.hits("primary"), 2);
  });
});

Deno.test("LiteLLM-style calls: /litellm/chat/completions and /litellm/v1/chat/completions", async () => {
  await withGateway(async (mock, gw) => {
    for (const path of ["/litellm/chat/completions", "/litellm/v1/chat/completions"]) {
      const res = await fetch(`${gw.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "lite-1" },
        body: JSON.stringify({ model: "primary/gpt-4o-mini", messages: hello }),
      });
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("x-request-id"), "lite-1", path);
      assert.equal(res.headers.get("x-gateway-provider"), "primary", path);
      const body = await res.json();
      assert.equal(body.choices[0].message.content, completionText("primary"), path);
      assert.equal(body.extra_fields.provider, "primary", path);
    }
    const models = await fetch(`${gw.url}/litellm/models`);
    assert.equal(models.status, 200);
    assert.ok(
      (await models.json()).data.some((m: { id: string }) => m.id === "primary/gpt-4o-mini"),
    );
    assert.equal(mock.hits("primary"), 2);
  });
});

Deno.test("unknown paths under a prefix are 404 in OpenAI's error shape", async () => {
  await withGateway(async (_mock, gw) => {
    for (const path of ["/openai/chat/completions", "/openai/v1/nothing", "/litellm/nothing"]) {
      const res = await fetch(`${gw.url}${path}`, { method: "POST", body: "{}" });
      assert.equal(res.status, 404, path);
      const body = await res.json();
      assert.equal(body.error.code, "not_found", path);
    }
  });
});

Deno.test("a client that hangs up through an alias aborts the attempt (not a failure)", async () => {
  await withGateway(async (mock, gw) => {
    const events: GatewayEvent[] = [];
    const unsubscribe = gw.bus.subscribe((e) => events.push(e));
    try {
      mock.setFaults("primary", [{ kind: "hang" }]);
      const ctl = new AbortController();
      const res = fetch(`${gw.url}/litellm/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": "hangup-1" },
        body: JSON.stringify({ model: "primary/gpt-4o-mini", messages: hello }),
        signal: ctl.signal,
      }).catch(() => undefined);
      await eventually(() => mock.hits("primary") === 1, 2_000, "the upstream call");
      ctl.abort();
      assert.equal(await res, undefined, "the client saw no answer");
      const mine = () => events.filter((e) => "requestId" in e && e.requestId === "hangup-1");
      await eventually(
        () => mine().some((e) => e.type === "attempt.aborted"),
        2_000,
        "attempt.aborted",
      );
      assert.ok(!mine().some((e) => e.type === "attempt.failed"), "an abort is not a failure");
      await eventually(() => gw.gateway.inFlight === 0, 2_000, "in-flight count back to 0");
    } finally {
      unsubscribe();
    }
  });
});
