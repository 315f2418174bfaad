// POST /v1/responses on a real listening gateway, called by the official openai SDK
// (`client.responses.create`, only its baseURL changed) and by fetch, served by OpenAI-format and
// Anthropic-format mock upstreams: JSON, streams, failover across formats, previous_response_id
// after a failover, the stored-response routes, store: false, and refusals.
import OpenAI from "openai";
import assert from "node:assert/strict";
import { completionText, type MockUpstream, startMockUpstream } from "../../../bench/mock/mod.ts";
import { buildConfig, type ConfigFile } from "../../../src/config.ts";
import { silentLogger } from "../../../src/lib/logger.ts";
import { fetchHttp } from "../../../src/providers/fetch_http.ts";
import { type RunningGateway, startGateway } from "../../../src/server.ts";
import { mockProvider } from "../../_support/gateway.ts";

const config = (url: string): ConfigFile => ({
  retries: { max: 0 },
  providers: {
    oai: mockProvider(url, "oai", "openai"),
    anthro: mockProvider(url, "anthro", "anthropic"),
  },
});

interface Ctx {
  mock: MockUpstream;
  gw: RunningGateway;
  client: OpenAI;
  /** The JSON bodies each upstream target received, in order. */
  sent: Record<string, Record<string, unknown>[]>;
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
}

async function withGateway(
  fn: (c: Ctx) => Promise<void>,
  extra: Partial<ConfigFile> = {},
  env: Record<string, string> = {},
): Promise<void> {
  const mock = await startMockUpstream();
  const sent: Ctx["sent"] = {};
  // Records what each upstream was sent, so a test sees the conversation a target received.
  const http = {
    fetch(url: string, init: RequestInit & { signal: AbortSignal }) {
      const target = new URL(url).pathname.split("/")[1];
      if (typeof init.body === "string") (sent[target] ??= []).push(JSON.parse(init.body));
      return fetchHttp.fetch(url, init);
    },
  };
  const gw = startGateway(
    buildConfig({ port: 0, ...config(mock.url), ...extra }, (n) => env[n], "test"),
    { logger: silentLogger, hostname: "127.0.0.1", http },
  );
  try {
    await fn({
      mock,
      gw,
      sent,
      client: new OpenAI({ apiKey: "x", baseURL: `${gw.url}/v1`, maxRetries: 0 }),
      post: (body, headers = {}) =>
        fetch(`${gw.url}/v1/responses`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(body),
        }),
    });
  } finally {
    await gw.shutdown(2_000);
    await mock.close();
  }
}

function sseEvents(text: string): { event: string; data: Record<string, unknown> }[] {
  return text.split("\n\n").filter((f) => f.trim() !== "").map((frame) => ({
    event: /^event: (.*)$/m.exec(frame)?.[1] ?? "",
    data: JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "{}"),
  }));
}

const messageText = (output: unknown[]) =>
  (output as { type: string; content?: { text: string }[] }[])
    .filter((i) => i.type === "message").map((i) => i.content![0].text).join("");

for (
  const [label, model, target] of [
    ["an OpenAI-format provider", "oai/gpt-4o-mini", "oai"],
    ["an Anthropic-format provider", "anthro/claude-x", "anthro"],
  ] as const
) {
  Deno.test(`SDK responses.create is answered as a Response object by ${label}`, async () => {
    await withGateway(async ({ client, sent }) => {
      const { data, response } = await client.responses.create({
        model,
        instructions: "Be brief.",
        input: "hello",
        max_output_tokens: 64,
        metadata: { k: "v" },
      }).withResponse();
      assert.equal(data.object, "response");
      assert.match(data.id, /^resp_/);
      assert.equal(data.status, "completed");
      assert.equal(data.output_text, completionText(target));
      const msg = data.output[0];
      assert.equal(msg.type, "message");
      assert.match(msg.id, /^msg_/);
      assert.equal(data.instructions, "Be brief.");
      assert.equal(data.max_output_tokens, 64);
      assert.deepEqual(data.metadata, { k: "v" });
      assert.ok(data.usage!.input_tokens > 0);
      assert.equal(data.usage!.output_tokens, 16);
      assert.equal(
        data.usage!.total_tokens,
        data.usage!.input_tokens + data.usage!.output_tokens,
      );
      assert.equal(response.headers.get("x-gateway-provider"), target);
      assert.ok(response.headers.get("x-request-id"));
      // The instructions went first, as a system turn, then the input.
      const body = sent[target][0];
      const upstream = JSON.stringify(body);
      assert.match(upstream, /Be brief\./);
      assert.match(upstream, /hello/);
      assert.equal("metadata" in body, false, "metadata is not forwarded");
    });
  });

  Deno.test(`SDK responses.create with stream: true streams events from ${label}`, async () => {
    await withGateway(async ({ client }) => {
      const stream = await client.responses.create({ model, input: "hello", stream: true });
      const types: string[] = [];
      const seqs: number[] = [];
      let text = "";
      let final: OpenAI.Responses.Response | undefined;
      for await (const e of stream) {
        types.push(e.type);
        seqs.push(e.sequence_number);
        if (e.type === "response.output_text.delta") text += e.delta;
        if (e.type === "response.completed") final = e.response;
      }
      assert.equal(text, completionText(target));
      assert.deepEqual(seqs, seqs.map((_, i) => i), "sequence numbers count up from 0");
      assert.deepEqual(types.slice(0, 4), [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
      ]);
      assert.deepEqual(types.slice(-4), [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
      ]);
      assert.equal(final?.status, "completed");
      assert.equal(messageText(final!.output), completionText(target));
      assert.ok(final!.usage!.output_tokens > 0);
    });
  });
}

Deno.test("the SDK's responses.stream() helper assembles the final response", async () => {
  await withGateway(async ({ client }) => {
    const stream = client.responses.stream({ model: "oai/gpt-4o-mini", input: "hello" });
    let text = "";
    stream.on("response.output_text.delta", (e) => (text += e.delta));
    const final = await stream.finalResponse();
    assert.equal(text, completionText("oai"));
    assert.equal(final.output_text, completionText("oai"));
  });
});

Deno.test("a stream ends with response.completed and no [DONE] line", async () => {
  await withGateway(async ({ post }) => {
    const res = await post({ model: "oai/gpt-4o-mini", input: "hello", stream: true });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(res.headers.get("x-gateway-provider"), "oai");
    const text = await res.text();
    assert.equal(text.includes("[DONE]"), false);
    const events = sseEvents(text);
    assert.equal(events[events.length - 1].event, "response.completed");
    for (const e of events) assert.equal(e.event, e.data.type);
  });
});

Deno.test("a primary's 500 falls over to the fallback, and previous_response_id continues on another provider", async () => {
  await withGateway(async ({ client, mock, sent }) => {
    mock.setFaults("oai", [{ kind: "status", status: 500, times: 1 }]);
    const first = await client.responses.create({
      model: "oai/gpt-4o-mini",
      input: "first question",
      // The gateway's extension field, which the SDK's types do not know.
      ...{ fallbacks: ["anthro/claude-x"] },
    }).withResponse();
    assert.equal(first.response.headers.get("x-gateway-provider"), "anthro");
    assert.equal(first.response.headers.get("x-gateway-fallback-index"), "1");
    assert.equal(first.data.output_text, completionText("anthro"));
    assert.equal(mock.hits("oai"), 1);

    // The next turn goes to the provider that failed before; it must receive the whole
    // conversation, including the answer another provider gave.
    const second = await client.responses.create({
      model: "oai/gpt-4o-mini",
      previous_response_id: first.data.id,
      input: "second question",
    });
    assert.equal(second.previous_response_id, first.data.id);
    assert.equal(second.output_text, completionText("oai"));
    const last = sent.oai[sent.oai.length - 1] as {
      messages: { role: string; content: unknown }[];
    };
    assert.deepEqual(last.messages.map((m) => [m.role, m.content]), [
      ["user", "first question"],
      ["assistant", completionText("anthro")],
      ["user", "second question"],
    ]);

    // A third turn chains through both.
    await client.responses.create({
      model: "anthro/claude-x",
      previous_response_id: second.id,
      input: "third",
    });
    const third = JSON.stringify(sent.anthro[sent.anthro.length - 1]);
    for (
      const t of [
        "first question",
        completionText("anthro"),
        "second question",
        completionText("oai"),
        "third",
      ]
    ) {
      assert.ok(third.includes(t), t);
    }
  });
});

Deno.test("the x-gateway-fallbacks header works for responses too", async () => {
  await withGateway(async ({ post, mock }) => {
    mock.setFaults("oai", [{ kind: "status", status: 500 }]);
    const res = await post({ model: "oai/gpt-4o-mini", input: "hi" }, {
      "x-gateway-fallbacks": "anthro/claude-x",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "anthro");
    const body = await res.json();
    assert.equal(body.extra_fields.provider, "anthro");
    assert.equal(body.extra_fields.fallback_index, 1);
  });
});

Deno.test("GET, input_items and DELETE read back and drop a stored response", async () => {
  await withGateway(async ({ client, gw }) => {
    const created = await client.responses.create({
      model: "oai/gpt-4o-mini",
      input: [
        { role: "developer", content: "Be brief." },
        { role: "user", content: [{ type: "input_text", text: "hello" }] },
      ],
    });
    const got = await client.responses.retrieve(created.id);
    assert.equal(got.id, created.id);
    assert.equal(got.output_text, completionText("oai"));

    const items = await client.responses.inputItems.list(created.id, { order: "asc" });
    const data = items.data as { id: string; role?: string }[];
    assert.deepEqual(data.map((i) => i.role), ["developer", "user"]);
    for (const i of data) assert.match(i.id, /^msg_/);
    const raw = await (await fetch(`${gw.url}/v1/responses/${created.id}/input_items?limit=1`))
      .json();
    assert.equal(raw.object, "list");
    assert.equal(raw.data.length, 1);
    assert.equal(raw.data[0].role, "user", "newest first by default");
    assert.equal(raw.has_more, true);
    assert.equal(raw.first_id, raw.data[0].id);

    const del = await fetch(`${gw.url}/v1/responses/${created.id}`, { method: "DELETE" });
    assert.deepEqual(await del.json(), { id: created.id, object: "response", deleted: true });
    const again = await fetch(`${gw.url}/v1/responses/${created.id}`);
    assert.equal(again.status, 404);
    const e = (await again.json()).error;
    assert.equal(e.type, "invalid_request_error");
    assert.equal(e.code, "not_found");
  });
});

Deno.test("unknown ids: 404 on the stored routes, 400 naming previous_response_id", async () => {
  await withGateway(async ({ gw, post, mock }) => {
    for (
      const [method, path] of [
        ["GET", "/v1/responses/resp_nope"],
        ["DELETE", "/v1/responses/resp_nope"],
        ["GET", "/v1/responses/resp_nope/input_items"],
      ]
    ) {
      const res = await fetch(`${gw.url}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal((await res.json()).error.code, "not_found");
    }
    const res = await post({
      model: "oai/gpt-4o-mini",
      input: "hi",
      previous_response_id: "resp_nope",
    });
    assert.equal(res.status, 400);
    const e = (await res.json()).error;
    assert.equal(e.type, "invalid_request_error");
    assert.equal(e.param, "previous_response_id");
    assert.equal(mock.hits("oai"), 0);
  });
});

Deno.test("store: false keeps nothing", async () => {
  await withGateway(async ({ gw, post }) => {
    const res = await post({ model: "oai/gpt-4o-mini", input: "hi", store: false });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.store, false);
    assert.equal((await fetch(`${gw.url}/v1/responses/${body.id}`)).status, 404);
    const next = await post({
      model: "oai/gpt-4o-mini",
      input: "hi",
      previous_response_id: body.id,
    });
    assert.equal(next.status, 400);
  });
});

Deno.test("a built-in tool with no native candidate is a 400 naming it, no upstream asked", async () => {
  await withGateway(async ({ client, mock }) => {
    await assert.rejects(
      () =>
        client.responses.create({
          model: "oai/gpt-4o-mini",
          input: "search",
          tools: [{ type: "web_search_preview" }],
        }),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError);
        assert.equal(e.code, "unsupported_request");
        assert.match(e.message, /tools\[0\]\.type "web_search_preview"/);
        return true;
      },
    );
    assert.equal(mock.hits("oai"), 0);
  });
});

Deno.test("a wrong type is a 400 naming the field; unknown extra keys are accepted", async () => {
  await withGateway(async ({ post }) => {
    const bad = await post({ model: "oai/gpt-4o-mini", input: [{ role: "user", content: 5 }] });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.param, /^input\[0\]\.content/);
    const ok = await post({
      model: "oai/gpt-4o-mini",
      input: [{
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: "hi", future_key: 1 }],
        also_new: true,
      }],
      truncation: "auto",
    });
    assert.equal(ok.status, 200);
  });
});

Deno.test("/openai/v1/responses is the same route", async () => {
  await withGateway(async ({ gw }) => {
    const client = new OpenAI({ apiKey: "x", baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    const r = await client.responses.create({ model: "oai/gpt-4o-mini", input: "hello" });
    assert.equal(r.output_text, completionText("oai"));
    const got = await client.responses.retrieve(r.id);
    assert.equal(got.id, r.id);
  });
});

Deno.test("with virtual keys, a stored response is only visible to the key that made it", async () => {
  const A = "vk-responses-test-key-a-0123456789";
  const B = "vk-responses-test-key-b-0123456789";
  await withGateway(
    async ({ gw }) => {
      const as = (key: string) =>
        new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
      const r = await as(A).responses.create({ model: "oai/gpt-4o-mini", input: "hello" });
      assert.equal((await as(A).responses.retrieve(r.id)).id, r.id);
      await assert.rejects(() => as(B).responses.retrieve(r.id), OpenAI.NotFoundError);
      await assert.rejects(
        () =>
          as(B).responses.create({
            model: "oai/gpt-4o-mini",
            input: "again",
            previous_response_id: r.id,
          }),
        OpenAI.BadRequestError,
      );
      await assert.rejects(() => as("wrong").responses.retrieve(r.id), OpenAI.AuthenticationError);
    },
    {
      virtualKeys: [
        { name: "a", key: "env:KEY_A", providers: [{ provider: "oai" }] },
        { name: "b", key: "env:KEY_B", providers: [{ provider: "oai" }] },
      ],
    },
    { KEY_A: A, KEY_B: B },
  );
});
