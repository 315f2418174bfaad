// The front half every POST route shares: the door's refusal if it made one (./front.ts), else
// the JSON body under the size limit, then the route's own reading of it into a canonical request.
import type { Gateway } from "../gateway.ts";
import { type CallError, type CallStart, invalid, startCall } from "./call.ts";
import type { Result } from "../lib/errors.ts";
import { readBody } from "./body.ts";
import { takeDoor } from "./front.ts";

/** A route's reading of the decoded body: the canonical request, or what is wrong with it. */
export type Parsed<T> = Result<T>;

/** A call as a route begins it: the door's (its id, start time, key and refusal), else a new one. */
export interface Begun {
  start: CallStart;
  refused?: CallError;
}

/** The call `req` is: the one its door started (./front.ts), so one id names it everywhere. */
export function beginCall(gw: Pick<Gateway, "deps">, req: Request): Begun {
  const door = takeDoor(req);
  if (!door) return { start: startCall(gw, req.headers.get("x-request-id") ?? undefined) };
  door.call = door.start;
  return door;
}

/**
 * Reads the body and gives it to `parse`. A body it refuses is answered with `parse`'s error (a
 * 400 `invalid_request` naming the offending field); `length` is the body's size, for the token
 * estimate.
 */
export async function readRequest<T>(
  gw: Gateway,
  { start, refused }: Begun,
  req: Request,
  parse: (json: unknown) => Parsed<T> | Promise<Parsed<T>>,
): Promise<{ ok: true; value: T; length: number } | CallError> {
  if (refused) return refused;
  const body = await readJson(gw, start, req);
  if (!body.ok) return body;
  const parsed = await parse(body.json);
  if (!parsed.ok) return { ...parsed, headers: { "x-request-id": start.requestId } };
  return { ok: true, value: parsed.value, length: body.length };
}

/** Reads and JSON-decodes a body under the size limit; errors name what is wrong. */
async function readJson(
  gw: Gateway,
  start: CallStart,
  req: Request,
): Promise<{ ok: true; json: unknown; length: number } | CallError> {
  start.headers = req.headers;
  const body = await readBody(req, gw.deps.config.limits.maxBodyBytes);
  if (!body.ok) return { ...body, headers: { "x-request-id": start.requestId } };
  try {
    return { ok: true, json: JSON.parse(body.text), length: body.text.length };
  } catch (e) {
    return invalid(
      start,
      400,
      `The request body is not valid JSON: ${(e as Error).message}`,
      "invalid_json",
    );
  }
}
