// NATS is never on the request path: with nats-server killed the gateway keeps serving, and once
// it is back the buffered events reach JetStream.
import assert from "node:assert/strict";
import { mockProvider } from "../_support/gateway.ts";
import { readStream } from "../_support/nats_server.ts";
import { hello, withStack } from "./_stack.ts";

Deno.test("requests keep succeeding while nats-server is down; events flush after it returns", async () => {
  await withStack(
    (url) => ({ providers: { primary: mockProvider(url, "primary") } }),
    async (s) => {
      const ask = () =>
        s.client.chat.completions.create({ model: "primary/m", messages: hello }).withResponse();
      await ask();
      await s.nats.kill();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { data, response } = await ask();
        assert.ok(data.choices[0].message.content);
        ids.push(response.headers.get("x-request-id")!);
      }
      assert.ok(s.gw.bus.stats().buffered > 0, "events wait in the buffer while NATS is down");
      await s.nats.restart();
      const deadline = Date.now() + 10_000;
      let stored: string[] = [];
      while (Date.now() < deadline) {
        stored = (await readStream(s.nats.wsUrl).catch(() => []))
          .filter((e) => e.type === "gateway.request.completed")
          .map((e) => (e.data as { requestId: string }).requestId);
        if (ids.every((id) => stored.includes(id))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const id of ids) assert.ok(stored.includes(id), `request ${id} reached JetStream`);
      assert.equal(s.gw.bus.stats().dropped, 0);
    },
  );
});
