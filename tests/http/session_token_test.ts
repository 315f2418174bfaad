import assert from "node:assert/strict";
import {
  clearedSessionCookie,
  cookieValue,
  createSessionSigner,
  SESSION_COOKIE,
  sessionCookie,
} from "../../src/http/session_token.ts";

const NOW = Date.parse("2026-03-01T10:00:00Z");

Deno.test("a session token verifies until it expires, and only with the admin key that made it", async () => {
  const signer = createSessionSigner("admin-one", 60_000);
  const { token, expiresAt } = await signer.issue(NOW);
  assert.equal(expiresAt, NOW + 60_000);
  assert.match(token, /^v1\.\d+\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/);
  assert.ok(!token.includes("admin-one"));
  assert.equal(await signer.verify(token, NOW), true);
  assert.equal(await signer.verify(token, NOW + 59_999), true);
  assert.equal(await signer.verify(token, NOW + 60_000), false);
  assert.equal(await createSessionSigner("admin-two", 60_000).verify(token, NOW), false);
  // Two tokens issued at the same moment differ.
  assert.notEqual((await signer.issue(NOW)).token, token);
});

Deno.test("a token with any part changed, or not a token at all, does not verify", async () => {
  const signer = createSessionSigner("admin-one");
  const { token } = await signer.issue(NOW);
  const [v, exp, nonce, sig] = token.split(".");
  for (
    const bad of [
      `${v}.${Number(exp) + 1}.${nonce}.${sig}`,
      `${v}.${exp}.${"0".repeat(32)}.${sig}`,
      `${v}.${exp}.${nonce}.${"A".repeat(43)}`,
      `v2.${exp}.${nonce}.${sig}`,
      `${token}.`,
      ` ${token}`,
      "",
      "v1...",
      "x".repeat(100_000),
      "\u0000\uffff",
    ]
  ) {
    assert.equal(await signer.verify(bad, NOW), false, bad.slice(0, 40));
  }
});

Deno.test("cookieValue reads one cookie out of whatever a client sends", () => {
  assert.equal(cookieValue("a=1; gateway_session=tok; b=2", SESSION_COOKIE), "tok");
  assert.equal(cookieValue('gateway_session="tok"', SESSION_COOKIE), "tok");
  assert.equal(cookieValue("gateway_session=one; gateway_session=two", SESSION_COOKIE), "one");
  for (
    const h of [null, "", ";", "gateway_session", "=x", ";;;=;", "xgateway_session=1", "a=b"]
  ) {
    assert.equal(cookieValue(h, SESSION_COOKIE), undefined, String(h));
  }
  assert.equal(cookieValue("gateway_session=", SESSION_COOKIE), "");
});

Deno.test("the session cookie is HttpOnly, SameSite=Strict, Path=/, Secure only when asked", () => {
  assert.equal(
    sessionCookie("t", 3_600_000, false),
    "gateway_session=t; HttpOnly; SameSite=Strict; Path=/; Max-Age=3600",
  );
  assert.equal(
    sessionCookie("t", 3_600_000, true),
    "gateway_session=t; HttpOnly; SameSite=Strict; Path=/; Max-Age=3600; Secure",
  );
  assert.equal(
    clearedSessionCookie(true),
    "gateway_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0; Secure",
  );
});
