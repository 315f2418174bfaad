// wss:// with a private CA: the gateway and the tools trust it through nats.tls.ca / NATS_CA (a
// Deno HttpClient with that CA under each websocket), with no --cert flag or DENO_CERT; without
// the CA the connection fails (certificate not trusted) and start-up says NATS is unreachable.
import assert from "node:assert/strict";
import { buildConfig } from "../../src/config.ts";
import { preflightNats } from "../../src/events/nats_preflight.ts";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import { eventually, mockProvider, startTestGateway } from "../_support/gateway.ts";
import { startNatsServer } from "../_support/nats_server.ts";
import OpenAI from "openai";

async function openssl(args: string[], cwd: string) {
  let out;
  try {
    out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
      .output();
  } catch (err) {
    throw new Error(
      `openssl is needed to make test certificates (apt-get install openssl): ${err}`,
    );
  }
  if (!out.success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
}

/** A CA and a server certificate for 127.0.0.1 signed by it, in a temp dir. */
async function makeCerts() {
  const dir = await Deno.makeTempDir({ prefix: "gateway-tls-" });
  const subj = (cn: string) => ["-subj", `/CN=${cn}`];
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    ...subj("gateway-test-ca"),
  ], dir);
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "srv.key",
    "-out",
    "srv.csr",
    ...subj("127.0.0.1"),
  ], dir);
  await Deno.writeTextFile(`${dir}/ext`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl([
    "x509",
    "-req",
    "-in",
    "srv.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "srv.pem",
    "-days",
    "2",
    "-extfile",
    "ext",
  ], dir);
  return { dir, ca: `${dir}/ca.pem`, cert: `${dir}/srv.pem`, key: `${dir}/srv.key` };
}

Deno.test("wss:// with a private CA: gateway, preflight and audit connect with nats.tls.ca / NATS_CA", async () => {
  const certs = await makeCerts();
  const nats = await startNatsServer({
    websocket:
      `websocket { host: "127.0.0.1", port: $WS_PORT, tls { cert_file: "${certs.cert}", key_file: "${certs.key}" } }`,
    conf: ['authorization { users: [ { user: gateway, password: "tls-pw" } ] }'],
  });
  const wss = `wss://127.0.0.1:${nats.wsPort}`;
  const mock = await startMockUpstream();
  try {
    const env = { NATS_USER: "gateway", NATS_PASSWORD: "tls-pw" };
    const config = (extra: Record<string, string>) =>
      buildConfig({ nats: { url: wss } }, (n) => ({ ...env, ...extra })[n], "test");
    // Without the CA: the certificate is not trusted; not fatal, but said.
    assert.match(
      (await preflightNats(config({}), 2_000)) ?? "",
      /not reachable at start/,
    );
    assert.equal(await preflightNats(config({ NATS_CA: certs.ca })), undefined);

    const gw = startTestGateway({
      providers: { primary: mockProvider(mock.url, "primary") },
      nats: { url: wss, tls: { ca: certs.ca } },
    }, env);
    let id = "";
    try {
      await gw.replayed;
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const res = await client.chat.completions.create({
        model: "primary/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      }).withResponse();
      id = res.response.headers.get("x-request-id")!;
      await eventually(() => gw.bus.stats().published > 0 && gw.bus.stats().buffered === 0);
      assert.equal(gw.bus.stats().connected, true);
    } finally {
      await gw.shutdown(1_000);
    }

    const audit = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        new URL("../../src/events/audit.ts", import.meta.url).pathname,
        id,
      ],
      env: { ...env, NATS_URL: wss, NATS_CA: certs.ca, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(audit.stderr);
    assert.equal(audit.code, 0, err);
    assert.match(new TextDecoder().decode(audit.stdout), /completed/);
  } finally {
    await mock.close();
    await nats.stop();
    await Deno.remove(certs.dir, { recursive: true });
  }
});
