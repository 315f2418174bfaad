// The floor for any Deno gateway: a bare Hono app that forwards the body to one upstream with
// fetch and returns the answer untouched. JSON answers and SSE streams go through the same way:
// the upstream body is handed on as a stream, chunk by chunk as it arrives, never buffered, so a
// stream's first byte leaves as soon as the upstream sends it.
// `deno run --allow-net bench/forwarder.ts <port> <upstream-base-url>`
import { Hono } from "hono";

const [port = "8181", upstream = "http://127.0.0.1:9000/t1/v1"] = Deno.args;
const app = new Hono();
app.post("/v1/chat/completions", async (c) => {
  const res = await fetch(`${upstream}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: await c.req.text(),
  });
  return new Response(res.body, { status: res.status, headers: res.headers });
});
Deno.serve({
  port: Number(port),
  hostname: "127.0.0.1",
  onListen: () => console.log(`forwarder on ${port} → ${upstream}`),
}, app.fetch);
