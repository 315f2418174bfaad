// `deno task serve` as a user runs it: a real subprocess with a clean environment.
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const main = new URL("../src/main.ts", import.meta.url);

/** Only what Deno itself needs: no GATEWAY_CONFIG, NATS_URL or API keys leak in from the host. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1", ...extra };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  return env;
}

function gateway(env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", main.href],
    cwd: root,
    clearEnv: true,
    env: cleanEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

Deno.test("main: starts with no config, prints what it serves, answers /healthz, stops on SIGTERM", async () => {
  const child = gateway({ PORT: "0" }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  let out = "";
  let killed = false;
  try {
    const deadline = Date.now() + 30_000;
    while (!out.includes("events:")) {
      assert.ok(Date.now() < deadline, `no start-up lines within 30 s:\n${out}`);
      const r = await stdout.read();
      if (r.done) assert.fail(`the gateway exited during start-up:\n${out}\n${await stderr}`);
      out += r.value;
    }
    const url = out.match(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
    assert.ok(url, out);
    assert.notEqual(url[2], "0", "the real port is shown, not PORT=0");
    assert.match(out, /config: environment \(no GATEWAY_CONFIG file\)/);
    assert.match(out, /providers: none yet\. Set OPENAI_API_KEY and\/or ANTHROPIC_API_KEY/);
    assert.match(out, /events: in-process event bus \(NATS_URL not set\)/);

    const health = await fetch(`${url[1]}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const ready = await fetch(`${url[1]}/readyz`);
    assert.equal(ready.status, 503, "no providers: not ready");
    await ready.body?.cancel();

    child.kill("SIGTERM");
    killed = true;
    while (true) {
      const r = await stdout.read();
      if (r.done) break;
      out += r.value;
    }
    const status = await child.status;
    assert.equal(status.code, 0, `exit ${status.code}:\n${out}\n${await stderr}`);
    assert.match(out, /SIGTERM received, draining/);
    assert.match(out, /gateway: stopped/);
  } finally {
    if (!killed) child.kill("SIGKILL");
    await stdout.cancel().catch(() => {});
    await stderr;
    if (!killed) await child.status;
  }
});

Deno.test("main: an API key in the environment makes its provider appear, secret unprinted", async () => {
  const child = gateway({ PORT: "0", ANTHROPIC_API_KEY: "sk-ant-never-printed" }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  let out = "";
  try {
    while (!out.includes("events:")) {
      const r = await stdout.read();
      if (r.done) assert.fail(`the gateway exited during start-up:\n${out}\n${await stderr}`);
      out += r.value;
    }
    assert.match(
      out,
      /provider anthropic: anthropic https:\/\/api\.anthropic\.com\/v1 {2}keys: anthropic-0 \(env ANTHROPIC_API_KEY\)/,
    );
    assert.doesNotMatch(out, /providers: none yet/);
    assert.doesNotMatch(out, /sk-ant-never-printed/);
  } finally {
    child.kill("SIGTERM");
    await stdout.cancel().catch(() => {});
    assert.doesNotMatch(await stderr, /sk-ant-never-printed/);
    assert.equal((await child.status).code, 0);
  }
});

Deno.test("main: a bad GATEWAY_CONFIG exits 2 with a message naming the field", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, string, Record<string, string>, RegExp][] = [
      [
        "unknown provider type",
        JSON.stringify({ providers: { groq: { type: "grok" } } }),
        {},
        /providers\.groq\.type: /,
      ],
      [
        "missing key variable",
        JSON.stringify({
          providers: { openai: { type: "openai", keys: [{ value: "env:NOPE" }] } },
        }),
        {},
        /providers\.openai\.keys\[0\]\.value: environment variable NOPE is not set/,
      ],
      ["not JSON", "{ providers", {}, /gateway\.json is not valid JSON/],
      ["bad PORT", "{}", { PORT: "http" }, /PORT must be a port number/],
    ];
    for (const [name, text, env, want] of cases) {
      await t.step(name, async () => {
        const path = `${dir}/gateway.json`;
        await Deno.writeTextFile(path, text);
        const out = await gateway({ GATEWAY_CONFIG: path, ...env }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 2, stderr);
        assert.match(stderr, /^gateway: /);
        assert.match(stderr, want);
        assert.equal(new TextDecoder().decode(out.stdout), "", "nothing was started");
      });
    }
    await t.step("unreadable path", async () => {
      const out = await gateway({ GATEWAY_CONFIG: `${dir}/missing.json` }).output();
      assert.equal(out.code, 2);
      assert.match(
        new TextDecoder().decode(out.stderr),
        /cannot read GATEWAY_CONFIG file .*missing\.json/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
