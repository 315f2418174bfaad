import assert from "node:assert/strict";
import { type McpConfig, McpSchema, resolveMcp } from "../../src/mcp/config.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

function resolve(section: unknown, vars: Record<string, string> = {}) {
  const problems: string[] = [];
  const config: McpConfig = resolveMcp(McpSchema.parse(section), envOf(vars), problems);
  return { config, problems };
}

Deno.test("mcp config: an empty section has no servers and stdio off", () => {
  const parsed = McpSchema.parse({});
  assert.equal(parsed.allowStdio, false);
  assert.deepEqual(resolve({}), { config: { servers: {} }, problems: [] });
});

Deno.test("mcp config: an HTTP server gets its defaults and its transport", () => {
  const { config, problems } = resolve({
    servers: { docs: { url: "http://127.0.0.1:3001/mcp", allow: ["search"] } },
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(config.servers.docs, {
    name: "docs",
    allow: ["search"],
    timeoutMs: 30_000,
    pingMs: 15_000,
    breaker: {
      failureRateThreshold: 0.5,
      minimumRequests: 3,
      windowMs: 30_000,
      openMs: 10_000,
      maxOpenMs: 60_000,
      halfOpenProbes: 1,
    },
    transport: { kind: "http", url: "http://127.0.0.1:3001/mcp", headers: {} },
  });
});

Deno.test("mcp config: a stdio server with allowStdio runs its command", () => {
  const { config, problems } = resolve({
    allowStdio: true,
    servers: { fs: { command: "mcp-fs", args: ["/data"], env: { A: "1" }, pingMs: 0 } },
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(config.servers.fs.transport, {
    kind: "stdio",
    command: "mcp-fs",
    args: ["/data"],
    env: { A: "1" },
  });
  assert.equal(config.servers.fs.pingMs, 0);
  assert.deepEqual(
    resolve({ allowStdio: true, servers: { fs: { command: "x" } } }).config.servers.fs.transport,
    { kind: "stdio", command: "x", args: [], env: {} },
  );
});

Deno.test("mcp config: a stdio server without allowStdio is refused, naming the field", () => {
  const { config, problems } = resolve({ servers: { fs: { command: "mcp-fs" } } });
  assert.deepEqual(config.servers, {});
  assert.equal(problems.length, 1);
  assert.match(problems[0], /mcp\.servers\.fs\.command/);
  assert.match(problems[0], /mcp\.allowStdio/);
});

Deno.test("mcp config: url and command both, or neither, are refused", () => {
  for (const server of [{ url: "http://h/mcp", command: "x" }, {}]) {
    const { config, problems } = resolve({ allowStdio: true, servers: { s: server } });
    assert.deepEqual(config.servers, {}, JSON.stringify(server));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /mcp\.servers\.s: set exactly one of "url".*"command"/);
  }
});

Deno.test("mcp config: one bad server does not hide the good ones", () => {
  const { config, problems } = resolve({
    servers: { bad: {}, good: { url: "http://h/mcp" } },
  });
  assert.deepEqual(Object.keys(config.servers), ["good"]);
  assert.equal(problems.length, 1);
});

Deno.test("mcp config: env: header values are read from the environment", () => {
  const { config, problems } = resolve(
    {
      servers: {
        gh: {
          url: "http://h/mcp",
          headers: { Authorization: "env:GH_TOKEN", "X-Plain": "literal" },
        },
      },
    },
    { GH_TOKEN: "Bearer s3cret" },
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(config.servers.gh.transport, {
    kind: "http",
    url: "http://h/mcp",
    headers: { Authorization: "Bearer s3cret", "X-Plain": "literal" },
  });
});

Deno.test("mcp config: an env: reference unset or empty is a problem naming the header", () => {
  for (const vars of [{}, { TOKEN: "" }] as Record<string, string>[]) {
    const { problems } = resolve(
      { servers: { gh: { url: "http://h/mcp", headers: { Authorization: "env:TOKEN" } } } },
      vars,
    );
    assert.equal(problems.length, 1, JSON.stringify(vars));
    assert.match(problems[0], /mcp\.servers\.gh\.headers\.Authorization/);
    assert.match(problems[0], /TOKEN is not set/);
  }
});

Deno.test("mcp config: the schema refuses bad names, unknown fields and bad values", () => {
  const bad: unknown[] = [
    { servers: { "Bad Name": { url: "http://h/mcp" } } },
    { servers: { ["x".repeat(33)]: { url: "http://h/mcp" } } },
    { servers: { s: { url: "not a url" } } },
    { servers: { s: { url: "http://h/mcp", extra: 1 } } },
    { servers: { s: { url: "http://h/mcp", timeoutMs: 0 } } },
    { servers: { s: { url: "http://h/mcp", breaker: { failureRateThreshold: 1.5 } } } },
    { allowStdio: "yes" },
    { unknown: true },
  ];
  for (const section of bad) {
    assert.equal(McpSchema.safeParse(section).success, false, JSON.stringify(section));
  }
  assert.equal(
    McpSchema.safeParse({ servers: { "a-b_9": { url: "http://h/mcp" } } }).success,
    true,
  );
});
