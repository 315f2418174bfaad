import assert from "node:assert/strict";
import { AuthorizationError, nkeys } from "@nats-io/nats-core";

const { createUser } = nkeys; // @nats-io/nkeys, as nats-core ships it
import {
  accessFromEnv,
  authenticatorFor,
  authFromEnv,
  authRefusal,
  connectOptions,
  describeAccess,
  isAuthError,
  parseServers,
  redactUrl,
} from "../../src/lib/nats_connect.ts";

const envOf = (vars: Record<string, string>) => (n: string) => vars[n];

Deno.test("redactUrl hides userinfo and nothing else", () => {
  assert.equal(redactUrl("wss://gw:s3cret@nats.example:443/x"), "wss://***@nats.example:443/x");
  assert.equal(redactUrl("ws://tok3n@127.0.0.1:9222"), "ws://***@127.0.0.1:9222");
  assert.equal(redactUrl("ws://127.0.0.1:9222"), "ws://127.0.0.1:9222");
});

Deno.test("parseServers: a comma-separated list or an array; userinfo becomes a credential", () => {
  assert.deepEqual(parseServers("ws://a:1, ws://b:2 ,ws://c:3"), {
    servers: ["ws://a:1", "ws://b:2", "ws://c:3"],
    userinfo: undefined,
  });
  assert.deepEqual(parseServers(["ws://gw:p%40ss:w@a:1", "ws://b:2"]), {
    servers: ["ws://a:1", "ws://b:2"],
    userinfo: { user: "gw", password: "p@ss:w" },
  });
});

Deno.test("authFromEnv: exactly one credential; halves and doubles are named errors", () => {
  assert.equal(authFromEnv(envOf({})), undefined);
  assert.deepEqual(authFromEnv(envOf({ NATS_USER: "u", NATS_PASSWORD: "p" })), {
    kind: "user",
    user: "u",
    password: "p",
  });
  assert.deepEqual(authFromEnv(envOf({ NATS_TOKEN: "t" })), { kind: "token", token: "t" });
  assert.deepEqual(authFromEnv(envOf({ NATS_NKEY_SEED: "SU" })), { kind: "nkey", seed: "SU" });
  assert.deepEqual(authFromEnv(envOf({ NATS_CREDS: "/x.creds" })), {
    kind: "creds",
    path: "/x.creds",
  });
  assert.throws(() => authFromEnv(envOf({ NATS_USER: "u" })), /NATS_USER and NATS_PASSWORD/);
  assert.throws(
    () => authFromEnv(envOf({ NATS_TOKEN: "t", NATS_CREDS: "/x" })),
    /more than one NATS credential.*NATS_TOKEN, NATS_CREDS/,
  );
});

Deno.test("accessFromEnv (the tools): NATS_URL list, credential, CA; default URL", () => {
  assert.deepEqual(accessFromEnv(envOf({})), {
    servers: ["ws://127.0.0.1:9222"],
    auth: undefined,
    ca: undefined,
  });
  const a = accessFromEnv(envOf({ NATS_URL: "wss://obs:pw@a:1,wss://b:2", NATS_CA: "/ca.pem" }));
  assert.deepEqual(a, {
    servers: ["wss://a:1", "wss://b:2"],
    auth: { kind: "user", user: "obs", password: "pw" },
    ca: "/ca.pem",
  });
  assert.equal(describeAccess(a), 'wss://a:1,wss://b:2 (user "obs", CA /ca.pem)');
});

Deno.test("describe and refusal messages name the credential's kind, never its secret", () => {
  const secret = "very-secret-value";
  const auths = [
    { kind: "user", user: "gateway", password: secret },
    { kind: "token", token: secret },
    { kind: "nkey", seed: secret },
  ] as const;
  for (const auth of auths) {
    const a = { servers: ["ws://h:1"], auth };
    const msg = authRefusal(a, new AuthorizationError("'Authorization Violation'"));
    assert.ok(!msg.includes(secret), msg);
    assert.ok(!describeAccess(a).includes(secret));
    assert.match(msg, /NATS at ws:\/\/h:1 refused (user "gateway"|a token|an NKey seed)/);
  }
  assert.match(
    authRefusal({ servers: ["ws://h:1"] }, new Error("x")),
    /requires credentials: set nats.auth/,
  );
});

Deno.test("isAuthError: nats.js authorization errors, also wrapped; not connection errors", () => {
  assert.ok(isAuthError(new AuthorizationError("'Authorization Violation'")));
  assert.ok(isAuthError(new Error("outer", { cause: new AuthorizationError("x") })));
  assert.ok(!isAuthError(new Error("connection refused")));
  assert.ok(!isAuthError("Authorization Violation"));
});

Deno.test("a creds file becomes a creds authenticator; an unreadable one is a named error", async () => {
  const user = createUser();
  const seed = new TextDecoder().decode(user.getSeed());
  // A creds file as `nsc` writes it (the JWT is opaque to the client: it is sent as is).
  const jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJVIn0.c2ln";
  const creds = `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
    `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
  const path = await Deno.makeTempFile({ suffix: ".creds" });
  try {
    await Deno.writeTextFile(path, creds);
    const auth = authenticatorFor({ kind: "creds", path });
    const nonce = "abc123";
    const answer = auth(nonce) as { jwt: string; nkey: string; sig: string };
    assert.equal(answer.jwt, jwt);
    assert.equal(answer.nkey, user.getPublicKey());
    const sig = Uint8Array.from(
      atob(answer.sig.replace(/-/g, "+").replace(/_/g, "/")),
      (c) => c.charCodeAt(0),
    );
    assert.ok(user.verify(new TextEncoder().encode(nonce), sig), "the nonce is signed by the seed");
  } finally {
    await Deno.remove(path);
  }
  assert.throws(
    () => connectOptions({ servers: ["ws://h:1"], auth: { kind: "creds", path: "/nope.creds" } }),
    /cannot read NATS creds file \/nope\.creds/,
  );
  assert.throws(
    () => connectOptions({ servers: ["wss://h:1"], ca: "/nope-ca.pem" }),
    /cannot read NATS CA file \/nope-ca\.pem/,
  );
});
