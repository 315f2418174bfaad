// The admin API on a real listening gateway: guarded by GATEWAY_ADMIN_KEY (off without it),
// CRUD on virtual keys, the secret shown once and stored only as a salted digest.
import assert from "node:assert/strict";
import OpenAI, { APIError } from "openai";
import { type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import type { RunningGateway } from "../../src/server.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";

const ADMIN = "admin-key-for-http-tests";

async function withGateway(
  fn: (gw: RunningGateway, call: typeof fetch, mock: MockUpstream) => Promise<void>,
  env: Record<string, string> = { GATEWAY_ADMIN_KEY: ADMIN },
) {
  const mock = await startMockUpstream();
  const gw = startTestGateway({ providers: { openai: mockProvider(mock.url, "openai") } }, env);
  const call = (path: string | URL | Request, init: RequestInit = {}) =>
    fetch(`${gw.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${ADMIN}`,
        "content-type": "application/json",
        ...init.headers as Record<string, string>,
      },
    });
  try {
    await fn(gw, call as typeof fetch, mock);
  } finally {
    await gw.shutdown(1_000);
    await mock.close();
  }
}

const json = (body: unknown) => ({ body: JSON.stringify(body) });
const keyFields = {
  name: "team-a",
  providers: [{ provider: "openai", models: ["gpt-4o-mini"], weight: 2 }],
  limits: { rpm: 100, tpm: 50_000 },
  budget: { usd: 25, period: "1M" },
};

Deno.test("without GATEWAY_ADMIN_KEY the admin API is off and says how to turn it on", async () => {
  await withGateway(async (_gw, call) => {
    for (
      const [method, path] of [["GET", "/admin/keys"], ["POST", "/admin/keys"], [
        "DELETE",
        "/admin/keys/x",
      ]]
    ) {
      const res = await call(path, { method, ...(method === "POST" ? json(keyFields) : {}) });
      assert.equal(res.status, 404, `${method} ${path}`);
      const body = await res.json();
      assert.equal(body.error.code, "admin_api_disabled");
      assert.match(body.error.message, /GATEWAY_ADMIN_KEY/);
    }
  }, {});
});

Deno.test("the admin API wants the admin key as a bearer token", async () => {
  await withGateway(async (gw) => {
    const none = await fetch(`${gw.url}/admin/keys`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal((await none.json()).error.code, "invalid_admin_key");
    for (const wrong of [ADMIN + "x", ADMIN.slice(0, -1), "x"]) {
      const res = await fetch(`${gw.url}/admin/keys`, {
        headers: { authorization: `Bearer ${wrong}` },
      });
      assert.equal(res.status, 401, wrong);
      await res.body?.cancel();
    }
  });
});

Deno.test("create shows the secret once; reads never do; the store holds only a digest", async () => {
  await withGateway(async (gw, call) => {
    const res = await call("/admin/keys", { method: "POST", ...json(keyFields) });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const created = await res.json();
    assert.deepEqual(Object.keys(created).slice(0, 2), ["id", "key"]);
    assert.match(created.key, new RegExp(`^vk-${created.id}-[A-Za-z0-9_-]{43}$`));
    assert.equal(res.headers.get("location"), `/admin/keys/${created.id}`);
    assert.equal(created.name, "team-a");
    assert.deepEqual(created.providers, keyFields.providers);
    assert.deepEqual(created.limits, keyFields.limits);
    assert.deepEqual(created.budget, keyFields.budget);
    assert.equal(created.source, "admin");
    assert.equal(created.revoked, false);

    const one = await (await call(`/admin/keys/${created.id}`)).json();
    const list = await (await call("/admin/keys")).json();
    assert.equal(list.object, "list");
    assert.deepEqual(list.data.map((k: { id: string }) => k.id), [created.id]);
    for (const text of [JSON.stringify(one), JSON.stringify(list)]) {
      assert.ok(!text.includes(created.key), "a read shows the secret");
      assert.ok(!text.includes('"hash"') && !text.includes('"salt"'));
    }
    assert.equal(one.key, undefined);
    assert.deepEqual(one.usage.minute.requests, 0);
    assert.equal(one.usage.spend.budget_usd, 25);
    assert.equal(one.usage.spend.period, "1M");

    const stored = JSON.stringify([...await gw.gateway.deps.keyStore!.list("")]);
    assert.ok(stored.includes(created.id));
    // The secret is the 43 characters after "vk-<id>-" (they may themselves hold a "-").
    const secret = created.key.slice(`vk-${created.id}-`.length);
    assert.equal(secret.length, 43);
    assert.ok(!stored.includes(secret));

    // And the key works.
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: created.key, maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.ok(answer.choices[0].message.content);
  });
});

Deno.test("bad bodies are 400s naming the field", async () => {
  await withGateway(async (_gw, call) => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...keyFields, name: "" }, "name", /name:/],
      [{ ...keyFields, providers: [] }, "providers", /providers:/],
      [{ ...keyFields, budget: { usd: 5, period: "1y" } }, "budget.period", /budget\.period:/],
      [{ ...keyFields, limits: { rpm: -1 } }, "limits.rpm", /limits\.rpm:/],
      [{ ...keyFields, id: "chosen" }, "", /body:/],
    ];
    for (const [body, param, message] of cases) {
      const res = await call("/admin/keys", { method: "POST", ...json(body) });
      assert.equal(res.status, 400, JSON.stringify(body));
      const { error } = await res.json();
      assert.equal(error.param, param || null);
      assert.match(error.message, message);
    }
    const unknown = await call("/admin/keys", {
      method: "POST",
      ...json({ ...keyFields, providers: [{ provider: "nope" }] }),
    });
    assert.equal(unknown.status, 400);
    assert.match(
      (await unknown.json()).error.message,
      /providers\[0\]\.provider: unknown provider "nope"/,
    );
    const notJson = await call("/admin/keys", { method: "POST", body: "{" });
    assert.equal(notJson.status, 400);
    assert.equal((await notJson.json()).error.code, "invalid_json");
  });
});

Deno.test("PATCH changes a key, null removes its budget; DELETE revokes it everywhere", async () => {
  await withGateway(async (gw, call, mock) => {
    const created = await (await call("/admin/keys", { method: "POST", ...json(keyFields) }))
      .json();
    const patched = await call(`/admin/keys/${created.id}`, {
      method: "PATCH",
      ...json({ name: "team-a2", budget: null, limits: { rpm: 1 } }),
    });
    assert.equal(patched.status, 200);
    const view = await patched.json();
    assert.equal(view.name, "team-a2");
    assert.equal(view.budget, null);
    assert.deepEqual(view.limits, { rpm: 1 });
    assert.deepEqual(view.providers, keyFields.providers, "untouched fields stay");
    const bad = await call(`/admin/keys/${created.id}`, {
      method: "PATCH",
      ...json({ weight: 1 }),
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();

    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: created.key, maxRetries: 0 });
    const hi = {
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user" as const, content: "hi" }],
    };
    await openai.chat.completions.create(hi);
    const limited = await openai.chat.completions.create(hi).catch((e) => e);
    assert.ok(limited instanceof APIError && limited.status === 429, "the new rpm applies");

    const del = await call(`/admin/keys/${created.id}`, { method: "DELETE" });
    assert.equal(del.status, 200);
    const revoked = await del.json();
    assert.equal(revoked.revoked, true);
    assert.match(revoked.revoked_at, /^\d{4}-\d\d-\d\dT/);
    const after = await openai.chat.completions.create(hi).catch((e) => e);
    assert.ok(after instanceof APIError && after.status === 401);
    assert.equal(mock.hits("openai"), 1);

    const listed = await (await call("/admin/keys")).json();
    assert.equal(listed.data[0].revoked, true, "a revoked key is still listed");
    const again = await call(`/admin/keys/${created.id}`, {
      method: "PATCH",
      ...json({ name: "x" }),
    });
    assert.equal(again.status, 409);
    await again.body?.cancel();
  });
});

Deno.test("unknown ids and routes are 404s", async () => {
  await withGateway(async (_gw, call) => {
    for (
      const [method, path] of [["GET", "/admin/keys/nope"], ["DELETE", "/admin/keys/nope"], [
        "GET",
        "/admin/other",
      ]]
    ) {
      const res = await call(path, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      await res.body?.cancel();
    }
    const patch = await call("/admin/keys/nope", { method: "PATCH", ...json({ name: "x" }) });
    assert.equal(patch.status, 404);
    assert.equal((await patch.json()).error.code, "key_not_found");
  });
});
