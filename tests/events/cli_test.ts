// Runs `deno task events`' script as a real subprocess against a real nats-server.
import assert from "node:assert/strict";
import { toCloudEvent } from "../../src/events/envelope.ts";
import { formatEventLine } from "../../src/events/format.ts";
import { createNatsBus } from "../../src/events/nats_bus.ts";
import { createIdGen } from "../../src/lib/ids.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { startNatsServer } from "../_support/nats_server.ts";
import { SAMPLES } from "./_samples.ts";

const repo = new URL("../../", import.meta.url);
const cli = new URL("src/events/cli.ts", repo).pathname;

/** Accumulates a child's output stream as text while the child runs. */
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
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("events CLI prints exactly the events matching its subject filter, one line each", async () => {
  const srv = await startNatsServer();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "gateway.fallback.>"],
    cwd: repo.pathname,
    env: { NATS_URL: srv.wsUrl, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = capture(child.stdout);
  const stderr = capture(child.stderr);
  try {
    await until(() => stderr.text, /subscribed to gateway\.fallback\.> on ws:\/\/127\.0\.0\.1:\d+/);

    const bus = createNatsBus({
      access: { servers: [srv.wsUrl] },
      instance: "cli-test",
      ids: createIdGen(),
      logger: silentLogger,
    });
    // The breaker event goes first: had the filter let it through, it would print first.
    bus.publish(SAMPLES["breaker.opened"]);
    bus.publish(SAMPLES["fallback.taken"]);
    await bus.close();

    await until(() => stdout.text, /fallback\.taken.*\n/);
    const expected = formatEventLine(toCloudEvent(SAMPLES["fallback.taken"], "any", "cli-test"));
    assert.equal(stdout.text, `${expected}\n`);
  } finally {
    try {
      child.kill("SIGINT");
    } catch { /* already exited */ }
    const status = await child.status;
    await stdout.done;
    await stderr.done;
    await srv.stop();
    assert.equal(status.code, 0, `CLI exit status; stderr:\n${stderr.text}`);
  }
});

Deno.test("events CLI explains itself when NATS is unreachable", async () => {
  const srv = await startNatsServer();
  await srv.stop(); // a port where nothing listens
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli],
    cwd: repo.pathname,
    env: { NATS_URL: srv.wsUrl, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 1);
  assert.equal(stdout.length, 0);
  assert.match(err, new RegExp(`cannot connect to NATS at ${srv.wsUrl}`));
  assert.match(err, /NATS_URL/);
});
