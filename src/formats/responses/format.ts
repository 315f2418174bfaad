// POST /v1/responses: OpenAI's Responses API, so `client.responses.create`, the Vercel AI SDK's
// default `openai(model)` and the OpenAI Agents SDK work unchanged against the gateway. Any
// provider serves it: the body is translated to the canonical request, and the answer, the
// stream and the errors back to the Responses wire format. Answers are kept in the response
// store (unless `store: false`) so `previous_response_id` continues a conversation on whichever
// provider serves the next turn, and GET /v1/responses/{id} reads it back (./stored.ts).
import { parseFallbacksHeader } from "../../http/call.ts";
import { midStreamMessage, SSE_HEADERS, sseFrame, streamFailureOf } from "../../http/stream.ts";
import { type GatewayError, notFound } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import type { ChatRequest } from "../../openai/types.ts";
import type { Clock, IdGen } from "../../ports.ts";
import { StreamFailure } from "../../providers/execute.ts";
import {
  conversationOf,
  type Item,
  type ResponseStore,
  ResponseStoreUnavailable,
  type StoredResponse,
} from "../../responses/mod.ts";
import { jsonResponse } from "../json_response.ts";
import { openaiError } from "../openai/errors.ts";
import type { FormatCall, WireFormat } from "../wire_format.ts";
import { completionToResponse, type ResponseObject, type ResponseShell } from "./answer.ts";
import { itemMinter, resolveReferences } from "./references.ts";
import { inputItems, parseResponsesBody, responsesToChat } from "./request.ts";
import { fail, type ResponsesRequest } from "./request_schema.ts";
import { createResponsesStreamEncoder, type ResponsesEvent } from "./stream.ts";

export const RESPONSES_PATH = "/v1/responses";

export interface ResponsesDeps {
  store: ResponseStore;
  ids: IdGen;
  clock: Clock;
  logger: Logger;
}

/** What a decoded call carries to its encoder besides the canonical request. */
interface Turn {
  /** This response's id, minted at decode so its input items can name it. */
  id: string;
  /** Mints this response's item ids (./references.ts). */
  mint: (prefix: string) => string;
  body: ResponsesRequest;
  caller?: string;
  history: Item[];
  input: Item[];
}

const ITEM_PREFIX: Record<string, string> = {
  message: "msg",
  function_call: "fc",
  function_call_output: "fco",
  reasoning: "rs",
};

/** The store could not answer: a 503 the client may retry. */
export const storeUnavailable = (e: ResponseStoreUnavailable): GatewayError => ({
  ok: false,
  status: 503,
  type: "unavailable",
  code: "response_store_unavailable",
  param: null,
  message: `The response store is unavailable: ${e.message}`,
  retryAfterMs: 1_000,
});

/** A stored response the caller may read: unknown, expired and another key's are all "none". */
export async function readStored(
  store: ResponseStore,
  id: string,
  caller: string | undefined,
): Promise<StoredResponse | undefined> {
  const r = await store.get(id);
  return r && r.caller === caller ? r : undefined;
}

export function responsesFormat(deps: ResponsesDeps): WireFormat<undefined> {
  const { store, ids, clock, logger } = deps;
  // The canonical request is the one object decode hands the pipeline and the encoders get
  // back (FormatCall.request); what only this format needs rides beside it, never inside it,
  // so no adapter can forward it upstream.
  const turns = new WeakMap<ChatRequest, Turn>();
  const mint = (prefix: string) => `${prefix}_${ids.next()}`;

  const shellOf = (call: FormatCall<undefined>, turn: Turn): ResponseShell => ({
    id: turn.id,
    createdAt: Math.floor(clock.now() / 1000),
    model: call.request.model,
    body: turn.body,
  });

  /** Keeps a finished response unless the client said `store: false`; never fails the call. */
  const keep = async (turn: Turn, response: ResponseObject) => {
    if (turn.body.store === false) return;
    const stored: StoredResponse = {
      id: response.id,
      history: turn.history,
      input: turn.input,
      response,
      ...(turn.caller ? { caller: turn.caller } : {}),
    };
    try {
      await store.put(stored);
    } catch (e) {
      logger.warn("response store: answer not kept", { id: response.id, error: String(e) });
    }
  };

  const frame = (e: ResponsesEvent) => sseFrame(e.data, e.event);

  return {
    name: "responses",
    target(req) {
      const path = new URL(req.url).pathname;
      if (req.method === "POST" && path === RESPONSES_PATH) return { ok: true, value: undefined };
      return notFound(`The gateway does not serve ${req.method} ${path}.`);
    },
    async decode(json, { headers, caller }) {
      const body = parseResponsesBody(json);
      if (!body.ok) return body;
      let history: Item[] = [];
      const prev = body.value.previous_response_id;
      let resolved;
      try {
        resolved = await resolveReferences(
          inputItems(body.value.input),
          (id) => readStored(store, id, caller),
        );
      } catch (e) {
        if (e instanceof ResponseStoreUnavailable) return storeUnavailable(e);
        throw e;
      }
      if (!resolved.ok) return resolved;
      if (prev) {
        let found: StoredResponse | undefined;
        try {
          found = await readStored(store, prev, caller);
        } catch (e) {
          if (e instanceof ResponseStoreUnavailable) return storeUnavailable(e);
          throw e;
        }
        if (!found) {
          return {
            ...fail(
              "previous_response_id",
              `no stored response with id '${prev}' (unknown, expired, deleted or stored with store: false)`,
            ),
            code: "previous_response_not_found",
          };
        }
        history = conversationOf(found);
      }
      const decoded = responsesToChat({ ...body.value, input: resolved.value }, {
        history,
        headerFallbacks: parseFallbacksHeader(headers.get("x-gateway-fallbacks")),
      });
      if (!decoded.ok) return decoded;
      const id = mint("resp");
      const mintItem = itemMinter(id);
      const input = decoded.value.input.map((item) => ({
        ...item,
        type: item.type ?? "message",
        id: typeof item.id === "string" && item.id
          ? item.id
          : mintItem(ITEM_PREFIX[String(item.type ?? "message")] ?? "item"),
      }));
      turns.set(decoded.value.request, {
        id,
        mint: mintItem,
        body: body.value,
        caller,
        history,
        input,
      });
      return { ok: true, value: decoded.value.request };
    },
    async encode(out, call) {
      const turn = turns.get(call.request)!;
      const response = completionToResponse(shellOf(call, turn), out.completion, turn.mint);
      await keep(turn, response);
      return jsonResponse({ ...response, extra_fields: out.extra }, out.headers);
    },
    /**
     * No `[DONE]`: the Responses API ends with response.completed (or .incomplete). A failure
     * after the first event ends it with response.failed, so SDKs see a failed response.
     */
    stream(out, call) {
      const turn = turns.get(call.request)!;
      const encoder = createResponsesStreamEncoder(shellOf(call, turn), turn.mint);
      return {
        framing: {
          push: (chunk) => encoder.push(chunk).map(frame),
          async end() {
            const frames = encoder.finish().map(frame);
            const final = encoder.final();
            // Kept before response.completed leaves, so a client that continues at once finds it.
            if (final) await keep(turn, final);
            return frames;
          },
          async failed(e) {
            // Anything but a StreamFailure is this route's own: the upstream, still open, stops.
            if (!(e instanceof StreamFailure)) await out.cancel();
            const f = streamFailureOf(e);
            const code = f.kind === "rate_limit" ? "rate_limit_exceeded" : "server_error";
            return encoder.fail({ code, message: midStreamMessage(out.provider, f.message) })
              .map(frame);
          },
        },
        headers: { ...SSE_HEADERS, ...out.headers },
      };
    },
    encodeError: openaiError,
  };
}
