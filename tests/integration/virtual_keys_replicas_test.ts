// Two replicas on one real nats-server share one set of virtual keys, one rate limit and one
// budget through the JetStream KV bucket: a key created on A works on B, spend on A makes B
// answer 402, a revocation on A reaches B, and the bucket never holds a plain secret.
import { wsconnect } from "@nats-io/nats-core";
import { Kvm } from "@nats-io/kv";
import assert from "node:assert/strict";
import OpenAI, { APIError } from "openai";
import { completionText, type MockUpstream, startMockUpstream } from "../../bench/mock/mod.ts";
import type { RunningGateway } from "../../src/server.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";
import { type NatsServer, startNatsServer } from "../_support/nats_server.ts";

const ADMIN = "admin-secret-for-replicas";
const hello = [{ role: "user" as const, content: "hello" }];

interface Replicas {
  nats: NatsServer;
  mock: MockUpstream;
  a: RunningGateway;
  b: RunningGateway;
}

async function withReplicas(fn: (r: Replicas) => Promise<void>): Promise<void> {
  const nats = await startNatsServer();
  const mock = await startMockUpstream();
  const started: RunningGateway[] = [];
  try {
    const replica = (instance: string) => {
      const gw = startTestGateway({
        instance,
        retries: { max: 0 },
        providers: { primary: mockProvider(mock.url, "primary") },
        pricing: { "primary/gpt-4o-mini": { inputPerMTok: 1_000_000, outputPerMTok: 0 } },
        nats: { url: nats.wsUrl },
      }, { GATEWAY_ADMIN_KEY: ADMIN });
      started.push(gw);
      return gw;
    };
    const a = replica("replica-a");
    const b = replica("replica-b");
    await Promise.all([a.gateway.governor.loaded(), b.gateway.governor.loaded()]);
    await fn({ nats, mock, a, b });
  } finally {
    for (const gw of started) await gw.shutdown(1_000);
    await mock.close();
    await nats.stop();
  }
}

const admin = (gw: RunningGateway, method: string, path: string, body?: unknown) =>
  fetch(`${gw.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const client = (gw: RunningGateway, key: string) =>
  new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });

const ask = (gw: RunningGateway, key: string) =>
  client(gw, key).chat.completions.create({ model: "primary/gpt-4o-mini", messages: hello });

async function status(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (e) {
    if (e instanceof APIError && e.status !== undefined) return e.status;
    throw e;
  }
}

Deno.test("spend on replica A makes replica B answer 402: one budget for the fleet", async () => {
  await withReplicas(async ({ a, b }) => {
    const res = await admin(a, "POST", "/admin/keys", {
      name: "shared",
      providers: [{ provider: "primary" }],
      budget: { usd: 1, period: "1M" },
    });
    assert.equal(res.status, 201);
    const { id, key } = await res.json();

    // B has never seen the key: it finds it in the bucket.
    assert.equal(await status(ask(b, key)), 200);
    // That spent the budget ($1 per input token); once the spend is written, both refuse.
    let spent = 0;
    const deadline = Date.now() + 5_000;
    while (spent === 0 && Date.now() < deadline) {
      spent = (await (await admin(a, "GET", `/admin/keys/${id}`)).json()).usage.spend.spent_usd;
      if (spent === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(spent > 1, `spent ${spent}`);
    assert.equal(await status(ask(a, key)), 402);
    assert.equal(await status(ask(b, key)), 402);
  });
});

Deno.test("one rpm limit across replicas, revocation on A reaches B, no plain secret in the bucket", async () => {
  await withReplicas(async ({ nats, a, b, mock }) => {
    const res = await admin(b, "POST", "/admin/keys", {
      name: "limited",
      providers: [{ provider: "primary" }],
      limits: { rpm: 2 },
    });
    const { id, key } = await res.json();
    // Keep the three requests inside one minute window.
    const msIntoMinute = Date.now() % 60_000;
    // (A loaded CI machine can take seconds for these calls: leave a wide margin.)
    if (msIntoMinute > 40_000) await new Promise((r) => setTimeout(r, 60_000 - msIntoMinute + 50));
    assert.equal(await status(ask(a, key)), 200);
    assert.equal(await status(ask(b, key)), 200);
    // Usage is shared through NATS KV: wait (bounded) until A has seen B's request.
    const seen = async () => {
      const one = await (await admin(a, "GET", `/admin/keys/${id}`)).json();
      return one.usage.minute.requests as number;
    };
    const until = Date.now() + 5_000;
    while (await seen() < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await seen(), 2, "replica A counts both requests");
    assert.equal(await status(ask(a, key)), 429);
    assert.equal(await status(ask(b, key)), 429);
    assert.equal(mock.hits("primary"), 2);

    // Whatever the bucket holds, it never holds the secret.
    const nc = await wsconnect({ servers: nats.wsUrl });
    try {
      const kv = await new Kvm(nc).open("GATEWAY_KEYS");
      const stored: string[] = [];
      for await (const k of await kv.keys()) stored.push((await kv.get(k))!.string());
      assert.ok(stored.some((v) => v.includes(id)), "the key's record is in the bucket");
      // The secret is what follows "vk-<id>-" (it may itself hold a "-").
      const secretPart = key.slice(`vk-${id}-`.length);
      for (const v of stored) assert.ok(!v.includes(secretPart), `plain secret stored: ${v}`);
    } finally {
      await nc.close();
    }

    // B learns of the revocation through its watch on the bucket (milliseconds).
    assert.equal((await admin(a, "DELETE", `/admin/keys/${id}`)).status, 200);
    let last = 0;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      last = await status(ask(b, key));
      if (last === 401) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(last, 401);
  });
});

Deno.test("a key created on one replica serves on the other at once", async () => {
  await withReplicas(async ({ a, b }) => {
    const { key } = await (await admin(a, "POST", "/admin/keys", {
      name: "roamer",
      providers: [{ provider: "primary" }],
    })).json();
    const answer = await ask(b, key);
    assert.equal(answer.choices[0].message.content, completionText("primary"));
    assert.equal(await status(ask(b, "vk-0123456789abcdef-" + "x".repeat(43))), 401);
  });
});
