// The container files, checked as far as a machine without a Docker daemon can: the Dockerfile's
// pins, lock, user and permissions; its CMD flags and HEALTHCHECK command run for real against
// the gateway (so a permission the gateway needs but the image lacks fails here, not in
// production); compose.yaml parsed, its files present, its nats-server config run by a real
// nats-server that the gateway then publishes to over the websocket, as in the container. And the
// dependency split: deno.json and deno.lock hold only what the gateway imports (`deno task serve`
// downloads every package in deno.lock), tests/deno.json adds the test-only SDKs on the same pins.
import assert from "node:assert/strict";
import { parse } from "yaml";
import { spawnGateway } from "../bench/faults/procs.ts";
import { buildConfig } from "../src/config.ts";

const root = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, root));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Dockerfile {
  from: string[];
  user?: string;
  runs: string[];
  cmd: string[];
  healthcheck: string[];
  env: Record<string, string>;
}

/** The instructions this project's Dockerfile uses (continuation lines joined). */
async function dockerfile(): Promise<Dockerfile> {
  const text = (await read("Dockerfile")).replace(/\\\n\s*/g, " ");
  const out: Dockerfile = { from: [], runs: [], cmd: [], healthcheck: [], env: {} };
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (!line || line.startsWith("#")) continue;
    const [, op, rest] = line.match(/^(\w+)\s+(.*)$/) ?? [];
    if (op === "FROM") out.from.push(rest);
    if (op === "USER") out.user = rest;
    if (op === "RUN") out.runs.push(rest);
    if (op === "CMD") out.cmd = JSON.parse(rest);
    if (op === "HEALTHCHECK") out.healthcheck = JSON.parse(rest.slice(rest.indexOf("CMD ") + 4));
    if (op === "ENV") {
      for (const [, k, v] of rest.matchAll(/(\w+)=(\S+)/g)) out.env[k] = v;
    }
  }
  return out;
}

async function natsBinary(): Promise<string> {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin"]) {
    try {
      if ((await Deno.stat(`${dir}/nats-server`)).isFile) return `${dir}/nats-server`;
    } catch { /* not here */ }
  }
  throw new Error("nats-server not found (sudo apt-get install -y nats-server)");
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

Deno.test("Dockerfile: pinned Deno, frozen lock, non-root, explicit permissions, health check", async () => {
  const d = await dockerfile();
  // The image runs the Deno the README tells people to use (`npx -y deno@X.Y.Z task serve`).
  const documented = (await read("README.md")).match(/deno@(\d+\.\d+\.\d+)/)?.[1];
  assert.ok(documented, "README names a Deno version");
  assert.deepEqual(d.from, [`denoland/deno:${documented}`], "pinned to the documented Deno");
  assert.ok(d.runs.some((r) => /^deno install --frozen\b/.test(r)), "deps from the committed lock");
  assert.ok(d.user && d.user !== "root" && d.user !== "0", `runs as ${d.user}`);
  assert.equal(d.cmd.slice(0, 2).join(" "), "deno run");
  assert.equal(d.cmd.at(-1), "src/main.ts");
  assert.ok(!d.cmd.some((f) => /^(-A|--allow-all|--allow-run|--allow-write|--allow-ffi)/.test(f)));
  assert.ok(d.cmd.includes("--allow-net") && d.cmd.includes("--allow-env"));
  assert.deepEqual(d.cmd.filter((f) => f.startsWith("--allow-read")), [
    // The config directory, and the gateway's own modules (workers load them: read access).
    "--allow-read=/etc/gateway,src,actors",
  ]);
  assert.ok(d.cmd.includes("--cached-only"), "nothing is fetched at start-up");
  assert.match(d.healthcheck.join(" "), /\/healthz/);
});

Deno.test("Dockerfile: the gateway runs under the image's permissions and its health check tells up from down", async () => {
  const d = await dockerfile();
  const dir = await Deno.makeTempDir({ prefix: "gateway-etc-" });
  // The compose example config, mounted where the image may read it (here: a temp dir).
  await Deno.writeTextFile(`${dir}/gateway.json`, await read("examples/compose/gateway.json"));
  const flags = d.cmd.slice(2, -1).map((f) => f.replace("=/etc/gateway", `=${dir}`));
  const gw = await spawnGateway({
    GATEWAY_CONFIG: `${dir}/gateway.json`,
    OPENAI_API_KEY: "sk-test",
    ANTHROPIC_API_KEY: "sk-ant-test",
  }, flags);
  const port = new URL(gw.url).port;
  const healthcheck = () =>
    new Deno.Command(Deno.execPath(), {
      args: d.healthcheck.slice(1),
      env: { PORT: port },
      stdout: "null",
      stderr: "null",
    }).output();
  try {
    assert.match(gw.stdout(), /provider openai: openai .* keys: openai-0 \(env OPENAI_API_KEY\)/);
    assert.match(gw.stdout(), /provider anthropic: anthropic /);
    assert.equal((await healthcheck()).code, 0, "healthy while serving");
    // Reading outside the allowed directory is refused by Deno, not by luck.
    const outside = await Deno.makeTempFile({ suffix: ".json" });
    await Deno.writeTextFile(outside, "{}");
    const denied = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, "src/main.ts"],
      cwd: root,
      env: { GATEWAY_CONFIG: outside, PORT: "0" },
      stdout: "null",
      stderr: "piped",
    }).output();
    await Deno.remove(outside);
    assert.equal(denied.code, 2);
    assert.match(new TextDecoder().decode(denied.stderr), /cannot read GATEWAY_CONFIG|NotCapable/);
  } finally {
    const status = await gw.stop("SIGTERM");
    assert.equal(status.code, 0, gw.stderr());
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal((await healthcheck()).code, 1, "unhealthy once stopped");
});

Deno.test("compose.yaml: nats-server with JetStream + websocket, the gateway wired to it", async () => {
  // deno-lint-ignore no-explicit-any
  const compose = parse(await read("compose.yaml")) as any;
  const d = await dockerfile();
  const { nats, gateway } = compose.services;

  assert.match(nats.image, /^nats:\d+\.\d+/, "a pinned nats-server image");
  const natsMount = nats.volumes.find((v: string) =>
    v.endsWith(":ro") && v.includes(":/etc/nats/nats-server.conf")
  );
  const [natsSrc, natsDst] = natsMount.split(":");
  assert.ok(nats.command.includes(natsDst), "nats-server reads the mounted config");
  const natsConf = await read(natsSrc.replace(/^\.\//, ""));
  assert.match(natsConf, /jetstream\s*\{/);
  const wsPort = natsConf.match(/websocket\s*\{[^}]*port:\s*(\d+)/)?.[1];
  assert.ok(wsPort, "a websocket listener");
  assert.ok(nats.healthcheck.test.join(" ").includes("/healthz"));

  assert.equal(gateway.build, ".");
  assert.equal(gateway.environment.NATS_URL, `ws://nats:${wsPort}`);
  // No anonymous access: the gateway logs in as its least-privilege user.
  assert.doesNotMatch(natsConf, /no_auth_user/);
  assert.match(natsConf, /authorization\s*\{/);
  assert.equal(gateway.environment.NATS_USER, "gateway");
  assert.match(gateway.environment.NATS_PASSWORD, /NATS_GATEWAY_PASSWORD/);
  assert.match(nats.environment.NATS_GATEWAY_PASSWORD, /NATS_GATEWAY_PASSWORD/);
  for (const m of natsConf.matchAll(/^include\s+\.\/(\S+)/gm)) {
    assert.ok(
      nats.volumes.some((v: string) => v.endsWith(`:/etc/nats/${m[1]}:ro`)),
      `${m[1]} is mounted next to the config that includes it`,
    );
  }
  assert.equal(gateway.depends_on.nats.condition, "service_healthy");
  const configPath = gateway.environment.GATEWAY_CONFIG as string;
  const allowed = d.cmd.find((f) => f.startsWith("--allow-read="))!.split("=")[1].split(",")[0];
  assert.ok(configPath.startsWith(`${allowed}/`), "the config sits where the image may read");
  const mount = gateway.volumes.find((v: string) => v.split(":")[1] === configPath);
  assert.ok(mount, `${configPath} is mounted`);
  const config = JSON.parse(await read(mount.split(":")[0].replace(/^\.\//, "")));
  // Every env: reference in the mounted config is passed through by compose.
  const env = (
    n: string,
  ) => (n in gateway.environment ? String(gateway.environment[n]) : undefined);
  assert.deepEqual(Object.keys(buildConfig(config, env, "compose").providers), [
    "openai",
    "anthropic",
  ]);
  assert.ok(parseInt(gateway.stop_grace_period) >= 15, "docker stop waits for the drain");
});

Deno.test("compose.yaml: its nats-server config runs, and the gateway stores events through its websocket", async () => {
  // deno-lint-ignore no-explicit-any
  const compose = parse(await read("compose.yaml")) as any;
  const mounts: string[] = compose.services.nats.volumes;
  const src = mounts.find((v) => v.includes(":/etc/nats/nats-server.conf"))!.split(":")[0];
  const dir = await Deno.makeTempDir({ prefix: "compose-nats-" });
  const [client, http, ws] = [freePort(), freePort(), freePort()];
  // The same file with this machine's free ports and a temp store instead of the volume.
  const conf = (await read(src.replace(/^\.\//, "")))
    .replace(/0\.0\.0\.0:4222/, `127.0.0.1:${client}`)
    .replace(/http_port:\s*8222/, `http_port: ${http}`)
    .replace(/port:\s*9222/, `port: ${ws}`)
    .replace(/"\/data"/, JSON.stringify(`${dir}/data`));
  await Deno.writeTextFile(`${dir}/nats.conf`, conf);
  for (const m of mounts) { // what the config includes, where compose mounts it
    const [from, to] = m.split(":");
    if (to.startsWith("/etc/nats/") && !to.endsWith("nats-server.conf")) {
      await Deno.copyFile(from.replace(/^\.\//, ""), `${dir}/${to.slice("/etc/nats/".length)}`);
    }
  }
  const nats = new Deno.Command(await natsBinary(), {
    args: ["--config", `${dir}/nats.conf`],
    env: { NATS_GATEWAY_PASSWORD: "gw-secret", NATS_OBSERVER_PASSWORD: "obs-secret" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  let gw: Awaited<ReturnType<typeof spawnGateway>> | undefined;
  try {
    let healthy = false;
    for (let i = 0; i < 100 && !healthy; i++) {
      healthy = await fetch(`http://127.0.0.1:${http}/healthz?js-enabled-only=true`)
        .then(async (r) => (await r.body?.cancel(), r.ok)).catch(() => false);
      if (!healthy) await sleep(50);
    }
    assert.ok(healthy, "the compose health check URL answers 200");
    await Deno.writeTextFile(
      `${dir}/gateway.json`,
      JSON.stringify({
        providers: { local: { type: "openai", baseUrl: "http://127.0.0.1:9/v1" } },
      }),
    );
    gw = await spawnGateway({
      GATEWAY_CONFIG: `${dir}/gateway.json`,
      NATS_URL: `ws://127.0.0.1:${ws}`,
      NATS_USER: "gateway",
      NATS_PASSWORD: "gw-secret",
    });
    let events: { connected?: boolean; published?: number } = {};
    for (let i = 0; i < 100 && !(events.connected && events.published); i++) {
      // A refused upstream still makes events (request, attempt, failure) to publish.
      if (i % 20 === 0) {
        await fetch(`${gw.url}/v1/chat/completions`, {
          method: "POST",
          body: JSON.stringify({ model: "local/m", messages: [{ role: "user", content: "hi" }] }),
        }).then((r) => r.body?.cancel());
      }
      const r = await fetch(`${gw.url}/readyz`);
      events = (await r.json()).events ?? {};
      await sleep(50);
    }
    assert.equal(events.connected, true, "the gateway reached nats-server over the websocket");
    assert.ok((events.published ?? 0) > 0, "JetStream acknowledged the gateway's events");
  } finally {
    if (gw) await gw.stop("SIGTERM");
    nats.kill("SIGTERM");
    await nats.status;
    await Deno.remove(dir, { recursive: true });
  }
});

/** The npm package an import-map target names: "npm:/@langchain/core@^1.4.0/" → "@langchain/core". */
const npmName = (target: string) => target.match(/^npm:\/?((?:@[^/@]+\/)?[^/@]+)/)?.[1];
/** The package a lock or graph key names: "@aws-sdk/core@3.981.1_x@1" → "@aws-sdk/core". */
const pkgName = (key: string) => key.match(/^(@?[^@]+)@/)![1];
const readJson = async (path: string) => JSON.parse(await read(path));

interface DenoConfig {
  imports: Record<string, string>;
  compilerOptions: unknown;
  fmt: { lineWidth: number };
  lint: unknown;
  unstable: string[];
}
interface Lock {
  specifiers: Record<string, string>;
  npm: Record<string, { scripts?: boolean; integrity?: string; dependencies?: string[] }>;
}

/** Packages only tests/deno.json imports: the SDKs the tests drive the gateway with. */
async function testOnlyPackages(): Promise<string[]> {
  const [app, tests]: DenoConfig[] = await Promise.all([
    readJson("deno.json"),
    readJson("tests/deno.json"),
  ]);
  return Object.entries(tests.imports).filter(([k]) => !(k in app.imports))
    .map(([, target]) => npmName(target)!);
}

Deno.test("deno task serve installs only what the gateway imports: no test SDK, no build script", async () => {
  // `deno task` (and `deno run`) download every npm package in deno.lock before the first line
  // runs, so the lock may hold only packages in src/main.ts's module graph.
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--frozen", "--json", "src/main.ts"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(info.stderr);
  assert.equal(info.code, 0, `deno.lock agrees with deno.json (deno info --frozen):\n${stderr}`);
  const graph = Object.keys(JSON.parse(new TextDecoder().decode(info.stdout)).npmPackages);
  const lock: Lock = await readJson("deno.lock");

  const unused = Object.keys(lock.npm).filter((p) => !graph.includes(p));
  assert.deepEqual(unused, [], "every package serve downloads is one the gateway imports");
  const testOnly = await testOnlyPackages();
  assert.ok(testOnly.includes("openai") && testOnly.includes("puppeteer-core"), testOnly.join());
  assert.deepEqual(graph.map(pkgName).filter((p) => testOnly.includes(p)), []);
  // A package with an install script makes a first run print "Ignored build scripts" (protobufjs,
  // pulled in by @google/genai, did) before the gateway's own start-up lines.
  const scripted = Object.entries(lock.npm).filter(([, p]) => p.scripts).map(([k]) => k);
  assert.deepEqual(scripted, [], "no package serve installs has a build script");
  assert.doesNotMatch(stderr, /Warning/);
});

Deno.test("tests/deno.json runs the tests on the gateway's own dependency pins and compiler settings", async () => {
  const [app, tests]: DenoConfig[] = await Promise.all([
    readJson("deno.json"),
    readJson("tests/deno.json"),
  ]);
  for (const [name, target] of Object.entries(app.imports)) {
    assert.equal(tests.imports[name], target, `tests/deno.json maps ${name} as deno.json does`);
  }
  assert.deepEqual(tests.compilerOptions, app.compilerOptions);
  assert.deepEqual(tests.unstable, app.unstable, "tests run under the same unstable features");
  assert.deepEqual(tests.lint, app.lint);
  assert.equal(tests.fmt.lineWidth, app.fmt.lineWidth, "an editor formats tests/ like deno fmt");

  // And both locks resolve those pins to the same versions, so the gateway a test starts in-process
  // runs the code a `deno task serve` (or a test's `deno run src/main.ts` child) runs.
  const [appLock, testsLock]: Lock[] = await Promise.all([
    readJson("deno.lock"),
    readJson("tests/deno.lock"),
  ]);
  for (const [specifier, version] of Object.entries(appLock.specifiers)) {
    assert.equal(testsLock.specifiers[specifier], version, specifier);
  }
  // A lock names a dependency bare while it holds one version of it, and with its version once a
  // test-only SDK pins another: compare the versions they resolve to, not how they are spelled.
  const resolved = (lock: Lock, dep: string) =>
    dep.lastIndexOf("@") > 0 ? dep : Object.keys(lock.npm).find((k) => k.startsWith(`${dep}@`));
  for (const [pkg, entry] of Object.entries(appLock.npm)) {
    const inTests = testsLock.npm[pkg];
    assert.ok(inTests, `tests/deno.lock has ${pkg}`);
    assert.equal(inTests.integrity, entry.integrity, pkg);
    assert.deepEqual(
      (inTests.dependencies ?? []).map((d) => resolved(testsLock, d)),
      (entry.dependencies ?? []).map((d) => resolved(appLock, d)),
      pkg,
    );
  }
});
