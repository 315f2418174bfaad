// The operator endpoints behind GATEWAY_ADMIN_KEY, on the Hono app with an injected clock: every
// operator read and the admin API refuse a missing or wrong key with an OpenAI-shaped 401, accept
// the key as a bearer token, accept a dashboard session cookie for reads (not a tampered or
// expired one, and never on /admin), and stay open, as before, when no admin key is set.
import assert from "node:assert/strict";
import { createApp } from "../../src/app.ts";
import { buildConfig, type ConfigFile } from "../../src/config.ts";
import { createMemoryBus } from "../../src/events/mod.ts";
import { createGateway, type Gateway } from "../../src/gateway.ts";
import { createIdGen } from "../../src/lib/ids.ts";
import { silentLogger } from "../../src/lib/logger.ts";
import { fetchHttp } from "../../src/providers/fetch_http.ts";
import { SESSION_TTL_MS } from "../../src/http/session_token.ts";

const ADMIN = "operator-admin-key-for-tests";

function setup(env: Record<string, string> = { GATEWAY_ADMIN_KEY: ADMIN }) {
  const raw: ConfigFile = {
    providers: { openai: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } },
  };
  const clock = { t: Date.parse("2026-03-01T10:00:00Z"), now: () => clock.t };
  const gw: Gateway = createGateway({
    config: buildConfig(raw, (n) => env[n], "test"),
    bus: createMemoryBus(),
    clock,
    ids: createIdGen(),
    random: Math.random,
    http: fetchHttp,
    logger: silentLogger,
  });
  return { gw, app: createApp(gw), clock };
}

/** Each operator path with what it answers once let in. */
const OPERATOR: [string, number][] = [
  ["/v1/gateway/events", 200],
  ["/v1/gateway/providers", 200],
  ["/v1/gateway/unknown", 404],
  ["/dashboard", 200],
  ["/dashboard/anything", 404],
  ["/openai/v1/gateway/providers", 200],
  ["/litellm/gateway/providers", 200],
  ["/admin/keys", 200],
];

async function status(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

async function assert401(res: Response, what: string) {
  assert.equal(res.status, 401, what);
  assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/, what);
  const body = await res.json();
  assert.equal(typeof body.error.message, "string", what);
  assert.equal(body.error.type, "invalid_request_error", what);
  assert.equal(body.error.code, "invalid_admin_key", what);
}

/** Signs in through the login form; the session cookie's `name=value`. */
async function signIn(app: ReturnType<typeof createApp>, headers: Record<string, string> = {}) {
  const res = await app.request("/dashboard/session", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ key: ADMIN }).toString(),
  });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/dashboard");
  const setCookie = res.headers.get("set-cookie") ?? "";
  return { setCookie, cookie: setCookie.split(";")[0] };
}

Deno.test("with an admin key, every operator endpoint refuses no key and a wrong key with a 401", async () => {
  const { gw, app } = setup();
  try {
    for (const [path] of OPERATOR) {
      await assert401(await app.request(path), `${path} without a key`);
      for (
        const auth of [`Bearer ${ADMIN}x`, `Bearer ${ADMIN.slice(0, -1)}`, "Bearer x", "Basic x"]
      ) {
        await assert401(await app.request(path, { headers: { authorization: auth } }), path);
      }
    }
    // The admin API's writes too.
    await assert401(
      await app.request("/admin/keys", { method: "POST", body: "{}" }),
      "POST /admin/keys",
    );
  } finally {
    gw.stop();
  }
});

Deno.test("with an admin key, the right bearer token opens every operator endpoint", async () => {
  const { gw, app } = setup();
  try {
    for (const [path, expected] of OPERATOR) {
      const res = await app.request(path, { headers: { authorization: `Bearer ${ADMIN}` } });
      assert.equal(await status(res), expected, path);
    }
    const events = await app.request("/v1/gateway/events", {
      headers: { authorization: `bearer ${ADMIN}` },
    });
    assert.match(events.headers.get("content-type") ?? "", /^text\/event-stream/);
    await events.body?.cancel();
  } finally {
    gw.stop();
  }
});

Deno.test("without an admin key the operator endpoints are open, as before", async () => {
  const { gw, app } = setup({});
  try {
    for (const [path, expected] of OPERATOR) {
      if (path === "/admin/keys") continue;
      assert.equal(await status(await app.request(path)), expected, path);
    }
    const admin = await app.request("/admin/keys");
    assert.equal(admin.status, 404);
    assert.equal((await admin.json()).error.code, "admin_api_disabled");
    const login = await app.request("/dashboard/session", { method: "POST", body: "key=x" });
    assert.equal(login.status, 404);
    await login.body?.cancel();
  } finally {
    gw.stop();
  }
});

Deno.test("a browser without a session gets a login page with no data; the form signs it in", async () => {
  const { gw, app } = setup();
  try {
    const page = await app.request("/dashboard", { headers: { accept: "text/html,*/*" } });
    assert.equal(page.status, 401);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /form-action 'self'/);
    const html = await page.text();
    assert.match(html, /<form method="post" action="\/dashboard\/session">/);
    assert.match(html, /type="password"/);
    assert.doesNotMatch(html, /providersUrl|eventsUrl|openai/, "no gateway data on the login page");

    // A wrong key: the page again, saying so; no cookie.
    const wrong = await app.request("/dashboard/session", {
      method: "POST",
      headers: { accept: "text/html", "content-type": "application/x-www-form-urlencoded" },
      body: "key=nope",
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    assert.match(await wrong.text(), /Wrong admin key/);

    const { setCookie, cookie } = await signIn(app);
    assert.match(setCookie, /^gateway_session=v1\.\d+\.[0-9a-f]{32}\.[\w-]{43}; /);
    for (
      const attr of ["HttpOnly", "SameSite=Strict", "Path=/", `Max-Age=${SESSION_TTL_MS / 1000}`]
    ) {
      assert.ok(setCookie.split("; ").includes(attr), `${attr} in ${setCookie}`);
    }
    assert.ok(!setCookie.includes("Secure"), "no Secure over plain http");
    assert.ok(!setCookie.includes(ADMIN), "the cookie does not hold the key");

    // The dashboard and its own calls work with the cookie.
    const dash = await app.request("/dashboard", { headers: { cookie, accept: "text/html" } });
    assert.equal(dash.status, 200);
    assert.match(await dash.text(), /providersUrl/);
    for (const path of ["/v1/gateway/providers", "/v1/gateway/events"]) {
      const res = await app.request(path, { headers: { cookie: `other=1; ${cookie}` } });
      assert.equal(await status(res), 200, path);
    }
    // The cookie is for reads outside the admin API only.
    await assert401(await app.request("/admin/keys", { headers: { cookie } }), "admin by cookie");
    await assert401(
      await app.request("/v1/gateway/providers", { method: "POST", headers: { cookie } }),
      "a write by cookie",
    );
    // A wrong bearer next to a good cookie is still a wrong key.
    await assert401(
      await app.request("/v1/gateway/providers", {
        headers: { cookie, authorization: "Bearer nope" },
      }),
      "wrong bearer + cookie",
    );
  } finally {
    gw.stop();
  }
});

Deno.test("the session cookie is Secure over https (direct or behind a proxy that says so)", async () => {
  const { gw, app } = setup();
  try {
    const { setCookie } = await signIn(app, { "x-forwarded-proto": "https" });
    assert.ok(setCookie.split("; ").includes("Secure"), setCookie);
    const direct = await app.request("https://gw.example/dashboard/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: ADMIN }),
    });
    assert.equal(direct.status, 303);
    assert.ok((direct.headers.get("set-cookie") ?? "").split("; ").includes("Secure"));
    const out = await app.request("/dashboard/session", { method: "DELETE" });
    assert.equal(out.status, 204);
    assert.match(out.headers.get("set-cookie") ?? "", /^gateway_session=; .*Max-Age=0/);
  } finally {
    gw.stop();
  }
});

Deno.test("a tampered or expired session cookie is refused", async () => {
  const { gw, app, clock } = setup();
  try {
    const { cookie } = await signIn(app);
    const [name, token] = cookie.split("=");
    const [v, exp, nonce, sig] = token.split(".");
    const flip = (s: string) => s.slice(0, -1) + (s.at(-1) === "A" ? "B" : "A");
    const tampered = [
      `${v}.${Number(exp) + 3_600_000}.${nonce}.${sig}`, // a later expiry
      `${v}.${exp}.${flip(nonce)}.${sig}`,
      `${v}.${exp}.${nonce}.${flip(sig)}`,
      `${v}.${exp}.${nonce}`,
      token + "x",
      "",
    ];
    for (const t of tampered) {
      await assert401(
        await app.request("/v1/gateway/providers", { headers: { cookie: `${name}=${t}` } }),
        t,
      );
    }
    // Still good just before expiry, refused from then on.
    clock.t += SESSION_TTL_MS - 1;
    const late = await app.request("/v1/gateway/providers", { headers: { cookie } });
    assert.equal(await status(late), 200);
    clock.t += 1;
    await assert401(
      await app.request("/v1/gateway/providers", { headers: { cookie } }),
      "expired",
    );
    const page = await app.request("/dashboard", { headers: { cookie, accept: "text/html" } });
    assert.equal(page.status, 401, "an expired session gets the login page");
    assert.match(await page.text(), /action="\/dashboard\/session"/);
  } finally {
    gw.stop();
  }
});

Deno.test("a session from a gateway with another admin key is refused", async () => {
  const a = setup();
  const b = setup({ GATEWAY_ADMIN_KEY: "a-different-admin-key" });
  try {
    const { cookie } = await signIn(a.app);
    await assert401(
      await b.app.request("/v1/gateway/providers", { headers: { cookie } }),
      "foreign session",
    );
  } finally {
    a.gw.stop();
    b.gw.stop();
  }
});
