// GET /v1/responses/{id}, DELETE /v1/responses/{id} and GET /v1/responses/{id}/input_items: the
// stored Responses API answers, read back as OpenAI serves them. Only the virtual key that
// created a response sees it; to any other caller it does not exist (404, as an unknown id).
import type { Context } from "hono";
import type { Gateway } from "../../gateway.ts";
import type { CallError, CallStart } from "../../http/call.ts";
import { beginCall } from "../../http/request.ts";
import { invalidRequest, notFound } from "../../lib/errors.ts";
import { type Item, ResponseStoreUnavailable, type StoredResponse } from "../../responses/mod.ts";
import { openaiError } from "../openai/errors.ts";
import { outputPart, outputText } from "./answer.ts";
import { readStored, storeUnavailable } from "./format.ts";

type Found = { ok: true; stored: StoredResponse; start: CallStart } | CallError;

/** The door's verdict (virtual key, draining) and the caller's stored response, or why not. */
async function lookUp(gw: Gateway, c: Context): Promise<Found> {
  const { start, refused } = beginCall(gw, c.req.raw);
  const headers = { "x-request-id": start.requestId };
  if (refused) return refused;
  const id = c.req.param("id") ?? "";
  try {
    const stored = await readStored(gw.responses, id, start.virtualKey?.id);
    if (stored) return { ok: true, stored, start };
  } catch (e) {
    if (e instanceof ResponseStoreUnavailable) return { ...storeUnavailable(e), headers };
    throw e;
  }
  return { ...notFound(`No response found with id '${id}'.`), headers };
}

const json = (body: unknown, start: CallStart) =>
  Response.json(body, { headers: { "x-request-id": start.requestId } });

export function getResponse(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    const found = await lookUp(gw, c);
    return found.ok ? json(found.stored.response, found.start) : openaiError(found);
  };
}

export function deleteResponse(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    const found = await lookUp(gw, c);
    if (!found.ok) return openaiError(found);
    const { id } = found.stored;
    try {
      await gw.responses.delete(id);
    } catch (e) {
      if (!(e instanceof ResponseStoreUnavailable)) throw e;
      return openaiError({
        ...storeUnavailable(e),
        headers: { "x-request-id": found.start.requestId },
      });
    }
    return json({ id, object: "response", deleted: true }, found.start);
  };
}

type Part = Record<string, unknown>;

/** A content part as the spec's ItemResource has it (input_image names its `detail`). */
const inputPart = (p: Part): Part =>
  p.type === "input_image" && p.detail === undefined ? { ...p, detail: "auto" } : p;

/**
 * A stored input item as OpenAI lists it (ItemResource): every item has a `status`, a message's
 * content is a list of parts (a plain string becomes one input_text, or output_text for the
 * assistant's own turns), and output_text parts carry `annotations` and `logprobs`. The stored
 * item is untouched: this is only how the list shows it.
 */
export function itemResource(item: Item): Item {
  const out: Item = { ...item, status: item.status ?? "completed" };
  if (item.type !== "message") return out;
  const assistant = item.role === "assistant";
  const content = item.content;
  if (typeof content === "string") {
    out.content = [assistant ? outputText(content) : { type: "input_text", text: content }];
  } else if (Array.isArray(content)) {
    out.content = content.map((p: Part) => assistant ? outputPart(p) : inputPart(p));
  }
  return out;
}

/** OpenAI's cursor list: `limit` (1–100, default 20), `order` (default desc), `after`. */
export function listInputItems(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    const found = await lookUp(gw, c);
    if (!found.ok) return openaiError(found);
    const headers = { "x-request-id": found.start.requestId };
    const q = c.req.query();
    const limit = q.limit === undefined ? 20 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return openaiError({
        ...invalidRequest("limit: an integer from 1 to 100", "limit"),
        headers,
      });
    }
    const order = q.order ?? "desc";
    if (order !== "asc" && order !== "desc") {
      return openaiError({ ...invalidRequest('order: "asc" or "desc"', "order"), headers });
    }
    let items = [...found.stored.input];
    if (order === "desc") items.reverse();
    if (q.after) {
      const at = items.findIndex((i) => i.id === q.after);
      if (at < 0) {
        return openaiError({ ...invalidRequest(`after: no item '${q.after}'`, "after"), headers });
      }
      items = items.slice(at + 1);
    }
    const data = items.slice(0, limit).map(itemResource);
    return json({
      object: "list",
      data,
      first_id: data[0]?.id ?? null,
      last_id: data[data.length - 1]?.id ?? null,
      has_more: items.length > limit,
    }, found.start);
  };
}
