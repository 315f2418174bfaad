import assert from "node:assert/strict";
import OpenAI from "openai";
import { startTestGateway } from "../_support/gateway.ts";

Deno.test("/v1/models lists provider/model from config and every route alias", async () => {
  const gw = startTestGateway({
    providers: {
      openai: {
        type: "openai",
        baseUrl: "http://127.0.0.1:9/v1",
        models: ["gpt-4o", "gpt-4o-mini"],
      },
      claude: {
        type: "anthropic",
        baseUrl: "http://127.0.0.1:9/v1",
        models: ["claude-sonnet-4-5"],
      },
      bare: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" },
    },
    routes: { fast: ["openai/gpt-4o-mini"], smart: ["claude/claude-sonnet-4-5", "openai/gpt-4o"] },
  });
  try {
    const res = await fetch(`${gw.url}/v1/models`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, "list");
    assert.deepEqual(body.data.map((m: { id: string }) => m.id), [
      "openai/gpt-4o",
      "openai/gpt-4o-mini",
      "claude/claude-sonnet-4-5",
      "fast",
      "smart",
    ]);
    assert.deepEqual(body.data.map((m: { owned_by: string }) => m.owned_by), [
      "openai",
      "openai",
      "claude",
      "gateway-route",
      "gateway-route",
    ]);
    for (const m of body.data) {
      assert.equal(m.object, "model");
      assert.ok(Number.isInteger(m.created) && m.created > 1_600_000_000);
    }
  } finally {
    await gw.shutdown();
  }
});

Deno.test("/v1/models is an empty list when nothing is configured", async () => {
  const gw = startTestGateway({});
  try {
    const res = await fetch(`${gw.url}/v1/models`);
    assert.deepEqual(await res.json(), { object: "list", data: [] });
  } finally {
    await gw.shutdown();
  }
});

Deno.test("the OpenAI SDK can list the gateway's models", async () => {
  const gw = startTestGateway({
    providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1", models: ["gpt-4o"] } },
    routes: { fast: ["openai/gpt-4o"] },
  });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ["openai/gpt-4o", "fast"]);
  } finally {
    await gw.shutdown();
  }
});
