// The admin API for virtual keys, behind `Authorization: Bearer <GATEWAY_ADMIN_KEY>` (checked by
// the operator gate, ./operator_gate.ts, mounted in front of /admin/*):
//
//   POST   /admin/keys        create; answers 201 with the secret, the only time it is shown
//   GET    /admin/keys        every key (declared in gateway.json and created here) with usage
//   GET    /admin/keys/{id}   one key with its usage this minute and spend this period
//   PATCH  /admin/keys/{id}   change name, providers, limits, budget (null removes the last two)
//   DELETE /admin/keys/{id}   revoke (the key answers 401 from then on, on every replica)
//   /admin/customers, /admin/teams  the same five for the levels above keys (a key's "team",
//                                   a team's "customer"); DELETE of one still named is a 409
//
// Without GATEWAY_ADMIN_KEY the whole API answers 404 saying how to turn it on. Answers and
// errors are OpenAI-shaped; no answer ever carries a secret's digest, and only creation its secret.
import type { Context, Hono } from "hono";
import type { z } from "zod";
import type { Gateway } from "../gateway.ts";
import {
  type AdminResult,
  CustomerFieldsSchema,
  CustomerPatchSchema,
  KeyFieldsSchema,
  KeyPatchSchema,
  TeamFieldsSchema,
  TeamPatchSchema,
} from "../governance/mod.ts";
import { type GatewayError, invalidRequest, type Result } from "../lib/errors.ts";
import { readBody } from "./body.ts";
import { errorResponse } from "./errors.ts";

const fail = (status: number, message: string, code: string, param: string | null = null) =>
  errorResponse(status, message, "invalid_request_error", code, { param });

/**
 * null when the admin API is on, else the 404 that says how to turn it on. Who may call it is
 * decided before this, by the operator gate (./operator_gate.ts) in front of every /admin/* path.
 */
function guard(gw: Gateway): Response | null {
  if (gw.deps.config.adminKey) return null;
  return fail(
    404,
    "The admin API is off: start the gateway with GATEWAY_ADMIN_KEY set to manage virtual keys.",
    "admin_api_disabled",
  );
}

/** The gateway's error as this API's OpenAI-shaped answer. */
const refuse = (e: GatewayError) => fail(e.status, e.message, e.code, e.param);

async function parse<S extends z.ZodType>(
  gw: Gateway,
  c: Context,
  schema: S,
): Promise<Result<z.output<S>>> {
  const body = await readBody(c.req.raw, gw.deps.config.limits.maxBodyBytes);
  if (!body.ok) return body;
  let json: unknown;
  try {
    json = JSON.parse(body.text);
  } catch (e) {
    return invalidRequest(
      `The body is not valid JSON: ${(e as Error).message}`,
      null,
      "invalid_json",
    );
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("").replace(/^\./, "");
  return invalidRequest(`${path || "body"}: ${issue.message}`, path);
}

function answer<T>(c: Context, r: AdminResult<T>, status: 200 | 201 = 200): Response {
  if (!r.ok) return refuse(r);
  return c.json(r.value as object, status);
}

const idOf = (c: Context) => c.req.param("id") ?? "";

export function mountAdminKeys(app: Hono, gw: Gateway): void {
  const g = gw.governor;
  const guarded = (handler: (c: Context) => Promise<Response>) => async (c: Context) =>
    guard(gw) ?? await handler(c);

  app.post(
    "/admin/keys",
    guarded(async (c) => {
      const input = await parse(gw, c, KeyFieldsSchema);
      if (!input.ok) return refuse(input);
      const created = await g.createKey(input.value);
      if (!created.ok) return answer(c, created);
      const { view: { id, ...view }, secret } = created.value;
      c.header("location", `/admin/keys/${id}`);
      c.header("cache-control", "no-store");
      return c.json({ id, key: secret, ...view }, 201);
    }),
  );
  app.get(
    "/admin/keys",
    guarded(async (c) => c.json({ object: "list", data: await g.listKeys() })),
  );
  app.get("/admin/keys/:id", guarded(async (c) => answer(c, await g.getKey(idOf(c)))));
  app.patch(
    "/admin/keys/:id",
    guarded(async (c) => {
      const input = await parse(gw, c, KeyPatchSchema);
      if (!input.ok) return refuse(input);
      return answer(c, await g.updateKey(idOf(c), input.value));
    }),
  );
  app.delete(
    "/admin/keys/:id",
    guarded(async (c) => answer(c, await g.revokeKey(idOf(c)))),
  );
  const levels = [
    ["customer", "/admin/customers", CustomerFieldsSchema, CustomerPatchSchema],
    ["team", "/admin/teams", TeamFieldsSchema, TeamPatchSchema],
  ] as const;
  for (const [kind, path, fields, patch] of levels) {
    app.post(
      path,
      guarded(async (c) => {
        const input = await parse(gw, c, fields);
        if (!input.ok) return refuse(input);
        const created = await g.createLevel(kind, input.value);
        if (created.ok) c.header("location", `${path}/${created.value.id}`);
        return answer(c, created, 201);
      }),
    );
    app.get(path, guarded(async (c) => c.json({ object: "list", data: await g.listLevels(kind) })));
    app.get(`${path}/:id`, guarded(async (c) => answer(c, await g.getLevel(kind, idOf(c)))));
    app.patch(
      `${path}/:id`,
      guarded(async (c) => {
        const input = await parse(gw, c, patch);
        if (!input.ok) return refuse(input);
        return answer(c, await g.updateLevel(kind, idOf(c), input.value));
      }),
    );
    app.delete(`${path}/:id`, guarded(async (c) => answer(c, await g.deleteLevel(kind, idOf(c)))));
  }
  app.all(
    "/admin/*",
    guarded((c) =>
      Promise.resolve(fail(
        404,
        `No admin route for ${c.req.method} ${new URL(c.req.url).pathname}. ` +
          "The admin API serves /admin/keys, /admin/teams and /admin/customers (and /{id} of each).",
        "not_found",
      ))
    ),
  );
}
