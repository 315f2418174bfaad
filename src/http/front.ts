// The door in front of every model route (chat, embeddings and each drop-in format): draining
// and overload (503) and the caller's virtual key (401), decided before the body is read, and
// the in-flight count, up from the moment a call arrives until its response is finished (a JSON
// answer when the handler returns it, a stream when its body closes or the client cancels it).
//
// Each route answers in its own wire format, so a refusal is kept as data for the route:
// readRequest (./request.ts) hands it back before it reads anything.
import type { MiddlewareHandler } from "hono";
import type { Gateway } from "../gateway.ts";
import { authenticateCall } from "./admission.ts";
import { type CallError, type CallStart, invalid, startCall } from "./call.ts";

/** What the door decided for one request: its call (id, start, key), and a refusal if any. */
interface Door {
  start: CallStart;
  refused?: CallError;
  /** The route's own call, once readRequest adopted the door's: whether it answered a stream. */
  call?: CallStart;
}

const doors = new WeakMap<Request, Door>();

/** The door's call for `req`, once: its id, start time and key, and its refusal if any. */
export function takeDoor(req: Request): Door | undefined {
  const door = doors.get(req);
  if (door) doors.delete(req);
  return door;
}

/** A 503 the gateway answers itself (draining, overloaded): retry in a second, elsewhere or here. */
function unavailable(start: CallStart, message: string, code: string): CallError {
  return { ...invalid(start, 503, message, code), type: "unavailable", retryAfterMs: 1000 };
}

/** Draining or past limits.maxInFlight: the 503 the gateway answers itself; else undefined. */
function busy(gw: Gateway, start: CallStart): CallError | undefined {
  if (gw.draining) {
    return unavailable(
      start,
      "The gateway is shutting down; retry on another instance.",
      "draining",
    );
  }
  const { maxInFlight } = gw.deps.config.limits;
  if (maxInFlight > 0 && gw.inFlight >= maxInFlight) {
    // Shed load rather than queue it: past capacity every queued call only adds latency and
    // memory for all the others. Cheap to refuse, and clients and balancers know to retry.
    return unavailable(
      start,
      `The gateway is at its limit of ${maxInFlight} requests in flight (limits.maxInFlight); retry shortly.`,
      "gateway_overloaded",
    );
  }
  return undefined;
}

function decide(
  gw: Gateway,
  start: CallStart,
  req: Request,
): CallError | undefined | Promise<CallError | undefined> {
  const refused = busy(gw, start);
  if (refused) return refused;
  // Virtual keys: 401 before the body is even read. An open gateway answers at once, without
  // a promise: no key to look up.
  if (gw.governor.open()) return undefined;
  return authenticateCall(gw.governor, start, req);
}

/**
 * The door in front of the MCP tool routes (POST /mcp, /v1/mcp/tool/execute): draining and
 * overload answered by `refuse` in the route's own shape, and the call counted in flight so a
 * drain waits for tool calls too. The routes check the caller's key themselves.
 */
export function toolsDoor(gw: Gateway, refuse: (e: CallError) => Response): MiddlewareHandler {
  return async (c, next) => {
    const refused = busy(gw, startCall(gw, c.req.header("x-request-id")));
    if (refused) return refuse(refused);
    gw.inFlight++;
    try {
      await next();
    } finally {
      gw.inFlight--;
    }
    return undefined;
  };
}

/** The middleware: mount it in front of each model route. */
export function modelDoor(gw: Gateway): MiddlewareHandler {
  return async (c, next) => {
    const req = c.req.raw;
    const start = startCall(gw, req.headers.get("x-request-id") ?? undefined);
    start.headers = req.headers;
    const decided = decide(gw, start, req);
    const refused = decided instanceof Promise ? await decided : decided;
    const door: Door = refused ? { start, refused } : { start };
    doors.set(req, door);
    gw.inFlight++;
    let counted = true;
    const finished = () => {
      if (counted) {
        counted = false;
        gw.inFlight--;
      }
    };
    try {
      await next();
    } finally {
      // (Not c.res.body: touching it turns a string body into a stream, off the fast path.)
      const closed = door.call?.streamed;
      if (closed) closed.then(finished);
      else finished();
    }
  };
}
