import assert from "node:assert/strict";
import {
  GOOGLE_TOKEN_URI,
  parseServiceAccount,
  pemToPkcs8,
  ServiceAccountError,
} from "../../../src/providers/vertex/service_account.ts";
import { testAccount } from "./_test_key.ts";

Deno.test("a key file gives the account's email, key, key id and token URI", async () => {
  const { json, account } = await testAccount("https://oauth2.googleapis.com/token");
  assert.deepEqual(parseServiceAccount(json), account);
});

Deno.test("a key file without token_uri uses Google's token endpoint; without key id has no kid", async () => {
  const { json } = await testAccount();
  const { token_uri: _t, private_key_id: _k, ...rest } = JSON.parse(json);
  const sa = parseServiceAccount(JSON.stringify(rest));
  assert.equal(sa.tokenUri, GOOGLE_TOKEN_URI);
  assert.equal(sa.privateKeyId, undefined);
});

Deno.test("malformed key files are refused naming the field", async () => {
  const { json } = await testAccount();
  const file = JSON.parse(json);
  const cases: [string, RegExp][] = [
    ["{not json", /not valid JSON/],
    ["[1]", /not a JSON object/],
    [JSON.stringify({ ...file, type: "authorized_user" }), /type "authorized_user"/],
    [JSON.stringify({ ...file, client_email: undefined }), /no client_email/],
    [JSON.stringify({ ...file, private_key: "" }), /no private_key/],
    [
      JSON.stringify({ ...file, private_key: "-----BEGIN RSA PRIVATE KEY-----\nAAA" }),
      /private_key is not a PKCS#8 PEM/,
    ],
    [JSON.stringify({ ...file, token_uri: "ftp://x" }), /token_uri is not an http/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseServiceAccount(text), (e: Error) => {
      assert.ok(e instanceof ServiceAccountError, text);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("PEM to DER: line breaks, escaped \\n and whitespace are ignored", () => {
  const der = pemToPkcs8("-----BEGIN PRIVATE KEY-----\\nAQID\nBAU=\n-----END PRIVATE KEY-----");
  assert.deepEqual([...der], [1, 2, 3, 4, 5]);
  assert.throws(
    () => pemToPkcs8("-----BEGIN PRIVATE KEY-----\n%%%\n-----END PRIVATE KEY-----"),
    /not valid base64/,
  );
});
