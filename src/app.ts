// createApp(gateway) → the Hono app. No module-level state: everything comes from the gateway.
import { Hono } from "hono";
import {
  anthropicMessages,
  bedrockConverse,
  formatRoute,
  genaiGenerate,
  openaiChat,
} from "./formats/mod.ts";
import { countTokens } from "./formats/anthropic/mod.ts";
import type { Gateway } from "./gateway.ts";
import {
  deleteResponse,
  getResponse,
  listInputItems,
  responsesFormat,
} from "./formats/responses/mod.ts";
import { mountAdminKeys } from "./http/admin_keys.ts";
import { mountAliases } from "./http/aliases.ts";
import { embeddings } from "./http/embeddings.ts";
import { inProcessEmbedder } from "./http/embed_in_process.ts";
import { errorResponse } from "./http/errors.ts";
import { modelDoor, toolsDoor } from "./http/front.ts";
import { openaiError } from "./formats/openai/errors.ts";
import { healthz, providerState, readyz } from "./http/health.ts";
import { mountModels } from "./http/models.ts";
import { mountOperatorGate } from "./http/operator_gate.ts";
import { dashboard } from "./http/dashboard.ts";
import { eventsSse } from "./http/events_sse.ts";
import { mountTelemetry } from "./telemetry/mod.ts";
import { executeMcpTool, listMcpTools, mcpState } from "./http/mcp_tools.ts";
import { jsonRpcRefusal, mountMcpEndpoint } from "./http/mcp_endpoint.ts";

/**
 * The routes that run a model (their aliases re-enter the app under these paths). Every pattern
 * here must suit Hono's RegExpRouter, or its SmartRouter falls back to the TrieRouter for every
 * request, ~5 µs slower per call: "/v1/responses/*" also matches "/v1/responses" itself, once.
 */
const MODEL_ROUTES = [
  "/v1/chat/completions",
  "/v1/embeddings",
  "/v1/responses/*",
  "/anthropic/v1/messages",
  "/anthropic/v1/messages/count_tokens",
  "/genai/*",
  "/bedrock/model/*",
];

export function createApp(gw: Gateway): Hono {
  const app = new Hono();
  // Plugins that need vectors (the semantic cache) embed through this gateway's own pipeline.
  gw.embed ??= inProcessEmbedder(gw);
  mountTelemetry(app, gw); // first: its middleware sees every route; also GET /metrics
  // Draining, overload and virtual keys, and the in-flight count, for every model route.
  const door = modelDoor(gw);
  for (const path of MODEL_ROUTES) app.use(path, door);
  // The admin key in front of /v1/gateway/*, /dashboard and /admin/* (when one is set).
  mountOperatorGate(app, gw);
  app.post("/v1/chat/completions", formatRoute(gw, openaiChat));
  app.post("/v1/embeddings", embeddings(gw));
  // OpenAI's Responses API and its stored responses (src/formats/responses/).
  const { deps } = gw;
  app.post(
    "/v1/responses",
    formatRoute(gw, responsesFormat({ store: gw.responses, ...deps })),
  );
  app.get("/v1/responses/:id", getResponse(gw));
  app.delete("/v1/responses/:id", deleteResponse(gw));
  app.get("/v1/responses/:id/input_items", listInputItems(gw));
  mountModels(app, gw);
  // Draining and overload, and the in-flight count, for the MCP tool routes too.
  app.use("/v1/mcp/tool/execute", toolsDoor(gw, openaiError));
  for (const path of ["/mcp", "/mcp/*"]) app.use(path, toolsDoor(gw, jsonRpcRefusal));
  app.get("/v1/mcp/tools", listMcpTools(gw));
  app.post("/v1/mcp/tool/execute", executeMcpTool(gw));
  mountMcpEndpoint(app, gw); // POST /mcp: the gateway as one stateless MCP server
  app.get("/v1/gateway/providers", providerState(gw));
  app.get("/v1/gateway/mcp", mcpState(gw));
  app.get("/v1/gateway/events", eventsSse(gw));
  app.get("/dashboard", dashboard(gw));
  app.get("/healthz", healthz());
  app.get("/readyz", readyz(gw));
  // Drop-in routes for other SDKs, each a WireFormat served by the one route (src/formats/).
  app.post("/anthropic/v1/messages/count_tokens", countTokens(gw)); // before /anthropic/*
  app.all("/anthropic/*", formatRoute(gw, anthropicMessages));
  mountAliases(app);
  app.all("/genai/*", formatRoute(gw, genaiGenerate));
  app.post("/bedrock/model/*", formatRoute(gw, bedrockConverse)); // before notFound
  mountAdminKeys(app, gw);
  app.notFound((c) =>
    errorResponse(
      404,
      `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`,
      "invalid_request_error",
      "not_found",
    )
  );
  app.onError((err) => {
    gw.deps.logger.error("unhandled error", { error: String(err) });
    return errorResponse(
      500,
      "The gateway hit an internal error; see its logs.",
      "internal_error",
      "internal_error",
    );
  });
  return app;
}
