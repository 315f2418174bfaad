import assert from "node:assert/strict";
import {
  base64url,
  CLOUD_PLATFORM_SCOPE,
  importSigningKey,
  signServiceAccountJwt,
} from "../../../src/providers/vertex/jwt.ts";
import { ServiceAccountError } from "../../../src/providers/vertex/service_account.ts";
import { testAccount, verifyJwt } from "./_test_key.ts";

Deno.test("the JWT is RS256-signed by the account's key, with Google's claims", async () => {
  const { account, publicKey } = await testAccount("https://oauth2.googleapis.com/token");
  const key = await importSigningKey(account.privateKey);
  const jwt = await signServiceAccountJwt({ account, key, nowSec: 1_700_000_000 });
  const { header, claims, valid } = await verifyJwt(jwt, publicKey);
  assert.ok(valid, "the signature verifies with the public key");
  assert.deepEqual(header, { alg: "RS256", typ: "JWT", kid: "kid-123" });
  assert.deepEqual(claims, {
    iss: "gateway@proj-test.iam.gserviceaccount.com",
    scope: CLOUD_PLATFORM_SCOPE,
    aud: "https://oauth2.googleapis.com/token",
    iat: 1_700_000_000,
    exp: 1_700_003_600,
  });
  assert.equal(CLOUD_PLATFORM_SCOPE, "https://www.googleapis.com/auth/cloud-platform");
});

Deno.test("a JWT signed by another key does not verify", async () => {
  const a = await testAccount();
  const b = await testAccount();
  const jwt = await signServiceAccountJwt({
    account: a.account,
    key: await importSigningKey(a.account.privateKey),
    nowSec: 1,
  });
  assert.equal((await verifyJwt(jwt, b.publicKey)).valid, false);
});

Deno.test("a key Web Crypto cannot import is a ServiceAccountError, not a crash", async () => {
  await assert.rejects(
    importSigningKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
    (e: Error) => e instanceof ServiceAccountError && /cannot be used for RS256/.test(e.message),
  );
});

Deno.test("base64url: no padding, URL-safe alphabet", () => {
  assert.equal(base64url(new Uint8Array([0xfb, 0xff])), "-_8");
  assert.equal(base64url("{}"), "e30");
});
