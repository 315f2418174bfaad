// The floor for any Deno gateway: a bare Hono app that forwards the body to one upstream with
// fetch and returns the answer untouched. JSON answers and SSE streams go through the same way:
// the upstream body is handed on as a stream, chunk by chunk as it arrives, never buffered, so a
// stream's first byte leaves as soon as the upstream sends it.
//
// With `--inspect` it does instead the least that any gateway which can fail over must do, and
// nothing else: read the request as JSON and write it anew, call the upstream under an abort
// signal (client gone or a deadline), and read the answer before sending it on — a JSON answer
// parsed and written anew with one field added, a stream's chunks read in JavaScript one by one
// and written to the client (a gateway has to see each to know the stream is healthy). The gap
// between the two modes is what inspecting a call costs in Deno before any gateway logic runs.
// `deno run --allow-net bench/forwarder.ts <port> <upstream-base-url> [--inspect]`
import { Hono } from "hono";

const [port = "8181", upstream = "http://127.0.0.1:9000/t1/v1", mode = ""] = Deno.args;
const inspect = mode === "--inspect";
const app = new Hono();

app.post("/v1/chat/completions", async (c) => {
  if (!inspect) {
    const res = await fetch(`${upstream}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: await c.req.text(),
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  }
  const request = JSON.parse(await c.req.text());
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), 120_000);
  const res = await fetch(`${upstream}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
    signal: AbortSignal.any([c.req.raw.signal, deadline.signal]),
  });
  if (request.stream !== true || !res.body) {
    const answer = await res.json();
    clearTimeout(timer);
    return c.json({ ...answer, extra_fields: { provider: "mock" } }, res.status as 200);
  }
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const n = await reader.read();
      if (n.done) {
        clearTimeout(timer);
        ctl.close();
      } else ctl.enqueue(n.value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  return new Response(body, { status: res.status, headers: res.headers });
});

Deno.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  onListen: () =>
    console.log(`forwarder${inspect ? " (inspecting)" : ""} on ${port} → ${upstream}`),
}, app.fetch);
