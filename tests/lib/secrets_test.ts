import assert from "node:assert/strict";
import {
  bearerToken,
  constantTimeEqual,
  newVirtualKey,
  saltedDigest,
  secretMatcher,
  toBase64Url,
  toHex,
  virtualKeyId,
} from "../../src/lib/secrets.ts";

Deno.test("a new virtual key is vk-<id>-<secret>, and its id can be read back from it", () => {
  const k = newVirtualKey();
  assert.match(k.secret, /^vk-[0-9a-f]{16}-[A-Za-z0-9_-]{43}$/);
  assert.equal(virtualKeyId(k.secret), k.id);
  assert.match(k.salt, /^[0-9a-f]{32}$/);
});

Deno.test("every new key, id and salt is different", () => {
  const keys = Array.from({ length: 200 }, newVirtualKey);
  for (const field of ["id", "secret", "salt"] as const) {
    assert.equal(new Set(keys.map((k) => k[field])).size, keys.length, field);
  }
});

Deno.test("strings that are not gateway-made keys have no id", () => {
  for (
    const s of [
      "sk-proj-abc",
      "vk-0123456789abcdef",
      "vk-0123456789ABCDEF-" + "a".repeat(43),
      "vk-0123456789abcdef-" + "a".repeat(42),
      "vk-0123456789abcdef-" + "a".repeat(43) + "x",
      "",
    ]
  ) assert.equal(virtualKeyId(s), undefined, s);
});

Deno.test("the salted digest is SHA-256 of salt:secret, and differs per salt", async () => {
  // sha256("s:abc"), computed independently
  const expected = toHex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("s:abc"))),
  );
  assert.equal(await saltedDigest("s", "abc"), expected);
  assert.match(expected, /^[0-9a-f]{64}$/);
  assert.notEqual(await saltedDigest("t", "abc"), expected);
  assert.notEqual(await saltedDigest("s", "abd"), expected);
});

Deno.test("constantTimeEqual says equal only for equal strings", () => {
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
  assert.equal(constantTimeEqual("", ""), true);
  assert.equal(constantTimeEqual("é", "e"), false);
});

Deno.test("base64url and hex encodings", () => {
  assert.equal(toBase64Url(new Uint8Array([0xfb, 0xff, 0xfe])), "-__-");
  assert.equal(toBase64Url(new Uint8Array([1])), "AQ");
  assert.equal(toHex(new Uint8Array([0, 15, 255])), "000fff");
});

Deno.test("bearerToken reads `Bearer <token>` (any case) and nothing else", () => {
  assert.equal(bearerToken("Bearer abc"), "abc");
  assert.equal(bearerToken("bearer  abc  "), "abc");
  for (const h of [null, undefined, "", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "abc"]) {
    assert.equal(bearerToken(h), undefined, String(h));
  }
});

Deno.test("secretMatcher accepts the secret only, whatever the length of a guess", async () => {
  const matches = secretMatcher("s3cret-admin", "admin");
  assert.equal(await matches("s3cret-admin"), true);
  for (
    const guess of ["", "s", "s3cret-admi", "s3cret-admin ", "S3cret-admin", "x".repeat(100_000)]
  ) {
    assert.equal(await matches(guess), false, guess.slice(0, 20));
  }
});
