// The one route every inbound format runs on: read the target and the body, decode it with the
// format, run the shared pipeline, and encode the answer, the stream or the error in the format.
import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import { runChatWithMcp } from "../http/mcp_chat.ts";
import { beginCall, readRequest } from "../http/request.ts";
import { callSignal } from "../http/signal.ts";
import { relayStream } from "../http/stream.ts";
import type { FormatCall, WireFormat } from "./wire_format.ts";

/** A Hono handler serving `format` through the gateway's failover pipeline. */
export function formatRoute<P>(gw: Gateway, format: WireFormat<P>) {
  return async (c: Context): Promise<Response> => {
    const begun = beginCall(gw, c.req.raw);
    const { start } = begun;
    const target = format.target(c.req.raw);
    if (!target.ok) {
      return format.encodeError({ ...target, headers: { "x-request-id": start.requestId } });
    }
    const params = target.value;
    const headers = c.req.raw.headers;
    const req = await readRequest(
      gw,
      begun,
      c.req.raw,
      (json) => format.decode(json, { params, headers, caller: start.virtualKey?.id }),
    );
    if (!req.ok) return format.encodeError(req);
    // Through the MCP layer: it adds MCP tools (and runs the tool loop) when the body asks.
    const out = await runChatWithMcp(gw, start, req.value, callSignal(c), req.length);
    if (!out.ok) return format.encodeError(out);
    const call: FormatCall<P> = {
      start,
      params,
      request: req.value,
      elapsedMs: () => gw.deps.clock.now() - start.t0,
    };
    if (out.kind === "json") return format.encode(out, call);
    const { framing, headers: answerHeaders } = format.stream(out, call);
    return new Response(relayStream(out, framing), { status: 200, headers: answerHeaders });
  };
}
