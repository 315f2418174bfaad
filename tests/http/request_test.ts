import assert from "node:assert/strict";
import type { Gateway } from "../../src/gateway.ts";
import { startCall } from "../../src/http/call.ts";
import { readRequest } from "../../src/http/request.ts";
import { invalidRequest } from "../../src/lib/errors.ts";
import { createTestGateway } from "../_support/gateway.ts";

/** A gateway with a 64-byte body limit; nothing here reaches a provider. */
async function withGateway(fn: (gw: Gateway) => Promise<void>): Promise<void> {
  const gw = createTestGateway({
    providers: { p: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } },
    limits: { maxBodyBytes: 64 },
  });
  try {
    await fn(gw);
  } finally {
    gw.stop();
  }
}

const post = (body: string) => new Request("http://gw.test/", { method: "POST", body });

Deno.test("readRequest hands the decoded body to the route and keeps its length", async () => {
  await withGateway(async (gw) => {
    const start = startCall(gw, "req-1");
    const r = await readRequest(
      gw,
      { start },
      post('{"n":1}'),
      (json) => ({ ok: true, value: json }),
    );
    assert.deepEqual(r, { ok: true, value: { n: 1 }, length: 7 });
  });
});

Deno.test("a body the route refuses is its 400 invalid_request naming the field, passed through", async () => {
  const refuse = (param?: string | null) => () => invalidRequest("messages: required", param);
  await withGateway(async (gw) => {
    for (
      const [param, want] of [["messages", "messages"], ["", null], [undefined, null]] as const
    ) {
      const r = await readRequest(gw, { start: startCall(gw, "req-1") }, post("{}"), refuse(param));
      assert.deepEqual(r, {
        ok: false,
        status: 400,
        message: "messages: required",
        type: "invalid_request_error",
        code: "invalid_request",
        param: want,
        headers: { "x-request-id": "req-1" },
      });
    }
  });
});

Deno.test("what reading the body refuses never reaches the route", async () => {
  const never = () => {
    throw new Error("the route must not parse this");
  };
  await withGateway(async (gw) => {
    const read = (body: string) =>
      readRequest(gw, { start: startCall(gw, undefined) }, post(body), never);
    const bad = await read("{oops");
    assert.equal(!bad.ok && bad.code, "invalid_json");
    const large = await read(`"${"x".repeat(100)}"`);
    assert.equal(!large.ok && large.status, 413);
  });
});
