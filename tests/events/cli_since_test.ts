// `deno task events --since/--json/--provider` as a real subprocess against a real nats-server:
// replay from the JetStream stream, the switch to live, and the filters.
import assert from "node:assert/strict";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import { toCloudEvent } from "../../src/events/envelope.ts";
import { formatEventLine } from "../../src/events/format.ts";
import { createNatsBus } from "../../src/events/nats_bus.ts";
import { createIdGen } from "../../src/lib/ids.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { startNatsServer } from "../_support/nats_server.ts";
import { SAMPLES } from "./_samples.ts";

const repo = new URL("../../", import.meta.url);
const cli = new URL("src/events/cli.ts", repo).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function capture(stream: ReadableStream<Uint8Array>) {
  const out = { text: "", done: Promise.resolve() };
  out.done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) out.text += chunk;
  })();
  return out;
}

async function until(what: () => string, pattern: RegExp, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(what())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; got:\n${what()}`);
    await sleep(25);
  }
}

async function publish(url: string, events: GatewayEvent[]) {
  const bus = createNatsBus({
    access: { servers: [url] },
    instance: "since",
    ids: createIdGen(),
    logger: silentLogger,
  });
  for (const e of events) bus.publish(e);
  await bus.close();
  assert.equal(bus.stats().published, events.length, "every event stored");
}

/** Runs the CLI until `body` is done, then Ctrl-C; returns its output and exit status. */
async function withCli(
  wsUrl: string,
  args: string[],
  body: (out: { stdout: () => string; stderr: () => string }) => Promise<void>,
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args],
    cwd: repo.pathname,
    env: { NATS_URL: wsUrl, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = capture(child.stdout);
  const stderr = capture(child.stderr);
  try {
    await body({ stdout: () => stdout.text, stderr: () => stderr.text });
  } finally {
    try {
      child.kill("SIGINT");
    } catch { /* already exited */ }
    const status = await child.status;
    await stdout.done;
    await stderr.done;
    assert.equal(status.code, 0, `CLI exit status; stderr:\n${stderr.text}`);
  }
}

const opened = (provider: string): GatewayEvent => ({ ...SAMPLES["breaker.opened"], provider });
const closed = (provider: string): GatewayEvent => ({ ...SAMPLES["breaker.closed"], provider });

Deno.test("--since replays what was stored from then on, says when it is live, keeps tailing; --json --provider filter both", async () => {
  const srv = await startNatsServer();
  try {
    await publish(srv.wsUrl, [opened("openai")]); // before --since: never shown
    await sleep(30);
    const since = new Date().toISOString();
    await sleep(10);
    await publish(srv.wsUrl, [
      SAMPLES["fallback.taken"], // openai → anthropic: about openai
      opened("groq"), // another provider
      SAMPLES["attempt.failed"], // openai
    ]);

    await withCli(
      srv.wsUrl,
      ["--since", since, "--json", "--provider", "openai"],
      async ({ stdout, stderr }) => {
        await until(stderr, /replayed 3 stored events; now live/);
        assert.match(
          stderr(),
          new RegExp(
            `replaying gateway\\.> from stream GATEWAY_EVENTS since ${since.replace(/\./g, "\\.")}`,
          ),
        );
        const replayed = stdout().trim().split("\n").map((l) => JSON.parse(l));
        assert.deepEqual(replayed.map((e) => e.type), [
          "gateway.fallback.taken",
          "gateway.attempt.failed",
        ]);
        assert.deepEqual(replayed[0].data, toCloudEvent(SAMPLES["fallback.taken"], "x", "i").data);

        // Live, through the same consumer.
        await publish(srv.wsUrl, [closed("groq"), closed("openai")]);
        await until(stdout, /breaker\.closed/);
        const lines = stdout().trim().split("\n");
        assert.equal(lines.length, 3, stdout());
        const last = JSON.parse(lines[2]);
        assert.equal(last.type, "gateway.breaker.closed");
        assert.equal(last.data.provider, "openai");
        assert.equal(last.subject, "gateway.breaker.closed.openai");
      },
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("--since 15m with a subject filter prints the readable lines of the matching stored events", async () => {
  const srv = await startNatsServer();
  try {
    await publish(srv.wsUrl, [opened("openai"), SAMPLES["fallback.taken"], closed("openai")]);
    await withCli(
      srv.wsUrl,
      ["gateway.fallback.>", "--since", "15m"],
      async ({ stdout, stderr }) => {
        await until(stderr, /replayed 1 stored events; now live/);
        await until(stdout, /\n/);
        const expected = formatEventLine(toCloudEvent(SAMPLES["fallback.taken"], "x", "since"));
        assert.equal(stdout(), `${expected}\n`);
      },
    );
  } finally {
    await srv.stop();
  }
});

Deno.test("--since with nothing stored in the window goes live at once", async () => {
  const srv = await startNatsServer();
  try {
    await publish(srv.wsUrl, [opened("openai")]);
    await sleep(30);
    await withCli(srv.wsUrl, ["--since", "10ms"], async ({ stdout, stderr }) => {
      await until(stderr, /replayed 0 stored events; now live/);
      await publish(srv.wsUrl, [closed("openai")]);
      await until(stdout, /breaker\.closed/);
      assert.doesNotMatch(stdout(), /breaker\.opened/);
    });
  } finally {
    await srv.stop();
  }
});

Deno.test("events CLI: a bad flag is a usage error (exit 2), a missing stream an explained failure (exit 1)", async () => {
  const srv = await startNatsServer();
  try {
    const run = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", cli, ...args],
        cwd: repo.pathname,
        env: { NATS_URL: srv.wsUrl, NO_COLOR: "1" },
        stdin: "null",
      }).output();
    const bad = await run(["--since", "soon"]);
    assert.equal(bad.code, 2);
    assert.match(
      new TextDecoder().decode(bad.stderr),
      /"soon" is not a duration[^]*usage: deno task events/,
    );

    const missing = await run(["--since", "5m"]); // nothing ever published: no stream yet
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout.length, 0);
    assert.match(
      new TextDecoder().decode(missing.stderr),
      /cannot replay from GATEWAY_EVENTS on ws:\/\/127\.0\.0\.1:\d+: JetStream stream GATEWAY_EVENTS does not exist/,
    );
  } finally {
    await srv.stop();
  }
});
