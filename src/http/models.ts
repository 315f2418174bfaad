// GET /v1/models and GET /v1/models/{id}: every configured provider/model and route alias, in
// OpenAI's list and model shapes. While virtual keys are required, the caller must present one
// (401 for a missing, unknown or revoked key, as on the model routes) and sees only what that key
// may use: a provider/model the key allows, and a route alias with at least one allowed target
// (the planner runs such a route on the targets the key allows). One rule decides both, `allows`
// from src/routing/key_scope.ts, the same the planner applies to every request.
import type { Context, Hono } from "hono";
import type { Gateway } from "../gateway.ts";
import type { KeyTarget } from "../routing/mod.ts";
import { allows } from "../routing/key_scope.ts";
import { openaiError } from "../formats/openai/errors.ts";
import { authenticateCall } from "./admission.ts";
import { startCall } from "./call.ts";
import { errorResponse } from "./errors.ts";

interface ModelEntry {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  /** The provider/model refs behind the entry (one, or a route's targets); not sent. */
  refs: readonly string[];
}

const CREATED = Math.floor(Date.parse("2024-01-01T00:00:00Z") / 1000);

function catalogue(gw: Gateway): ModelEntry[] {
  const { config } = gw.deps;
  return [
    ...Object.values(config.providers).flatMap((p) =>
      p.models.map((m): ModelEntry => ({
        id: `${p.id}/${m}`,
        object: "model",
        created: CREATED,
        owned_by: p.id,
        refs: [`${p.id}/${m}`],
      }))
    ),
    ...Object.entries(config.routes).map(([alias, refs]): ModelEntry => ({
      id: alias,
      object: "model",
      created: CREATED,
      owned_by: "gateway-route",
      refs,
    })),
  ];
}

/** Whether a key may send a request to "provider/model". */
function allowsRef(targets: readonly KeyTarget[], ref: string): boolean {
  const slash = ref.indexOf("/");
  return slash > 0 &&
    allows(targets, { provider: ref.slice(0, slash), model: ref.slice(slash + 1) });
}

const visible = ({ refs: _, ...m }: ModelEntry) => m;

/** The entries this caller may see, or the refusal (401, or 503 while keys cannot be checked). */
async function entriesFor(gw: Gateway, c: Context): Promise<ModelEntry[] | Response> {
  const all = catalogue(gw);
  // Refused as the model routes refuse: the same body, WWW-Authenticate and x-request-id.
  const start = startCall(gw, c.req.header("x-request-id"));
  const refused = await authenticateCall(gw.governor, start, c.req.raw);
  if (refused) return openaiError(refused);
  const key = start.virtualKey;
  if (!key) return all;
  return all.filter((m) => m.refs.some((ref) => allowsRef(key.providers, ref)));
}

/** GET /v1/models. */
export function listModels(gw: Gateway) {
  return async (c: Context) => {
    const entries = await entriesFor(gw, c);
    if (entries instanceof Response) return entries;
    return c.json({ object: "list", data: entries.map(visible) });
  };
}

/** GET /v1/models/{id}: one entry (an id may contain "/"), 404 when unknown or not allowed. */
export function getModel(gw: Gateway) {
  return async (c: Context) => {
    const entries = await entriesFor(gw, c);
    if (entries instanceof Response) return entries;
    let id = c.req.path.slice("/v1/models/".length);
    try {
      id = decodeURIComponent(id);
    } catch {
      // Left as sent: it matches no entry.
    }
    const entry = entries.find((m) => m.id === id);
    if (entry) return c.json(visible(entry));
    return errorResponse(
      404,
      `The model "${id}" does not exist or this key may not use it; GET /v1/models lists them.`,
      "invalid_request_error",
      "model_not_found",
      { param: "model" },
    );
  };
}

export function mountModels(app: Hono, gw: Gateway): void {
  app.get("/v1/models", listModels(gw));
  app.get("/v1/models/*", getModel(gw));
}
