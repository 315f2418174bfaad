import assert from "node:assert/strict";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { createApp } from "../src/app.ts";
import type { Gateway } from "../src/gateway.ts";
import { createTestGateway } from "./_support/gateway.ts";
import { createLogger } from "../src/lib/logger.ts";

function gatewayWith(logLines: string[] = []): Gateway {
  return createTestGateway(
    { providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } } },
    createLogger("info", (l) => logLines.push(l)),
  );
}

Deno.test("an unknown route is an OpenAI-shaped 404 naming method and path", async () => {
  const gw = gatewayWith();
  try {
    const app = createApp(gw);
    for (const [method, path] of [["GET", "/v1/nothing"], ["GET", "/v1/chat/completions"]]) {
      const res = await app.request(path, { method });
      assert.equal(res.status, 404);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.deepEqual(await res.json(), {
        error: {
          message: `No route for ${method} ${path}.`,
          type: "invalid_request_error",
          code: "not_found",
          param: null,
        },
      });
    }
  } finally {
    gw.stop();
  }
});

Deno.test("an internal error is an OpenAI-shaped 500 that is logged but not leaked", async () => {
  const lines: string[] = [];
  const gw = gatewayWith(lines);
  try {
    const broken: Gateway = {
      ...gw,
      actors: {
        ...gw.actors,
        all: () => {
          throw new Error("registry exploded: secret detail");
        },
      } as unknown as Gateway["actors"],
    };
    const res = await createApp(broken).request("/v1/gateway/providers");
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.doesNotMatch(text, /secret detail/);
    assert.deepEqual(JSON.parse(text), {
      error: {
        message: "The gateway hit an internal error; see its logs.",
        type: "internal_error",
        code: "internal_error",
        param: null,
      },
    });
    assert.equal(lines.length, 1);
    assert.match(lines[0], / error unhandled error error=Error: registry exploded: secret detail$/);
  } finally {
    gw.stop();
  }
});

Deno.test("the routes of the wire contract are served", async () => {
  const gw = gatewayWith();
  try {
    const app = createApp(gw);
    for (const path of ["/healthz", "/readyz", "/v1/models", "/v1/gateway/providers"]) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
    const chat = await app.request("/v1/chat/completions", { method: "POST", body: "{" });
    assert.equal(chat.status, 400);
    assert.equal((await chat.json()).error.code, "invalid_json");
  } finally {
    gw.stop();
  }
});

Deno.test("every route and middleware pattern suits Hono's RegExpRouter (else every call pays the TrieRouter)", () => {
  const gw = gatewayWith();
  try {
    const app = createApp(gw);
    const router = new RegExpRouter<number>();
    app.routes.forEach((r, i) => router.add(r.method, r.path, i));
    // RegExpRouter builds its matchers on the first match and throws on a pattern it cannot hold.
    assert.doesNotThrow(() => router.match("POST", "/v1/chat/completions"));
  } finally {
    gw.stop();
  }
});

Deno.test("the model door runs once on /v1/responses and on a stored response's routes", async () => {
  const gw = gatewayWith();
  try {
    const app = createApp(gw);
    gw.draining = true; // the door's refusal names the route: each answers it once
    for (
      const [method, path] of [
        ["POST", "/v1/responses"],
        ["GET", "/v1/responses/resp_1"],
        ["DELETE", "/v1/responses/resp_1"],
        ["GET", "/v1/responses/resp_1/input_items"],
      ]
    ) {
      const before = gw.inFlight;
      const res = await app.request(path, { method, body: method === "POST" ? "{}" : undefined });
      assert.equal(res.status, 503, `${method} ${path}`);
      assert.equal((await res.json()).error.code, "draining");
      assert.equal(gw.inFlight, before, `${method} ${path}: counted in and out once`);
    }
  } finally {
    gw.stop();
  }
});
