// The dashboard: one self-contained HTML page (inline CSS and JS, no build step, nothing loaded
// from elsewhere). It polls GET /v1/gateway/providers for breaker and limiter state (and
// GET /v1/gateway/mcp for the MCP servers, a section shown only when some are configured) and follows
// the event stream as it happens: through the gateway's SSE relay, or, when a NATS websocket URL
// for browsers is configured, straight from NATS (every replica's events) with the small client
// below, falling back to the relay if NATS cannot be reached.

export interface DashboardPageOptions {
  instance: string;
  /** NATS websocket URL the browser connects to itself; undefined = SSE relay only. */
  natsWsUrl?: string;
  /** The read-only login the page sends in CONNECT (user+pass or auth_token); none = anonymous. */
  natsAuth?: { user: string; pass: string } | { auth_token: string };
  /** CSP nonce for the inline script and style. */
  nonce: string;
}

/** JSON that is safe inside a <script> element (no `</script>`, no HTML comment openers). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
:root { --bg:#0f1419; --panel:#171e26; --line:#263140; --text:#d8e0ea; --dim:#8a97a8;
  --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text);
  font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display:flex; align-items:baseline; gap:16px; padding:14px 20px; border-bottom:1px solid var(--line); }
header h1 { font-size:17px; margin:0; font-weight:600; }
header .instance { color:var(--dim); font-family:ui-monospace, Menlo, monospace; }
#conn { margin-left:auto; font-size:12px; padding:2px 10px; border-radius:10px; background:var(--panel); color:var(--dim); }
#conn[data-state="live"] { color:var(--ok); }
#conn[data-state="down"] { color:var(--bad); }
main { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:16px; padding:16px 20px; }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
section h2 { margin:0 0 10px; font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); font-weight:600; }
.tiles { grid-column:1 / -1; display:grid; grid-template-columns:repeat(4, 1fr); gap:16px; }
.tile { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.tile .label { color:var(--dim); font-size:12px; }
.tile .value { font-size:26px; font-weight:600; font-variant-numeric:tabular-nums; }
.tile .sub { color:var(--dim); font-size:12px; }
table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--dim); font-weight:500; font-size:12px; }
td .type { color:var(--dim); font-size:12px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
.badge.closed { background:rgba(63,185,80,.15); color:var(--ok); }
.badge.open { background:rgba(248,81,73,.15); color:var(--bad); }
.badge.half_open { background:rgba(210,153,34,.15); color:var(--warn); }
.keys div { white-space:nowrap; font-size:12px; }
.blocked { color:var(--bad); }
.dim { color:var(--dim); font-size:12px; }
section h2 .dim { text-transform:none; letter-spacing:0; font-weight:400; margin-left:6px; }
#feed { list-style:none; margin:0; padding:0; max-height:520px; overflow:auto; font-size:13px; }
#feed li { padding:6px 0; border-bottom:1px solid var(--line); display:grid; grid-template-columns:86px 1fr; gap:8px; }
#feed .t { color:var(--dim); font-family:ui-monospace, Menlo, monospace; font-size:12px; }
#feed .what { font-weight:600; }
#feed li[data-kind="fallback"] .what { color:var(--accent); }
#feed li[data-kind="breaker-open"] .what, #feed li[data-kind="failed"] .what { color:var(--bad); }
#feed li[data-kind="breaker-ok"] .what { color:var(--ok); }
#feed li[data-kind="limit"] .what { color:var(--warn); }
#feed .detail { color:var(--dim); font-size:12px; word-break:break-word; }
.empty { color:var(--dim); font-style:italic; padding:8px 0; }
@media (max-width: 900px) { main { grid-template-columns:1fr; } .tiles { grid-template-columns:repeat(2,1fr); } }
`;

// Plain ES2020, no dependencies. Every value from an event is put in the page with textContent,
// never as HTML: upstream error messages are untrusted text.
const SCRIPT = String.raw`
"use strict";
const cfg = JSON.parse(document.getElementById("config").textContent);
const $ = (id) => document.getElementById(id);
const WINDOW = 200;       // requests the tiles are computed over
const FEED_MAX = 100;
const requests = [];      // { latencyMs, fallback, failed }, the last WINDOW
let finished = 0;         // all requests seen finishing
const seen = new Set();   // CloudEvent ids already applied (replay and reconnects overlap)
const liveBreaker = new Map(); // provider -> { state, until } from events, newer than the last poll
let lastProviders = [];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
const fmtMs = (ms) => ms >= 1000 ? (ms / 1000).toFixed(2) + " s" : Math.round(ms) + " ms";
const clock = (t) => new Date(t).toISOString().slice(11, 19);
const untilText = (iso) => {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  return "for " + s + " s more";
};

function setConn(state, text) {
  const c = $("conn");
  c.dataset.state = state;
  c.textContent = text;
}

// ---- providers: polled, corrected at once by breaker events ----
async function refreshProviders() {
  try {
    const r = await fetch(cfg.providersUrl, { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    lastProviders = (await r.json()).data || [];
    liveBreaker.clear();
    $("providers-updated").textContent = "updated " + clock(Date.now());
  } catch (e) {
    $("providers-updated").textContent = "cannot reach the gateway (" + e.message + ")";
  }
  renderProviders();
}

// "openai" for the provider-wide breaker or a whole key, "openai/gpt-4o" for one model's.
function scopeOf(d) {
  return d.model ? d.provider + "/" + d.model : d.provider;
}

function renderProviders() {
  const body = $("providers-body");
  body.replaceChildren();
  if (lastProviders.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: "5", class: "empty" }, "No providers configured.")));
    return;
  }
  for (const p of lastProviders) {
    const live = liveBreaker.get(p.provider);
    const state = live ? live.state : p.breaker.state;
    const until = live ? live.until : p.breaker.openUntil;
    const keys = el("td", { class: "keys" });
    for (const k of p.keys) {
      const parts = [k.key];
      if (k.blockedUntil) parts.push("blocked " + untilText(k.blockedUntil));
      else {
        if (k.requestsLeft !== null) parts.push(k.requestsLeft + " req left");
        if (k.tokensLeft !== null) parts.push(k.tokensLeft + " tok left");
        if (k.requestsLeft === null && k.tokensLeft === null) parts.push("no limit");
      }
      keys.append(el("div", { class: k.blockedUntil ? "blocked" : "" }, parts.join(" · ")));
    }
    for (const m of p.unavailableModels || []) {
      keys.append(el("div", { class: "blocked" }, "model " + m.model + " unavailable " + untilText(m.until)));
    }
    // Model-scoped health: each model's own breaker and its (key, model) blocks.
    const models = new Map((p.models || []).map((m) => [m.model, m]));
    for (const [id, b] of liveBreaker) {
      if (id.startsWith(p.provider + "/") && !models.has(id.slice(p.provider.length + 1))) {
        models.set(id.slice(p.provider.length + 1), { model: id.slice(p.provider.length + 1), breaker: { state: b.state, openUntil: b.until }, keys: [] });
      }
    }
    for (const m of models.values()) {
      const lb = liveBreaker.get(p.provider + "/" + m.model);
      const ms = lb ? lb.state : m.breaker.state;
      const mu = lb ? lb.until : m.breaker.openUntil;
      if (ms !== "closed") {
        keys.append(el("div", { class: "model-breaker", "data-model": m.model, "data-state": ms },
          el("span", { class: "badge " + ms }, ms.replace("_", "-")), " model " + m.model,
          mu && ms === "open" ? " " + untilText(mu) : ""));
      }
      for (const k of m.keys || []) {
        if (k.blockedUntil) keys.append(el("div", { class: "blocked" }, m.model + " on " + k.key + " blocked " + untilText(k.blockedUntil)));
      }
    }
    body.append(el("tr", { "data-provider": p.provider },
      el("td", {}, p.provider, el("div", { class: "type" }, p.type || "")),
      el("td", { class: "breaker", "data-state": state },
        el("span", { class: "badge " + state }, state.replace("_", "-")),
        until && state === "open" ? el("div", { class: "dim" }, untilText(until)) : null),
      el("td", {}, Math.round(p.breaker.failureRate * 100) + "%",
        el("div", { class: "dim" }, p.breaker.samples + " samples")),
      el("td", {}, p.breaker.reopenCount > 0 ? "re-opened " + p.breaker.reopenCount + "×" : "",
        p.breaker.probesInFlight > 0 ? el("div", { class: "dim" }, p.breaker.probesInFlight + " probe(s)") : null),
      keys));
  }
}

// ---- MCP servers: polled from GET /v1/gateway/mcp; the section hides when none is configured ----
async function refreshMcp() {
  let servers;
  try {
    const r = await fetch(cfg.mcpUrl, { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    servers = (await r.json()).servers || [];
  } catch (e) {
    $("mcp-updated").textContent = "cannot reach the gateway (" + e.message + ")";
    return;
  }
  $("mcp").hidden = servers.length === 0;
  $("mcp-updated").textContent = "updated " + clock(Date.now());
  const body = $("mcp-body");
  body.replaceChildren();
  for (const s of servers) {
    const b = s.breaker;
    body.append(el("tr", { "data-mcp-server": s.server },
      el("td", {}, s.server, el("div", { class: "type" }, s.transport)),
      el("td", { class: "breaker", "data-state": b.state },
        el("span", { class: "badge " + b.state }, b.state.replace("_", "-")),
        b.openUntil && b.state === "open" ? el("div", { class: "dim" }, untilText(b.openUntil)) : null),
      el("td", { class: "conn" }, s.connected ? "connected" : "not connected"),
      el("td", { class: "tools" }, s.tools.length + " tools",
        el("div", { class: "dim" }, s.tools.join(", ")))));
  }
}

// ---- tiles: over the last WINDOW finished requests ----
function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
function renderTiles() {
  const n = requests.length;
  const done = requests.filter((r) => !r.failed);
  const fb = done.filter((r) => r.fallback).length;
  const failed = n - done.length;
  const lat = done.map((r) => r.latencyMs).sort((a, b) => a - b);
  $("t-requests").textContent = String(finished);
  $("t-fallback").textContent = n ? Math.round((fb / n) * 100) + "%" : "–";
  $("t-fallback-sub").textContent = fb + " of " + n + " served by a fallback";
  $("t-failed").textContent = n ? Math.round((failed / n) * 100) + "%" : "–";
  $("t-failed-sub").textContent = failed + " of " + n + " failed";
  $("t-p50").textContent = lat.length ? fmtMs(percentile(lat, 0.5)) : "–";
  $("t-p50-sub").textContent = lat.length ? "p95 " + fmtMs(percentile(lat, 0.95)) + " · " + lat.length + " completed" : "no completed requests yet";
}

// ---- the live feed ----
function addFeed(kind, at, what, detail) {
  const feed = $("feed");
  const empty = feed.querySelector(".empty");
  if (empty) empty.remove();
  feed.prepend(el("li", { "data-kind": kind },
    el("span", { class: "t" }, clock(at)),
    el("div", {}, el("div", { class: "what" }, what), detail ? el("div", { class: "detail" }, detail) : null)));
  while (feed.children.length > FEED_MAX) feed.lastElementChild.remove();
}

function onEvent(ce) {
  if (!ce || typeof ce.type !== "string" || seen.has(ce.id)) return;
  seen.add(ce.id);
  if (seen.size > 5000) seen.delete(seen.values().next().value);
  const d = ce.data || {};
  const at = Date.parse(ce.time);
  const req = d.requestId ? "request " + d.requestId : "";
  switch (ce.type.slice("gateway.".length)) {
    case "request.completed":
      requests.push({ latencyMs: d.latencyMs, fallback: d.fallbackIndex > 0, failed: false });
      finished++;
      break;
    case "request.failed":
      requests.push({ failed: true });
      finished++;
      addFeed("failed", at, "request failed: " + d.status + " " + d.errorType, req + " · " + d.message);
      break;
    case "fallback.taken":
      addFeed("fallback", at, d.fromProvider + "/" + d.fromModel + " → " + d.provider + "/" + d.model,
        "fallback #" + d.fallbackIndex + " because " + d.reason + " · " + req);
      break;
    case "breaker.opened":
      liveBreaker.set(scopeOf(d), { state: "open", until: new Date(d.until).toISOString() });
      addFeed("breaker-open", at, scopeOf(d) + " breaker opened",
        d.reason + " · " + Math.round(d.failureRate * 100) + "% of " + d.samples + " samples · open " + Math.round(d.openMs / 1000) + " s");
      renderProviders();
      break;
    case "breaker.half_opened":
      liveBreaker.set(scopeOf(d), { state: "half_open", until: null });
      addFeed("breaker-half", at, scopeOf(d) + " breaker half-open", d.probes + " probe(s) allowed");
      renderProviders();
      break;
    case "breaker.closed":
      liveBreaker.set(scopeOf(d), { state: "closed", until: null });
      addFeed("breaker-ok", at, scopeOf(d) + " breaker closed", "");
      renderProviders();
      break;
    case "ratelimit.blocked":
      addFeed("limit", at, scopeOf(d) + " key " + d.key + " rate-limited", d.reason + " until " + clock(d.until));
      break;
    case "stream.continued":
      addFeed("fallback", at, d.fromProvider + "/" + d.fromModel + " ⤷ " + d.provider + "/" + d.model,
        "stream continued (" + d.mode + ") after " + d.reason + " · " + d.sentChars + " chars sent · " + req);
      break;
    case "model.unavailable":
      addFeed("limit", at, d.provider + "/" + d.model + " unavailable", d.message);
      break;
  }
  while (requests.length > WINDOW) requests.shift();
  renderTiles();
}

// ---- event sources ----
function connectSse() {
  const es = new EventSource(cfg.eventsUrl + "?replay=" + cfg.replay);
  setConn("connecting", "connecting…");
  es.onopen = () => setConn("live", "live · SSE relay of " + cfg.instance);
  es.onerror = () => setConn("down", "reconnecting…");
  es.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { console.warn(e); } };
}

// A minimal NATS client over websocket: CONNECT, one SUB, PING/PONG, MSG and HMSG frames.
function connectNats(url, subject, onFail) {
  const enc = new TextEncoder(), dec = new TextDecoder();
  let buf = new Uint8Array(0), ws, established = false;
  const send = (s) => ws.send(enc.encode(s));
  const crlf = () => { for (let i = 0; i + 1 < buf.length; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i; return -1; };
  function deliver(bytes) { try { onEvent(JSON.parse(dec.decode(bytes))); } catch (e) { console.warn(e); } }
  function parse() {
    for (;;) {
      const nl = crlf();
      if (nl < 0) return;
      const line = dec.decode(buf.subarray(0, nl));
      const parts = line.split(" ");
      if (parts[0] === "MSG" || parts[0] === "HMSG") {
        const total = Number(parts[parts.length - 1]);
        const hdr = parts[0] === "HMSG" ? Number(parts[parts.length - 2]) : 0;
        if (buf.length < nl + 2 + total + 2) return; // wait for the rest of the frame
        deliver(buf.subarray(nl + 2 + hdr, nl + 2 + total));
        buf = buf.subarray(nl + 2 + total + 2);
        continue;
      }
      buf = buf.subarray(nl + 2);
      if (parts[0] === "INFO") {
        send("CONNECT " + JSON.stringify({ verbose: false, pedantic: false, lang: "gateway-dashboard",
          version: "1", protocol: 1, headers: true, no_responders: false, name: "gateway-dashboard",
          ...(cfg.natsAuth || {}) }) + "\r\n");
        send("SUB " + subject + " 1\r\nPING\r\n");
      } else if (parts[0] === "PING") send("PONG\r\n");
      else if (parts[0] === "PONG" && !established) {
        established = true;
        setConn("live", "live · NATS " + url);
      } else if (parts[0] === "-ERR") setConn("down", "NATS: " + line.slice(5));
    }
  }
  function open() {
    setConn("connecting", "connecting to NATS…");
    try { ws = new WebSocket(url); } catch (e) { onFail(); return; }
    ws.binaryType = "arraybuffer";
    ws.onmessage = (m) => {
      const chunk = typeof m.data === "string" ? enc.encode(m.data) : new Uint8Array(m.data);
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf); next.set(chunk, buf.length); buf = next;
      parse();
    };
    ws.onclose = () => {
      buf = new Uint8Array(0);
      if (!established) { onFail(); return; } // never worked: use the relay instead
      established = false;
      setConn("down", "NATS connection lost; reconnecting…");
      setTimeout(open, 2000);
    };
  }
  open();
}

renderTiles();
refreshProviders();
setInterval(refreshProviders, cfg.refreshMs);
refreshMcp();
setInterval(refreshMcp, cfg.refreshMs);
setInterval(renderProviders, 1000); // countdowns
if (cfg.natsWsUrl) connectNats(cfg.natsWsUrl, "gateway.>", () => { console.warn("NATS unreachable; using the SSE relay"); connectSse(); });
else connectSse();
`;

/** The whole page. Relative URLs, so it also works behind a path-prefixing proxy. */
export function renderDashboardPage(opts: DashboardPageOptions): string {
  const config = {
    instance: opts.instance,
    natsWsUrl: opts.natsWsUrl ?? null,
    natsAuth: opts.natsAuth ?? null,
    providersUrl: "v1/gateway/providers",
    mcpUrl: "v1/gateway/mcp",
    eventsUrl: "v1/gateway/events",
    replay: 300,
    refreshMs: 2_000,
  };
  const nonce = escapeHtml(opts.nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Gateway ${escapeHtml(opts.instance)} · dashboard</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>LLM failover gateway</h1>
  <span class="instance">${escapeHtml(opts.instance)}</span>
  <span id="conn" data-state="connecting">connecting…</span>
</header>
<main>
  <div class="tiles">
    <div class="tile"><div class="label">Requests</div><div class="value" id="t-requests">0</div><div class="sub">finished; tiles cover the last 200</div></div>
    <div class="tile"><div class="label">Fallback rate</div><div class="value" id="t-fallback">–</div><div class="sub" id="t-fallback-sub"></div></div>
    <div class="tile"><div class="label">Failed</div><div class="value" id="t-failed">–</div><div class="sub" id="t-failed-sub"></div></div>
    <div class="tile"><div class="label">Latency p50</div><div class="value" id="t-p50">–</div><div class="sub" id="t-p50-sub"></div></div>
  </div>
  <section>
    <h2>Providers <span class="dim" id="providers-updated"></span></h2>
    <table>
      <thead><tr><th>provider</th><th>breaker</th><th>failure rate</th><th></th><th>keys (limiter)</th></tr></thead>
      <tbody id="providers-body"></tbody>
    </table>
  </section>
  <section id="mcp" hidden>
    <h2>MCP servers <span class="dim" id="mcp-updated"></span></h2>
    <table>
      <thead><tr><th>server</th><th>breaker</th><th>connection</th><th>tools</th></tr></thead>
      <tbody id="mcp-body"></tbody>
    </table>
  </section>
  <section>
    <h2>Failovers and breakers, live</h2>
    <ol id="feed"><li class="empty">Nothing yet: failovers, breaker changes and failed requests appear here as they happen.</li></ol>
  </section>
</main>
<script type="application/json" id="config">${scriptJson(config)}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
