// Budgets at three levels across two replicas on one real nats-server: spend through keys of one
// team on replicas A and B adds up at the team and the customer (in the JetStream KV bucket), the
// team over its budget refuses a key with budget left (402 naming the team), and a customer over
// its rpm refuses on either replica (429 naming the customer, with Retry-After).
import assert from "node:assert/strict";
import OpenAI, { APIError } from "openai";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import type { RunningGateway } from "../../src/server.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";
import { startNatsServer } from "../_support/nats_server.ts";

const ADMIN = "admin-secret-for-levels";
const hello = [{ role: "user" as const, content: "hello" }];

async function withReplicas(fn: (a: RunningGateway, b: RunningGateway) => Promise<void>) {
  const nats = await startNatsServer();
  const mock = await startMockUpstream();
  const started: RunningGateway[] = [];
  try {
    for (const instance of ["replica-a", "replica-b"]) {
      started.push(startTestGateway({
        instance,
        retries: { max: 0 },
        providers: { primary: mockProvider(mock.url, "primary") },
        pricing: { "primary/gpt-4o-mini": { inputPerMTok: 1_000_000, outputPerMTok: 0 } },
        nats: { url: nats.wsUrl },
      }, { GATEWAY_ADMIN_KEY: ADMIN }));
    }
    const [a, b] = started;
    await Promise.all(started.map((gw) => gw.gateway.governor.loaded()));
    await fn(a, b);
  } finally {
    for (const gw of started) await gw.shutdown(1_000);
    await mock.close();
    await nats.stop();
  }
}

async function admin(gw: RunningGateway, method: string, path: string, body?: unknown) {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const ask = (gw: RunningGateway, key: string) =>
  new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions.create({
    model: "primary/gpt-4o-mini",
    messages: hello,
  });

async function refusal(call: Promise<unknown>): Promise<APIError | undefined> {
  try {
    await call;
    return undefined;
  } catch (e) {
    if (e instanceof APIError) return e;
    throw e;
  }
}

/** Waits (bounded) until `read` reaches at least `want`; returns the last value read. */
async function until(read: () => Promise<number>, want: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let last = await read();
  while (last < want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    last = await read();
  }
  return last;
}

Deno.test("three levels across two replicas: team and customer add up; the team's budget refuses", async () => {
  await withReplicas(async (a, b) => {
    const customer = await admin(a, "POST", "/admin/customers", { name: "acme" });
    const team = await admin(b, "POST", "/admin/teams", {
      name: "search",
      customer: customer.id,
      budget: { usd: 3, period: "1M" },
    });
    const keyFields = { providers: [{ provider: "primary" }], team: team.id };
    const k1 = await admin(a, "POST", "/admin/keys", { name: "k1", ...keyFields });
    const k2 = await admin(b, "POST", "/admin/keys", {
      name: "k2",
      ...keyFields,
      budget: { usd: 1_000, period: "1M" },
    });

    // One request through each key, on each replica ($1 per prompt token).
    const one = await ask(a, k1.key);
    const two = await ask(b, k2.key);
    const expected = one.usage!.prompt_tokens + two.usage!.prompt_tokens;
    // The first alone leaves the team under $3; both together put it over.
    assert.ok(one.usage!.prompt_tokens < 3 && expected >= 3, `prompts cost $${expected}`);
    const spent = (kind: string, id: string) => async () =>
      (await admin(a, "GET", `/admin/${kind}/${id}`)).usage.spend.spent_usd as number;
    assert.equal(await until(spent("teams", team.id), expected), expected);
    assert.equal(await until(spent("customers", customer.id), expected), expected);
    assert.equal(await spent("keys", k2.id)(), two.usage!.prompt_tokens);

    // k2 has budget left, its team has none: refused on both replicas, naming the team.
    for (const gw of [a, b]) {
      const e = await refusal(ask(gw, k2.key));
      assert.equal(e?.status, 402);
      assert.match(e!.message, /team "search" is over its monthly budget/);
      assert.ok(Number(e!.headers?.get("retry-after")) > 0);
    }
  });
});

Deno.test("a customer over its rpm refuses on both replicas: 429 naming the customer", async () => {
  await withReplicas(async (a, b) => {
    const customer = await admin(b, "POST", "/admin/customers", {
      name: "acme",
      limits: { rpm: 2 },
    });
    const t1 = await admin(a, "POST", "/admin/teams", { name: "search", customer: customer.id });
    const t2 = await admin(a, "POST", "/admin/teams", { name: "ads", customer: customer.id });
    const providers = [{ provider: "primary" }];
    const k1 = await admin(a, "POST", "/admin/keys", { name: "k1", providers, team: t1.id });
    const k2 = await admin(b, "POST", "/admin/keys", { name: "k2", providers, team: t2.id });
    // Keep the requests inside one minute window (wide margin for a loaded machine).
    const msIntoMinute = Date.now() % 60_000;
    if (msIntoMinute > 40_000) await new Promise((r) => setTimeout(r, 60_000 - msIntoMinute + 50));
    assert.equal(await refusal(ask(a, k1.key)), undefined);
    assert.equal(await refusal(ask(b, k2.key)), undefined);
    const requests = async () =>
      (await admin(a, "GET", `/admin/customers/${customer.id}`)).usage.minute.requests as number;
    assert.equal(await until(requests, 2), 2, "both replicas counted at the customer");
    for (const [gw, key] of [[a, k2.key], [b, k1.key]] as const) {
      const e = await refusal(ask(gw, key));
      assert.equal(e?.status, 429);
      assert.match(e!.message, /customer "acme" is over its rpm limit/);
      const retry = Number(e!.headers?.get("retry-after"));
      assert.ok(retry > 0 && retry <= 60, `retry-after ${retry}`);
    }
  });
});
