// `deno task audit <request-id>` as a real subprocess, reading what a real gateway published to a
// real nats-server during a real failover.
import assert from "node:assert/strict";
import type OpenAI from "openai";
import { startHint } from "../../src/events/audit.ts";
import { eventually, mockProvider } from "../_support/gateway.ts";
import { startNatsServer } from "../_support/nats_server.ts";
import { hello, types, withStack } from "../integration/_stack.ts";

const repo = new URL("../../", import.meta.url);
const audit = new URL("src/events/audit.ts", repo).pathname;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function run(wsUrl: string, args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", audit, ...args],
    cwd: repo.pathname,
    env: { NATS_URL: wsUrl, NO_COLOR: "1" },
    stdin: "null",
  }).output();
}

type Body = OpenAI.ChatCompletionCreateParamsNonStreaming;

Deno.test("audit tells a failover's whole story: attempts, the breaker it opened, the fallback, the outcome", async () => {
  await withStack((url) => ({
    retries: { max: 0 },
    providers: {
      primary: mockProvider(url, "primary", "openai", {
        breaker: {
          minimumRequests: 1,
          failureRateThreshold: 0.5,
          openMs: 60_000,
          maxOpenMs: 120_000,
        },
      }),
      backup: mockProvider(url, "backup"),
    },
  }), async ({ mock, client, gw, sub, eventsOf, nats }) => {
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const { response } = await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      fallbacks: ["backup/b-model"],
      messages: hello,
    } as Body).withResponse();
    const id = response.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id)).includes("request.completed"));
    await eventually(() => gw.bus.stats().buffered === 0, 5_000, "events stored");

    const { code, stdout, stderr } = await run(nats.wsUrl, [id]);
    const story = text(stdout);
    assert.equal(code, 0, text(stderr));
    assert.match(story, new RegExp(`^Request ${id} {2}\\(/gateway/`));
    assert.match(story, /\n {2}model {7}primary\/gpt-4o-mini\n/);
    assert.match(story, /\n {2}candidates {2}primary\/gpt-4o-mini → backup\/b-model\n/);
    assert.match(story, /\n {2}stream {6}no\n/);
    assert.match(story, /attempt #1 → primary\/gpt-4o-mini {2}key primary-nokey/);
    assert.match(
      story,
      /✗ #1 primary\/gpt-4o-mini failed {2}transient {2}status 503 {2}[\d.]+ms {2}"[^"]*503[^"]*"/,
    );
    // A 503 is the model's failure: the opening is the model's breaker, named with its model.
    assert.match(
      story,
      /\[primary\/gpt-4o-mini\] breaker opened: failure_rate, 100% of 1 sample; open 60s until \d\d:\d\d:\d\d\.\d{3} {2}← caused by attempt #1 of this request/,
    );
    assert.match(story, /fallback #1 → backup\/b-model {2}because primary\/gpt-4o-mini: transient/);
    assert.match(story, /✓ #2 backup\/b-model succeeded {2}status 200/);
    assert.match(
      story,
      /Outcome {2}completed: served by backup\/b-model \(fallback #1\) after 2 attempts\nLatency {2}total [\d.]+ms, upstream [\d.]+ms \(the serving attempt\)\nCounts {3}2 attempts, 0 retries, 1 fallback, 0 skips\n$/,
    );
    // In stream order: the breaker line sits between the failure and the fallback.
    const at = (re: RegExp) => story.search(re);
    assert.ok(at(/✗ #1/) < at(/breaker opened/) && at(/breaker opened/) < at(/fallback #1/));

    // The second request skips the open primary: its own story says so, and no breaker line
    // is blamed on it.
    const second = await client.chat.completions.create({
      model: "primary/gpt-4o-mini",
      fallbacks: ["backup/b-model"],
      messages: hello,
    } as Body).withResponse();
    const id2 = second.response.headers.get("x-request-id")!;
    await sub.waitFor(() => types(eventsOf(id2)).includes("request.completed"));
    await eventually(() => gw.bus.stats().buffered === 0, 5_000, "events stored");
    const r2 = await run(nats.wsUrl, [id2, "--since", "10m"]);
    assert.equal(r2.code, 0, text(r2.stderr));
    assert.match(
      text(r2.stdout),
      /skipped primary\/gpt-4o-mini: circuit_open \(its circuit breaker is open\), back in \d+s/,
    );
    assert.doesNotMatch(text(r2.stdout), /breaker opened/);

    // --json: the same selection as CloudEvents, one per line.
    const j = await run(nats.wsUrl, [id, "--json"]);
    assert.equal(j.code, 0, text(j.stderr));
    const events = text(j.stdout).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(events[0].type, "gateway.request.started");
    assert.equal(events.at(-1).type, "gateway.request.completed");
    assert.ok(
      events.some((e) =>
        e.type === "gateway.breaker.opened" && e.data.provider === "primary" &&
        e.data.model === "gpt-4o-mini"
      ),
    );
    assert.ok(events.every((e) => e.data.requestId === id || e.data.requestId === undefined));
  });
});

Deno.test("audit of an id that is not in the stream exits 1 and says where it looked", async () => {
  await withStack((url) => ({
    providers: { primary: mockProvider(url, "primary") },
  }), async ({ client, gw, sub, nats }) => {
    await client.chat.completions.create({ model: "primary/m", messages: hello } as Body);
    await sub.waitFor((es) => types(es).includes("request.completed"));
    await eventually(() => gw.bus.stats().buffered === 0, 5_000, "events stored");
    // Shaped like a gateway id made a minute ago: the quick look finds nothing, so does the full one.
    const ghost = (Date.now() - 60_000).toString(16).padStart(12, "0") + "0".repeat(14);
    for (const id of ["no-such-request", ghost]) {
      const { code, stdout, stderr } = await run(nats.wsUrl, [id, "--since", "1h"]);
      assert.equal(code, 1);
      assert.equal(stdout.length, 0);
      assert.match(
        text(stderr),
        new RegExp(
          `request ${id} not found: no event with that requestId in stream GATEWAY_EVENTS since .+Z \\(\\d+ events read\\)`,
        ),
      );
      assert.match(text(stderr), /look further back with --since/);
    }
  });
});

Deno.test("audit exits 2 when NATS is unreachable, 1 when the stream was never created, 2 on bad arguments", async () => {
  const srv = await startNatsServer();
  try {
    const empty = await run(srv.wsUrl, ["some-id"]);
    assert.equal(empty.code, 1);
    assert.match(text(empty.stderr), /stream GATEWAY_EVENTS does not exist on ws:/);

    const usage = await run(srv.wsUrl, ["--since", "forever", "some-id"]);
    assert.equal(usage.code, 2);
    assert.match(text(usage.stderr), /"forever" is not a duration[^]*usage: deno task audit/);
  } finally {
    await srv.stop();
  }
  const down = await run(srv.wsUrl, ["some-id"]); // the server is gone: nothing listens there
  assert.equal(down.code, 2);
  assert.equal(down.stdout.length, 0);
  assert.match(text(down.stderr), new RegExp(`cannot connect to NATS at ${srv.wsUrl}`));
});

Deno.test("startHint starts just before a gateway-made id was created, and ignores other ids", () => {
  const now = Date.UTC(2025, 0, 2, 12);
  const since = now - 24 * 3_600_000;
  const made = now - 3_600_000;
  const id = made.toString(16).padStart(12, "0") + "0001a1b2c3d4e5";
  assert.equal(startHint(id, since, now), made - 60_000);
  assert.equal(startHint("my-own-request-id", since, now), undefined);
  const old = (since - 1).toString(16).padStart(12, "0") + "0".repeat(14);
  assert.equal(startHint(old, since, now), undefined); // outside --since: not trusted
  const justIn = (since + 1_000).toString(16).padStart(12, "0") + "0".repeat(14);
  assert.equal(startHint(justIn, since, now), since); // never before --since
});
