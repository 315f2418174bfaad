// End to end on real sockets: OpenAI SDK → gateway → mock upstreams, events on a real nats-server.
import assert from "node:assert/strict";
import { APIError } from "openai";
import type OpenAI from "openai";
import { completionText } from "../../bench/mock/mod.ts";
import { readStream } from "../_support/nats_server.ts";
import { mockProvider } from "../_support/gateway.ts";
import { hello, inOrder, types, withStack } from "./_stack.ts";

type Body = OpenAI.ChatCompletionCreateParamsNonStreaming;
type Extra = { extra_fields: { provider: string; fallback_index: number; attempts: unknown[] } };

const twoProviders = (url: string, retries = 0) => ({
  retries: { max: retries },
  providers: {
    primary: mockProvider(url, "primary"),
    backup: mockProvider(url, "backup", "anthropic", { keys: [] }),
  },
});

Deno.test("primary 503 falls over to the fallback; the failover is told on NATS", async () => {
  await withStack(twoProviders, async ({ mock, client, sub, eventsOf, nats }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const { data, response } = await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      fallbacks: ["backup/claude-3-5-haiku-latest"],
      messages: hello,
    } as Body).withResponse();

    assert.equal(data.choices[0].message.content, completionText("backup"));
    assert.equal(response.headers.get("x-gateway-provider"), "backup");
    assert.equal(response.headers.get("x-gateway-model"), "claude-3-5-haiku-latest");
    assert.equal(response.headers.get("x-gateway-fallback-index"), "1");
    assert.equal(response.headers.get("x-gateway-attempts"), "2");
    const errors = JSON.parse(response.headers.get("x-gateway-fallback-errors")!);
    assert.deepEqual(errors, [{
      provider: "primary",
      model: "gpt-4o-mini",
      status: 503,
      error_type: "transient",
    }]);
    const extra = (data as unknown as Extra).extra_fields;
    assert.equal(extra.provider, "backup");
    assert.equal(extra.fallback_index, 1);
    assert.equal(extra.attempts.length, 2);
    assert.equal(mock.hits("primary"), 1);
    assert.equal(mock.hits("backup"), 1);

    const id = response.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id)).includes("request.completed"));
    const story = types(eventsOf(id));
    assert.ok(
      inOrder(story, [
        "request.started",
        "attempt.failed",
        "fallback.taken",
        "attempt.succeeded",
        "request.completed",
      ]),
      story.join(" → "),
    );
    const fallback = eventsOf(id).find((e) => e.type === "gateway.fallback.taken")!;
    assert.equal(fallback.subject, "gateway.fallback.taken.backup");
    assert.equal(fallback.specversion, "1.0");
    // The same events are stored in JetStream, once each.
    await sub.waitFor(() => true);
    const stored = (await readStream(nats.wsUrl)).filter((e) =>
      (e.data as { requestId?: string }).requestId === id
    );
    assert.deepEqual(types(stored), story);
    assert.equal(new Set(stored.map((e) => e.id)).size, stored.length);
  });
});

Deno.test("a retry on the same provider comes before the fallover when retries are configured", async () => {
  await withStack((u) => twoProviders(u, 1), async ({ mock, client }) => {
    mock.setFaults("primary", [{ kind: "status", status: 502, times: 1 }]);
    const { response } = await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      fallbacks: ["backup/claude-3-5-haiku-latest"],
      messages: hello,
    } as Body).withResponse();
    assert.equal(response.headers.get("x-gateway-provider"), "primary");
    assert.equal(mock.hits("primary"), 2);
    assert.equal(mock.hits("backup"), 0);
  });
});

Deno.test("a plain 400 from the primary returns 400 at once without touching the fallback", async () => {
  await withStack(twoProviders, async ({ mock, client }) => {
    mock.setFaults("primary", [{
      kind: "status",
      status: 400,
      code: "content_policy_violation",
      message: "Your request was rejected as a result of our safety system.",
    }]);
    await assert.rejects(
      client.chat.completions.create({
        model: "primary/gpt-4o-mini",
        fallbacks: ["backup/claude-3-5-haiku-latest"],
        messages: hello,
      } as Body),
      (e: APIError) => {
        assert.equal(e.status, 400);
        assert.match(e.message, /safety system/);
        return true;
      },
    );
    assert.equal(mock.hits("primary"), 1);
    assert.equal(mock.hits("backup"), 0);
  });
});

Deno.test("context too long for the primary falls over to a model that can take it", async () => {
  await withStack(twoProviders, async ({ mock, client }) => {
    mock.setFaults("primary", [{
      kind: "status",
      status: 400,
      code: "context_length_exceeded",
      message: "This model's maximum context length is 128000 tokens.",
    }]);
    const { response } = await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      fallbacks: ["backup/claude-3-5-haiku-latest"],
      messages: hello,
    } as Body).withResponse();
    assert.equal(response.headers.get("x-gateway-provider"), "backup");
    assert.equal(mock.hits("primary"), 1, "not retried on the same model");
  });
});

Deno.test("context too long everywhere: the provider's 400 with its code, as OpenAI words it", async () => {
  await withStack(twoProviders, async ({ mock, gw }) => {
    const tooLong = {
      kind: "status" as const,
      status: 400,
      code: "context_length_exceeded",
      message: "This model's maximum context length is 128000 tokens.",
    };
    mock.setFaults("primary", [tooLong]);
    mock.setFaults("backup", [{
      ...tooLong,
      type: "invalid_request_error",
      message: "prompt is too long: 250000 tokens > 200000 maximum",
    }]);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "primary/m", fallbacks: ["backup/n"], messages: hello }),
    });
    assert.equal(res.status, 400);
    const { error } = await res.json();
    assert.equal(error.type, "invalid_request_error");
    assert.match(error.message, /prompt is too long/);
    assert.equal(mock.hits("primary"), 1);
    assert.equal(mock.hits("backup"), 1);
  });
});

Deno.test("all candidates failing gives a 5xx that names each failure", async () => {
  await withStack(twoProviders, async ({ mock, gw }) => {
    mock.setFaults("primary", [{ kind: "status", status: 500 }]);
    mock.setFaults("backup", [{ kind: "status", status: 529 }]);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "primary/m", fallbacks: ["backup/n"], messages: hello }),
    });
    assert.equal(res.status, 502);
    const body = await res.json();
    assert.equal(body.error.type, "transient");
    assert.match(body.error.message, /primary\/m: transient 500; backup\/n: transient 529/);
    assert.equal(res.headers.get("x-gateway-attempts"), "2");
  });
});

Deno.test("fallbacks may come from the x-gateway-fallbacks header when the body has none", async () => {
  await withStack(twoProviders, async ({ mock, gw }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-gateway-fallbacks": " backup/claude , " },
      body: JSON.stringify({ model: "primary/m", messages: hello }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "backup");
    assert.equal((await res.json()).extra_fields.model, "claude");
  });
});
