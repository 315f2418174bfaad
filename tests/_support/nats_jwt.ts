// Operator-mode NATS for tests: an operator, a system account and an application account (with
// JetStream), and user .creds files, as `nsc` would make them. The JWTs are signed here with
// nkeys (ed25519) in the NATS JWT v2 format; nats-server verifies the chain operator → account →
// user on connect.
import { nkeys } from "@nats-io/nats-core";

type KeyPair = ReturnType<typeof nkeys.createUser>;

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const b32 = (bytes: Uint8Array) => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0, out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return bits > 0 ? out + alphabet[(value << (5 - bits)) & 31] : out;
};

async function jwt(signer: KeyPair, claims: Record<string, unknown>): Promise<string> {
  const body = {
    ...claims,
    jti: "",
    iat: Math.floor(Date.now() / 1000),
    iss: signer.getPublicKey(),
  };
  body.jti = b32(
    new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(JSON.stringify(body)))),
  );
  const header = b64url(enc.encode(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" })));
  const payload = b64url(enc.encode(JSON.stringify(body)));
  const sig = signer.sign(enc.encode(`${header}.${payload}`));
  return `${header}.${payload}.${b64url(sig)}`;
}

const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};

export interface OperatorSetup {
  /** Lines for nats-server's config (operator, system account, memory resolver with both accounts). */
  conf: string[];
  /** A .creds file's text for a new user of the application account. */
  userCreds(name: string): Promise<string>;
}

export async function operatorSetup(): Promise<OperatorSetup> {
  const operator = nkeys.createOperator();
  const sys = nkeys.createAccount();
  const app = nkeys.createAccount();
  const opJwt = await jwt(operator, {
    sub: operator.getPublicKey(),
    name: "test-operator",
    nats: { type: "operator", version: 2, system_account: sys.getPublicKey() },
  });
  const account = (kp: KeyPair, name: string, jetstream: boolean) =>
    jwt(operator, {
      sub: kp.getPublicKey(),
      name,
      nats: {
        type: "account",
        version: 2,
        limits: {
          ...UNLIMITED,
          ...(jetstream
            ? { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1, max_ack_pending: -1 }
            : {}),
        },
      },
    });
  const sysJwt = await account(sys, "SYS", false);
  const appJwt = await account(app, "APP", true);
  return {
    conf: [
      `operator: ${opJwt}`,
      `system_account: ${sys.getPublicKey()}`,
      "resolver: MEMORY",
      `resolver_preload: { ${sys.getPublicKey()}: ${sysJwt}, ${app.getPublicKey()}: ${appJwt} }`,
    ],
    async userCreds(name) {
      const user = nkeys.createUser();
      const userJwt = await jwt(app, {
        sub: user.getPublicKey(),
        name,
        nats: { type: "user", version: 2, pub: {}, sub: {}, subs: -1, data: -1, payload: -1 },
      });
      const seed = new TextDecoder().decode(user.getSeed());
      return `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n` +
        `************************* IMPORTANT *************************\n\n` +
        `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
    },
  };
}
