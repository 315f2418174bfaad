import assert from "node:assert/strict";
import { renderDashboardPage, scriptJson } from "../../src/http/dashboard_page.ts";

const page = (natsWsUrl?: string, instance = "gw-1") =>
  renderDashboardPage({ instance, natsWsUrl, nonce: "abc123" });

Deno.test("the page loads nothing from anywhere else: no CDN, no external script, style or font", () => {
  const html = page();
  assert.doesNotMatch(html, /<script[^>]+src=/i);
  // The one link is an empty inline icon, so the browser does not ask the gateway for one.
  assert.deepEqual(html.match(/<link[^>]*>/gi), ['<link rel="icon" href="data:,">']);
  assert.doesNotMatch(html, /@import|url\(/i);
  assert.doesNotMatch(html, /https?:\/\//i);
  // Only two executable parts, both carrying the nonce the CSP allows.
  assert.equal(html.match(/<script nonce="abc123">/g)?.length, 1);
  assert.equal(html.match(/<style nonce="abc123">/g)?.length, 1);
});

Deno.test("the inline script is valid JavaScript", () => {
  const script = /<script nonce="abc123">([^]*?)<\/script>/.exec(page())![1];
  assert.doesNotThrow(() => new Function(script));
});

Deno.test("config reaches the page as inert JSON; a hostile instance name cannot break out", () => {
  const evil = "</script><script>alert(1)</script>";
  const html = renderDashboardPage({ instance: evil, nonce: "n", natsWsUrl: "ws://nats:9222" });
  assert.ok(!html.includes(evil));
  const json = /<script type="application\/json" id="config">([^]*?)<\/script>/.exec(html)![1];
  const cfg = JSON.parse(json);
  assert.equal(cfg.instance, evil);
  assert.equal(cfg.natsWsUrl, "ws://nats:9222");
  assert.equal(cfg.eventsUrl, "v1/gateway/events"); // relative: works behind a path prefix
  assert.match(html, /<title>Gateway &#60;\/script&#62;/);
  assert.equal(JSON.parse(page().match(/id="config">([^]*?)<\/script>/)![1]).natsWsUrl, null);
});

Deno.test("scriptJson round-trips and never contains markup or line separators", () => {
  const value = { a: "</script><!-- & \u2028 \u2029 >" };
  const out = scriptJson(value);
  assert.doesNotMatch(out, /[<>&\u2028\u2029]/);
  assert.deepEqual(JSON.parse(out), value);
});
