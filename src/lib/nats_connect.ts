// How every NATS connection of the gateway and its tools is made: which servers (a cluster is a
// list; nats.js fails over between them), which credential (user+password, token, NKey seed or a
// .creds file) and which CA for wss://. Built once from gateway.json or the environment and read
// by the gateway's connections, `deno task events` and `deno task audit` alike.
// Secrets never leave this file in a printable form: describe() and redactUrl() are what logs,
// start-up lines and error messages show.
import {
  type Authenticator,
  AuthorizationError,
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type WsConnectionOptions,
} from "@nats-io/nats-core";

/** One credential; exactly one kind per connection. */
export type NatsAuth =
  | { kind: "user"; user: string; password: string }
  | { kind: "token"; token: string }
  | { kind: "nkey"; seed: string }
  | { kind: "creds"; path: string };

export interface NatsAccess {
  /** Websocket URLs (ws:// or wss://), userinfo removed; several = a cluster to fail over in. */
  servers: readonly string[];
  auth?: NatsAuth;
  /** PEM file of the CA that signed the servers' wss:// certificates (else the system roots). */
  ca?: string;
}

type Env = (name: string) => string | undefined;

/** A URL with any user:password@ replaced by ***@, for logs and messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, "$1***@");
}

/** The servers as shown to a person: comma-separated, userinfo redacted. */
export const describeServers = (servers: readonly string[]) => servers.map(redactUrl).join(",");

/**
 * Splits `NATS_URL`-style input (comma-separated string or array) into servers, taking any
 * user:password@ out of the URLs (the first one found becomes a credential).
 */
export function parseServers(raw: string | readonly string[]): {
  servers: string[];
  userinfo?: { user: string; password: string };
} {
  const list = (typeof raw === "string" ? raw.split(",") : raw).map((s) => s.trim()).filter(
    Boolean,
  );
  let userinfo: { user: string; password: string } | undefined;
  const servers = list.map((s) => {
    const m = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@(.*)$/i.exec(s);
    if (!m) return s;
    const [user, ...rest] = m[2].split(":");
    userinfo ??= { user: decodeURIComponent(user), password: decodeURIComponent(rest.join(":")) };
    return m[1] + m[3];
  });
  return { servers, userinfo };
}

/** The credential named by the environment, or undefined; throws naming the variable if half set. */
export function authFromEnv(env: Env): NatsAuth | undefined {
  const get = (n: string) => {
    const v = env(n);
    return v === undefined || v === "" ? undefined : v;
  };
  const found: NatsAuth[] = [];
  const user = get("NATS_USER"), password = get("NATS_PASSWORD");
  if (user !== undefined || password !== undefined) {
    if (user === undefined || password === undefined) {
      throw new Error("NATS_USER and NATS_PASSWORD go together (one is set, the other is not)");
    }
    found.push({ kind: "user", user, password });
  }
  const token = get("NATS_TOKEN");
  if (token !== undefined) found.push({ kind: "token", token });
  const seed = get("NATS_NKEY_SEED");
  if (seed !== undefined) found.push({ kind: "nkey", seed });
  const creds = get("NATS_CREDS");
  if (creds !== undefined) found.push({ kind: "creds", path: creds });
  if (found.length > 1) {
    throw new Error(
      `more than one NATS credential in the environment (${
        found.map(kindVar).join(", ")
      }): set exactly one`,
    );
  }
  return found[0];
}

const kindVar = (a: NatsAuth) =>
  a.kind === "user"
    ? "NATS_USER/NATS_PASSWORD"
    : a.kind === "token"
    ? "NATS_TOKEN"
    : a.kind === "nkey"
    ? "NATS_NKEY_SEED"
    : "NATS_CREDS";

/** What the tools (events, audit) connect with: NATS_URL, one credential, NATS_CA. */
export function accessFromEnv(env: Env, fallbackUrl = "ws://127.0.0.1:9222"): NatsAccess {
  const { servers, userinfo } = parseServers(env("NATS_URL") || fallbackUrl);
  const fromEnv = authFromEnv(env);
  const auth = fromEnv ??
    (userinfo
      ? { kind: "user" as const, user: userinfo.user, password: userinfo.password }
      : undefined);
  return { servers, auth, ca: env("NATS_CA") || undefined };
}

/** The credential as a person may see it: its kind and the non-secret part. */
export function describeAuth(auth: NatsAuth | undefined): string {
  switch (auth?.kind) {
    case undefined:
      return "no credentials";
    case "user":
      return `user "${auth.user}"`;
    case "token":
      return "a token";
    case "nkey":
      return "an NKey seed";
    case "creds":
      return `creds file ${auth.path}`;
  }
}

export function describeAccess(a: NatsAccess): string {
  const tls = a.ca ? `, CA ${a.ca}` : "";
  return `${describeServers(a.servers)} (${describeAuth(a.auth)}${tls})`;
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${err instanceof Error ? err.message : err}`);
  }
}

/** The nats.js authenticator for a credential (reads a creds file now). */
export function authenticatorFor(auth: NatsAuth): Authenticator {
  switch (auth.kind) {
    case "user":
      return usernamePasswordAuthenticator(auth.user, auth.password);
    case "token":
      return tokenAuthenticator(auth.token);
    case "nkey":
      return nkeyAuthenticator(new TextEncoder().encode(auth.seed));
    case "creds":
      return credsAuthenticator(readFile(auth.path, "NATS creds file"));
  }
}

/**
 * Options for wsconnect(): servers, authenticator, and with a CA a websocket factory whose
 * sockets trust it (Deno's WebSocket takes an HttpClient built with that CA).
 */
export function connectOptions(
  a: NatsAccess,
  extra: Omit<WsConnectionOptions, "servers" | "authenticator" | "wsFactory"> = {},
): WsConnectionOptions {
  const opts: WsConnectionOptions = { ...extra, servers: [...a.servers] };
  if (a.auth) opts.authenticator = authenticatorFor(a.auth);
  if (a.ca) {
    const pem = new TextDecoder().decode(readFile(a.ca, "NATS CA file"));
    const client = Deno.createHttpClient({ caCerts: [pem] });
    opts.wsFactory = (u: string) =>
      Promise.resolve({
        socket: new WebSocket(u, { client }),
        encrypted: u.startsWith("wss://"),
      });
  }
  return opts;
}

/** True when the server refused who we are (bad or missing credential, expired JWT). */
export function isAuthError(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof AuthorizationError) return true;
    if (/authori[sz]ation violation|authentication (timeout|expired)/i.test(e.message)) return true;
  }
  return false;
}

/** The start-up message for a refused credential: which, where, and what to check. */
export function authRefusal(a: NatsAccess, err: unknown): string {
  const why = err instanceof Error ? err.message : String(err);
  return `NATS at ${describeServers(a.servers)} refused ${describeAuth(a.auth)} (${why}). ` +
    (a.auth
      ? "Check the credential in nats.auth or NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED, NATS_CREDS against the server's users."
      : "The server requires credentials: set nats.auth in gateway.json or one of NATS_USER+NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED, NATS_CREDS.");
}
