// GET /dashboard in a real headless Chromium (Debian's package, driven by puppeteer-core), loaded
// from a real gateway in front of the mock upstream: a failover caused by the test must show up on
// the page as it happens. Missing Chromium is a failure with the install command, never a skip.
//
// DASHBOARD_SCREENSHOT=docs/dashboard.png \
//   deno test -A --config tests/deno.json tests/http/dashboard_test.ts
// refreshes the screenshot in docs/events.md (tests/deno.json maps puppeteer-core; deno.json does not).
import assert from "node:assert/strict";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { startMockUpstream } from "../../bench/mock/mod.ts";
import type { ConfigFile } from "../../src/config.ts";
import { mockProvider, startTestGateway } from "../_support/gateway.ts";
import { startMcpTestServer } from "../_support/mcp_server.ts";
import { shippedPermissions, startNatsServer } from "../_support/nats_server.ts";

const INSTALL = "sudo apt-get update && sudo apt-get install -y chromium";

async function findChromium(): Promise<string> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), "/usr/bin"];
  for (const dir of dirs) {
    for (const name of ["chromium", "chromium-browser"]) {
      try {
        if ((await Deno.stat(`${dir}/${name}`)).isFile) return `${dir}/${name}`;
      } catch { /* not here */ }
    }
  }
  throw new Error(`Chromium not found on PATH or in /usr/bin. Install it with: ${INSTALL}`);
}

interface Session {
  browser: Browser;
  page: Page;
  /** Uncaught errors, console errors and CSP violations seen by the page. */
  problems: string[];
  close(): Promise<void>;
}

async function openBrowser(): Promise<Session> {
  const userDataDir = await Deno.makeTempDir({ prefix: "gateway-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: await findChromium(),
    headless: true,
    userDataDir,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 720 });
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`pageerror: ${err}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
  });
  return {
    browser,
    page,
    problems,
    async close() {
      await browser.close();
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    },
  };
}

const twoProviders = (mockUrl: string): ConfigFile => ({
  retries: { max: 0 },
  providers: {
    primary: mockProvider(mockUrl, "primary", "openai", {
      breaker: { minimumRequests: 2, failureRateThreshold: 0.5, openMs: 60_000 },
    }),
    backup: mockProvider(mockUrl, "backup"),
  },
});

async function failover(gatewayUrl: string): Promise<string> {
  const res = await fetch(`${gatewayUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "primary/gpt-4o-mini",
      fallbacks: ["backup/b-model"],
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-gateway-provider"), "backup");
  await res.body?.cancel();
  return res.headers.get("x-request-id")!;
}

// Expressions evaluated in the page (strings: the test is type-checked without the DOM library).
const text = (selector: string) =>
  `[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => e.textContent.trim())`;
const feedWhat = text("#feed li .what");

async function waitText(page: Page, selector: string, pattern: RegExp, timeout = 10_000) {
  await page.waitForFunction(
    `${text(selector)}.some((t) => new RegExp(${JSON.stringify(pattern.source)}).test(t))`,
    { timeout, polling: 50 },
  ).catch(async (err) => {
    const seen = await page.evaluate(text(selector)).catch(() => "?");
    throw new Error(`${selector} never showed ${pattern}; it shows ${JSON.stringify(seen)}`, {
      cause: err,
    });
  });
}

Deno.test("the dashboard shows a failover as it happens, then the primary's breaker opening", async () => {
  const mock = await startMockUpstream();
  const gw = startTestGateway(twoProviders(mock.url));
  const s = await openBrowser();
  try {
    const res = await s.page.goto(`${gw.url}/dashboard`);
    assert.equal(res?.status(), 200);
    assert.match(res!.headers()["content-security-policy"], /default-src 'none'/);
    await waitText(s.page, "#conn", /^live · SSE relay of gw-/);
    await waitText(s.page, 'tr[data-provider="primary"] td.breaker', /^closed$/);
    await waitText(s.page, 'tr[data-provider="backup"] td.breaker', /^closed$/);
    assert.deepEqual(await s.page.evaluate(text("#feed li.empty")), [
      "Nothing yet: failovers, breaker changes and failed requests appear here as they happen.",
    ]);

    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const id = await failover(gw.url);
    // The feed names both providers, within the 2 s poll: it came from the event stream.
    await waitText(s.page, "#feed li .what", /^primary\/gpt-4o-mini → backup\/b-model$/, 1_500);
    await waitText(
      s.page,
      "#feed li .detail",
      new RegExp(`fallback #1 because transient · request ${id}`),
    );
    await waitText(s.page, "#t-fallback", /^100%$/);
    await waitText(s.page, "#t-requests", /^1$/);
    await waitText(s.page, "#t-p50", /^\d+ ms$/);
    // One failure of two needed: the breaker is still closed.
    assert.deepEqual(
      await s.page.evaluate(text('tr[data-provider="primary"] td.breaker')),
      ["closed"],
    );

    await failover(gw.url); // the second failure opens it
    // The model's own breaker: the provider-wide one (refused connections, auth) stays closed.
    await waitText(s.page, "#feed li .what", /^primary\/gpt-4o-mini breaker opened$/, 1_500);
    await waitText(
      s.page,
      'tr[data-provider="primary"] .model-breaker[data-model="gpt-4o-mini"]',
      /^open model gpt-4o-mini for \d+ s more$/,
    );
    await waitText(s.page, 'tr[data-provider="primary"] td.breaker', /^closed$/);
    await waitText(s.page, 'tr[data-provider="backup"] td.breaker', /^closed$/);
    await waitText(s.page, "#t-requests", /^2$/);
    // Newest first: the second request's failure opened the breaker, then it fell over.
    await waitText(
      s.page,
      "#feed li:first-child .what",
      /^primary\/gpt-4o-mini → backup\/b-model$/,
    );
    const feed = await s.page.evaluate(feedWhat) as string[];
    assert.deepEqual(feed, [
      "primary/gpt-4o-mini → backup/b-model",
      "primary/gpt-4o-mini breaker opened",
      "primary/gpt-4o-mini → backup/b-model",
    ]);

    // The providers table, polled, agrees with what the events said.
    await s.page.waitForFunction(
      `document.getElementById("providers-updated").textContent.startsWith("updated")`,
    );
    const height = await s.page.evaluate("document.body.scrollHeight") as number;
    const shot = await s.page.screenshot({
      type: "png",
      clip: { x: 0, y: 0, width: 1280, height },
    });
    assert.deepEqual([...shot.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    const target = Deno.env.get("DASHBOARD_SCREENSHOT");
    if (target) await Deno.writeFile(target, shot);
    assert.deepEqual(s.problems, []);
  } finally {
    await s.close();
    await gw.shutdown(1_000);
    await mock.close();
  }
});

Deno.test("with dashboard.natsWsUrl the page reads a locked NATS itself as the observer and sees every replica's failovers", async () => {
  // The shipped permissions: the gateways publish as `gateway`, the page reads as `observer`.
  const nats = await startNatsServer({
    files: { "nats-permissions.conf": await shippedPermissions() },
    conf: [
      "include ./nats-permissions.conf",
      "authorization { users: [",
      '  { user: gateway, password: "gw-pw", permissions: $GATEWAY_PERMISSIONS }',
      '  { user: observer, password: "obs-pw", permissions: $OBSERVER_PERMISSIONS }',
      "] }",
    ],
  });
  const mock = await startMockUpstream();
  const shared = {
    nats: { url: nats.wsUrl, auth: { user: "gateway", password: "env:GW_PW" } },
    dashboard: { natsWsUrl: nats.wsUrl },
  };
  const env = {
    GW_PW: "gw-pw",
    DASHBOARD_NATS_USER: "observer",
    DASHBOARD_NATS_PASSWORD: "obs-pw",
  };
  const a = startTestGateway({ ...twoProviders(mock.url), ...shared }, env);
  const b = startTestGateway({ ...twoProviders(mock.url), ...shared }, env);
  const s = await openBrowser();
  try {
    const res = await s.page.goto(`${a.url}/dashboard`);
    assert.match(
      res!.headers()["content-security-policy"],
      new RegExp(`connect-src 'self' ${nats.wsUrl}`),
    );
    await waitText(s.page, "#conn", new RegExp(`^live · NATS ${nats.wsUrl}$`));
    assert.ok(!(await res!.text()).includes("gw-pw"), "never the gateway's own credential");

    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    const id = await failover(b.url); // the other replica: its events reach this page only via NATS
    await waitText(s.page, "#feed li .what", /^primary\/gpt-4o-mini → backup\/b-model$/);
    await waitText(s.page, "#feed li .detail", new RegExp(`request ${id}`));
    await waitText(s.page, "#t-fallback", /^100%$/);
    assert.deepEqual(s.problems, []);
  } finally {
    await s.close();
    await a.shutdown(1_000);
    await b.shutdown(1_000);
    await mock.close();
    await nats.stop();
  }
});

Deno.test("when the configured NATS websocket cannot be reached the page falls back to the SSE relay", async () => {
  const nats = await startNatsServer();
  await nats.stop(); // a port where nothing listens
  const mock = await startMockUpstream();
  const gw = startTestGateway({ ...twoProviders(mock.url), dashboard: { natsWsUrl: nats.wsUrl } });
  const s = await openBrowser();
  try {
    await s.page.goto(`${gw.url}/dashboard`);
    await waitText(s.page, "#conn", /^live · SSE relay of gw-/);
    mock.setFaults("primary", [{ kind: "status", status: 503 }]);
    await failover(gw.url);
    await waitText(s.page, "#feed li .what", /^primary\/gpt-4o-mini → backup\/b-model$/);
  } finally {
    await s.close();
    await gw.shutdown(1_000);
    await mock.close();
  }
});

Deno.test("the dashboard lists the MCP servers: connection, tools and a dead one's breaker opening", async () => {
  const mock = await startMockUpstream();
  const docs = startMcpTestServer();
  const dead = startMcpTestServer();
  const gw = startTestGateway({
    ...twoProviders(mock.url),
    mcp: {
      servers: {
        docs: { url: docs.url, pingMs: 0, allow: ["echo", "add"] },
        dead: { url: dead.url, pingMs: 0, breaker: { minimumRequests: 2, openMs: 60_000 } },
      },
    },
  });
  const s = await openBrowser();
  try {
    await gw.gateway.mcp.start();
    await s.page.goto(`${gw.url}/dashboard`);
    await waitText(s.page, 'tr[data-mcp-server="docs"] td.conn', /^connected$/);
    await waitText(s.page, 'tr[data-mcp-server="docs"] td.tools', /^2 tools\s*echo, add$/);
    await waitText(s.page, 'tr[data-mcp-server="dead"] td.breaker', /^closed$/);
    dead.down();
    for (let i = 0; i < 2; i++) await gw.gateway.mcp.execute("dead__echo", { text: "x" });
    await waitText(s.page, 'tr[data-mcp-server="dead"] td.breaker', /^open/, 5_000);
    await waitText(s.page, 'tr[data-mcp-server="docs"] td.breaker', /^closed$/);
    assert.deepEqual(s.problems, []);
  } finally {
    await s.close();
    await gw.shutdown(1_000);
    await mock.close();
    await docs.close();
    await dead.close();
  }
});

Deno.test("without MCP servers the dashboard shows no MCP section", async () => {
  const mock = await startMockUpstream();
  const gw = startTestGateway(twoProviders(mock.url));
  const s = await openBrowser();
  try {
    await s.page.goto(`${gw.url}/dashboard`);
    await waitText(s.page, "#mcp-updated", /^updated /);
    assert.equal(await s.page.evaluate(`document.getElementById("mcp").hidden`), true);
    await waitText(s.page, 'tr[data-provider="primary"] td.breaker', /^closed$/);
  } finally {
    await s.close();
    await gw.shutdown(1_000);
    await mock.close();
  }
});
