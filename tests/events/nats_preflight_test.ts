// Start-up checks against a real nats-server: a mutable events stream stops start-up (with the
// fix in the message) unless allowed; a missing stream or an unreachable server does not.
import assert from "node:assert/strict";
import { wsconnect } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { buildConfig } from "../../src/config.ts";
import { NatsStartupError, preflightNats } from "../../src/events/nats_preflight.ts";
import { mutableStreamProblem } from "../../src/events/stream_config.ts";
import { startNatsServer } from "../_support/nats_server.ts";

const configFor = (url: string, env: Record<string, string> = {}) =>
  buildConfig({ nats: { url } }, (n) => env[n], "test");

Deno.test("preflight: a stream that allows deletes or purges stops start-up unless allowed", async () => {
  const nats = await startNatsServer();
  try {
    assert.equal(await preflightNats(configFor(nats.wsUrl)), undefined, "no stream yet: fine");
    const nc = await wsconnect({ servers: nats.wsUrl });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "GATEWAY_EVENTS", subjects: ["gateway.>"], deny_purge: true });
    await assert.rejects(preflightNats(configFor(nats.wsUrl)), (e: Error) => {
      assert.ok(e instanceof NatsStartupError);
      assert.match(e.message, /stream GATEWAY_EVENTS allows message deletes,/);
      assert.match(e.message, /deny_delete and deny_purge/);
      assert.match(e.message, /NATS_ALLOW_MUTABLE_STREAM=1/);
      return true;
    });
    const allowed = configFor(nats.wsUrl, { NATS_ALLOW_MUTABLE_STREAM: "true" });
    assert.equal(await preflightNats(allowed), undefined);
    // The fix the message gives works (and cannot be undone).
    const info = await jsm.streams.info("GATEWAY_EVENTS");
    await jsm.streams.update("GATEWAY_EVENTS", { ...info.config, deny_delete: true });
    assert.equal(await preflightNats(configFor(nats.wsUrl)), undefined);
    await assert.rejects(
      jsm.streams.update("GATEWAY_EVENTS", { ...info.config, deny_delete: false }),
    );
    await nc.close();
  } finally {
    await nats.stop();
  }
});

Deno.test("preflight: an unreachable server is not fatal (the gateway buffers and retries)", async () => {
  const line = await preflightNats(configFor("ws://127.0.0.1:9"), 500);
  assert.match(line ?? "", /NATS ws:\/\/127\.0\.0\.1:9 not reachable at start/);
});

Deno.test("docs/securing.md quotes the mutable-stream refusal as the gateway prints it", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/securing.md", import.meta.url));
  const said = mutableStreamProblem({
    name: "GATEWAY_EVENTS",
    deny_delete: false,
    deny_purge: false,
  });
  assert.ok(said !== undefined);
  assert.ok(doc.includes(`gateway: ${said}`), said);
});
