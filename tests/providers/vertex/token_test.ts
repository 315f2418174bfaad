import assert from "node:assert/strict";
import type { ProviderHttp } from "../../../src/ports.ts";
import { UpstreamStreamError } from "../../../src/providers/adapter.ts";
import { classifyStreamError } from "../../../src/providers/classifier.ts";
import {
  createTokenSource,
  JWT_BEARER_GRANT,
  REFRESH_MARGIN_MS,
} from "../../../src/providers/vertex/token.ts";
import { testAccount, verifyJwt } from "./_test_key.ts";

interface Exchange {
  url: string;
  contentType: string;
  form: URLSearchParams;
}

/** A token endpoint: records each exchange, answers with `answer(n)` (n counts from 1). */
function tokenEndpoint(answer: (n: number) => Response | Promise<Response>) {
  const seen: Exchange[] = [];
  const http: ProviderHttp = {
    async fetch(url, init) {
      seen.push({
        url,
        contentType: new Headers(init.headers).get("content-type") ?? "",
        form: new URLSearchParams(String(init.body)),
      });
      return await answer(seen.length);
    },
  };
  return { http, seen };
}

const ok = (token: string, expiresIn = 3600) =>
  Response.json({ access_token: token, expires_in: expiresIn, token_type: "Bearer" });

Deno.test("token: a signed JWT is exchanged form-encoded at token_uri for the access token", async () => {
  const { account, publicKey } = await testAccount("https://oauth2.test/token");
  const t0 = 1_700_000_000_000;
  const { http, seen } = tokenEndpoint((n) => ok(`tok-${n}`));
  const token = createTokenSource({ provider: "vx", account, http, clock: { now: () => t0 } });
  assert.equal(await token(), "tok-1");
  assert.equal(seen.length, 1);
  assert.equal(seen[0].url, "https://oauth2.test/token");
  assert.equal(seen[0].contentType, "application/x-www-form-urlencoded");
  assert.equal(seen[0].form.get("grant_type"), JWT_BEARER_GRANT);
  const jwt = await verifyJwt(seen[0].form.get("assertion")!, publicKey);
  assert.ok(jwt.valid);
  assert.equal(jwt.claims.iat, t0 / 1000);
  assert.equal(jwt.claims.aud, "https://oauth2.test/token");
});

Deno.test("token: cached until shortly before expires_in, then refreshed", async () => {
  const { account } = await testAccount();
  let now = 1_000_000;
  const { http, seen } = tokenEndpoint((n) => ok(`tok-${n}`, 3600));
  const token = createTokenSource({ provider: "vx", account, http, clock: { now: () => now } });
  assert.equal(await token(), "tok-1");
  now += 3600_000 - REFRESH_MARGIN_MS - 1;
  assert.equal(await token(), "tok-1", "still fresh: no exchange");
  assert.equal(seen.length, 1);
  now += 1;
  assert.equal(await token(), "tok-2", "inside the margin: refreshed");
  assert.equal(seen.length, 2);
  // The refreshed token's lifetime counts from its own exchange.
  now += 3600_000 - REFRESH_MARGIN_MS - 1;
  assert.equal(await token(), "tok-2");
});

Deno.test("token: a short-lived token is refreshed at half its lifetime", async () => {
  const { account } = await testAccount();
  let now = 0;
  const { http, seen } = tokenEndpoint((n) => ok(`tok-${n}`, 60));
  const token = createTokenSource({ provider: "vx", account, http, clock: { now: () => now } });
  await token();
  now = 29_999;
  await token();
  assert.equal(seen.length, 1);
  now = 30_000;
  assert.equal(await token(), "tok-2");
});

Deno.test("token: concurrent callers share one exchange", async () => {
  const { account } = await testAccount();
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const { http, seen } = tokenEndpoint(async (n) => {
    await gate;
    return ok(`tok-${n}`);
  });
  const token = createTokenSource({ provider: "vx", account, http, clock: { now: () => 0 } });
  const all = Promise.all([token(), token(), token()]);
  await new Promise((r) => setTimeout(r, 50));
  release();
  assert.deepEqual(await all, ["tok-1", "tok-1", "tok-1"]);
  assert.equal(seen.length, 1);
});

async function failure(p: Promise<unknown>): Promise<UpstreamStreamError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof UpstreamStreamError, String(e));
    return e;
  }
  throw new Error("expected a failure");
}

Deno.test("token: a refused exchange is the provider's auth failure, naming it and what to fix", async () => {
  const { account } = await testAccount("https://oauth2.test/token");
  const { http, seen } = tokenEndpoint(() =>
    Response.json({ error: "invalid_grant", error_description: "Invalid JWT Signature." }, {
      status: 400,
    })
  );
  const token = createTokenSource({
    provider: "vx",
    account,
    source: "GOOGLE_SERVICE_ACCOUNT_JSON",
    http,
    clock: { now: () => 0 },
  });
  const e = await failure(token());
  assert.equal(e.status, 401);
  assert.match(e.message, /vertex provider "vx"/);
  assert.match(e.message, /refused .*gateway@proj-test/);
  assert.match(e.message, /400 invalid_grant: Invalid JWT Signature\./);
  assert.match(e.message, /GOOGLE_SERVICE_ACCOUNT_JSON/);
  const f = classifyStreamError(e, 0);
  assert.equal(f.kind, "auth");
  assert.equal(f.scope, "provider");
  // A failure is not cached: the next call tries again.
  await failure(token());
  assert.equal(seen.length, 2);
});

Deno.test("token: an unreachable or failing token endpoint is transient, not auth", async () => {
  const { account } = await testAccount();
  const down = createTokenSource({
    provider: "vx",
    account,
    http: {
      fetch: () => Promise.reject(new TypeError("error sending request: Connection refused")),
    },
    clock: { now: () => 0 },
  });
  const e1 = await failure(down());
  assert.equal(e1.status, 503);
  assert.match(e1.message, /cannot reach the token endpoint .*Connection refused/);
  assert.equal(classifyStreamError(e1, 0).kind, "transient");

  const { http } = tokenEndpoint(() => new Response("backend error", { status: 500 }));
  const failing = createTokenSource({ provider: "vx", account, http, clock: { now: () => 0 } });
  assert.equal((await failure(failing())).status, 503);

  const { http: empty } = tokenEndpoint(() => Response.json({ token_type: "Bearer" }));
  const noToken = createTokenSource({
    provider: "vx",
    account,
    http: empty,
    clock: { now: () => 0 },
  });
  assert.match((await failure(noToken())).message, /without an access_token/);
});

Deno.test("token: a token endpoint that never answers times out", async () => {
  const { account } = await testAccount();
  const token = createTokenSource({
    provider: "vx",
    account,
    http: {
      fetch: (_u, init) =>
        new Promise((_, reject) =>
          init.signal.addEventListener("abort", () => reject(init.signal.reason))
        ),
    },
    clock: { now: () => 0 },
    timeoutMs: 20,
  });
  const e = await failure(token());
  assert.equal(e.status, 503);
  assert.match(e.message, /did not answer in time/);
});

Deno.test("token: a bad key or a malformed key file is an auth failure, never a crash", async () => {
  const { account } = await testAccount();
  const { http, seen } = tokenEndpoint(() => ok("never"));
  const badKey = createTokenSource({
    provider: "vx",
    account: {
      ...account,
      privateKey: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    },
    source: "SA_JSON",
    http,
    clock: { now: () => 0 },
  });
  const e1 = await failure(badKey());
  assert.equal(e1.status, 401);
  assert.match(
    e1.message,
    /vertex provider "vx".*credentials \(SA_JSON\).*private_key cannot be used/,
  );

  const malformed = createTokenSource({
    provider: "vx",
    account: "{oops",
    http,
    clock: { now: () => 0 },
  });
  const e2 = await failure(malformed());
  assert.equal(e2.status, 401);
  assert.match(e2.message, /not valid JSON/);
  assert.equal(classifyStreamError(e2, 0).kind, "auth");
  assert.equal(seen.length, 0, "nothing is sent without a usable key");
});
