// GET /v1/models: every configured provider/model and route alias, OpenAI list shape.
import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";

export function listModels(gw: Gateway) {
  const { config } = gw.deps;
  const created = Math.floor(Date.parse("2024-01-01T00:00:00Z") / 1000);
  const data = [
    ...Object.values(config.providers).flatMap((p) =>
      p.models.map((m) => ({ id: `${p.id}/${m}`, object: "model", created, owned_by: p.id }))
    ),
    ...Object.keys(config.routes).map((alias) => ({
      id: alias,
      object: "model",
      created,
      owned_by: "gateway-route",
    })),
  ];
  const body = { object: "list", data };
  return (c: Context) => c.json(body);
}
