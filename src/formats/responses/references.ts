// Item ids the gateway mints, and `item_reference` input items resolved against the store.
// Clients that keep responses stored (the Vercel AI SDK with its default `store: true`) send an
// earlier output item back as `{"type": "item_reference", "id": "fc_…"}` rather than in full.
// Every item id the gateway mints embeds the id of the response it belongs to
// (`<prefix>_<response core>_<n>`), so a reference is resolved with one store read and no
// index of its own.
import type { Item, StoredResponse } from "../../responses/mod.ts";
import { conversationOf } from "../../responses/mod.ts";
import type { Result } from "../../lib/errors.ts";
import { fail } from "./request_schema.ts";

/** Item ids for the response `responseId` (`resp_<core>`): `<prefix>_<core>_<n>`, n from 1. */
export function itemMinter(responseId: string): (prefix: string) => string {
  const core = responseId.slice(responseId.indexOf("_") + 1);
  let n = 0;
  return (prefix) => `${prefix}_${core}_${++n}`;
}

/** The response an item id minted by `itemMinter` belongs to, or undefined for any other id. */
export function responseIdOfItem(itemId: string): string | undefined {
  const first = itemId.indexOf("_");
  const last = itemId.lastIndexOf("_");
  if (first < 0 || last <= first || !/^\d+$/.test(itemId.slice(last + 1))) return undefined;
  return `resp_${itemId.slice(first + 1, last)}`;
}

/**
 * `input` with each item_reference replaced by the item it names, read (as the caller may read
 * it) through `read`. An id the gateway did not mint, or whose response is gone, is a 400
 * naming the item.
 */
export async function resolveReferences(
  input: Item[],
  read: (responseId: string) => Promise<StoredResponse | undefined>,
): Promise<Result<Item[]>> {
  if (!input.some((i) => i.type === "item_reference")) return { ok: true, value: input };
  const cache = new Map<string, StoredResponse | undefined>();
  const out: Item[] = [];
  for (const [i, item] of input.entries()) {
    if (item.type !== "item_reference") {
      out.push(item);
      continue;
    }
    const id = typeof item.id === "string" ? item.id : "";
    const responseId = responseIdOfItem(id);
    let stored: StoredResponse | undefined;
    if (responseId) {
      if (!cache.has(responseId)) cache.set(responseId, await read(responseId));
      stored = cache.get(responseId);
    }
    const found = stored && conversationOf(stored).find((x) => x.id === id);
    if (!found) {
      return fail(
        `input[${i}].id`,
        `no stored item with id '${id}' (unknown, expired, deleted or stored with store: false)`,
      );
    }
    out.push(found);
  }
  return { ok: true, value: out };
}
