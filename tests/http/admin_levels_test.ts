// The admin API for customers and teams on a real listening gateway: behind GATEWAY_ADMIN_KEY,
// create/list/get/patch/delete, a key's "team", OpenAI-shaped validation errors naming the field,
// unknown references (400) and deleting a team keys still use (409).
import assert from "node:assert/strict";
import { type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import type { RunningGateway } from "../../src/server.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";

const ADMIN = "admin-key-for-level-tests";

async function withGateway(fn: (call: typeof fetch, gw: RunningGateway) => Promise<void>) {
  const mock: MockUpstream = await startMockUpstream();
  const gw = startTestGateway({ providers: { openai: mockProvider(mock.url, "openai") } }, {
    GATEWAY_ADMIN_KEY: ADMIN,
  });
  const call = (path: string | URL | Request, init: RequestInit = {}) =>
    fetch(`${gw.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    });
  try {
    await fn(call as typeof fetch, gw);
  } finally {
    await gw.shutdown(1_000);
    await mock.close();
  }
}

const send = (method: string, body?: unknown) => ({
  method,
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

Deno.test("customers and teams: create, list, get, patch, delete", async () => {
  await withGateway(async (call) => {
    const c = await call(
      "/admin/customers",
      send("POST", {
        name: "acme",
        budget: { usd: 100, period: "1M" },
        limits: { rpm: 60 },
      }),
    );
    assert.equal(c.status, 201);
    const customer = await c.json();
    assert.equal(c.headers.get("location"), `/admin/customers/${customer.id}`);
    assert.deepEqual([customer.object, customer.name, customer.budget, customer.limits], [
      "customer",
      "acme",
      { usd: 100, period: "1M" },
      { rpm: 60 },
    ]);
    const t = await call("/admin/teams", send("POST", { name: "search", customer: customer.id }));
    assert.equal(t.status, 201);
    const team = await t.json();
    assert.deepEqual([team.customer, team.budget, team.limits], [customer.id, null, null]);

    const list = await (await call("/admin/teams")).json();
    assert.deepEqual(list.data.map((x: { id: string }) => x.id), [team.id]);
    const one = await (await call(`/admin/customers/${customer.id}`)).json();
    assert.deepEqual(one.usage.spend.budget_usd, 100);
    assert.equal(one.usage.spend.spent_usd, 0);

    const patched = await call(
      `/admin/teams/${team.id}`,
      send("PATCH", { name: "find", budget: { usd: 5, period: "1d" }, customer: null }),
    );
    assert.equal(patched.status, 200);
    const p = await patched.json();
    assert.deepEqual([p.name, p.budget, p.customer], ["find", { usd: 5, period: "1d" }, null]);

    assert.equal((await call(`/admin/teams/${team.id}`, send("DELETE"))).status, 200);
    const gone = await call(`/admin/teams/${team.id}`);
    assert.equal(gone.status, 404);
    assert.equal((await gone.json()).error.code, "team_not_found");
    assert.equal((await call(`/admin/customers/${customer.id}`, send("DELETE"))).status, 200);
  });
});

Deno.test("a key's team: unknown teams and customers are 400s; a team in use cannot go (409)", async () => {
  await withGateway(async (call) => {
    const badTeam = await call("/admin/teams", send("POST", { name: "x", customer: "nope" }));
    assert.equal(badTeam.status, 400);
    const e1 = (await badTeam.json()).error;
    assert.deepEqual([e1.type, e1.code, e1.param], [
      "invalid_request_error",
      "unknown_customer",
      "customer",
    ]);
    const keyFields = { name: "k", providers: [{ provider: "openai" }] };
    const badKey = await call("/admin/keys", send("POST", { ...keyFields, team: "nope" }));
    assert.equal(badKey.status, 400);
    assert.equal((await badKey.json()).error.param, "team");

    const team = await (await call("/admin/teams", send("POST", { name: "search" }))).json();
    const key = await (await call("/admin/keys", send("POST", { ...keyFields, team: team.id })))
      .json();
    assert.equal(key.team, team.id);
    const inUse = await call(`/admin/teams/${team.id}`, send("DELETE"));
    assert.equal(inUse.status, 409);
    const e2 = (await inUse.json()).error;
    assert.equal(e2.code, "team_in_use");
    assert.match(e2.message, new RegExp(key.id));
    // PATCH to a missing team is a 400 too; leaving the team frees it.
    const badPatch = await call(`/admin/keys/${key.id}`, send("PATCH", { team: "nope" }));
    assert.equal(badPatch.status, 400);
    assert.equal((await call(`/admin/keys/${key.id}`, send("PATCH", { team: null }))).status, 200);
    assert.equal((await call(`/admin/teams/${team.id}`, send("DELETE"))).status, 200);
  });
});

Deno.test("validation errors are OpenAI-shaped and name the field", async () => {
  await withGateway(async (call, gw) => {
    for (
      const [path, body, param] of [
        ["/admin/customers", { name: "" }, "name"],
        ["/admin/customers", { name: "a", budget: { usd: -1, period: "1M" } }, "budget.usd"],
        ["/admin/teams", { name: "a", limits: { rpm: 0 } }, "limits.rpm"],
        ["/admin/teams", { name: "a", budget: { usd: 1, period: "1y" } }, "budget.period"],
      ] as const
    ) {
      const res = await call(path, send("POST", body));
      assert.equal(res.status, 400, JSON.stringify(body));
      const { error } = await res.json();
      assert.equal(error.type, "invalid_request_error");
      assert.equal(error.param, param);
      assert.match(error.message, new RegExp(`^${param.replace(".", "\\.")}: `));
    }
    const noAdmin = await fetch(`${gw.url}/admin/teams`);
    assert.equal(noAdmin.status, 401);
    await noAdmin.body?.cancel();
  });
});
