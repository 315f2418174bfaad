// The front half every POST route shares: the JSON body under the size limit (or the draining
// 503), then the route's own reading of it into a canonical request.
import type { Gateway } from "../gateway.ts";
import { type CallError, type CallStart, invalid } from "./call.ts";
import { readJson } from "./pipeline.ts";

/** A route's reading of the decoded body: the canonical request, or what is wrong with it. */
export type Parsed<T> =
  | { ok: true; value: T }
  | { ok: false; error: { message: string; param?: string | null } };

/**
 * Reads the body and gives it to `parse`. A body it refuses is a 400 `invalid_request` naming the
 * offending field; `length` is the body's size, for the token estimate.
 */
export async function readRequest<T>(
  gw: Gateway,
  start: CallStart,
  req: Request,
  parse: (json: unknown) => Parsed<T>,
): Promise<{ ok: true; value: T; length: number } | CallError> {
  const body = await readJson(gw, start, req);
  if (!body.ok) return body;
  const parsed = parse(body.json);
  if (!parsed.ok) {
    const { message, param } = parsed.error;
    return invalid(start, 400, message, "invalid_request", param || null);
  }
  return { ok: true, value: parsed.value, length: body.length };
}
