// Real MCP servers for tests, built with the official SDK: Streamable HTTP on 127.0.0.1, either
// stateless (a fresh server per request, no session) or session-based (Mcp-Session-Id). Tools:
// weather {city} → "Sunny in <city>", echo {text} → text, add {a, b} → a+b, slow {ms} (sleeps), broken → isError, and `extra` more
// (t0, t1, …) so tools/list spans pages of `pageSize`. `setExtra(n)` changes the list and sends
// notifications/tools/list_changed to session clients; `down()` makes every request fail 503.
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type ListToolsRequest,
  ListToolsRequestSchema,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";

export interface McpTestServer {
  url: string;
  /** Tool calls received, in order (`name` as the server knows it). */
  calls: { name: string; args: unknown }[];
  /** tools/list requests received, with their cursors. */
  lists: (string | undefined)[];
  setExtra(n: number): Promise<void>;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

const BASE: Tool[] = [
  {
    name: "weather",
    description: "The weather in a city",
    inputSchema: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    },
  },
  {
    name: "echo",
    description: "Echoes text",
    inputSchema: {
      type: "object",
      properties: { text: { type: "string" } },
      required: ["text"],
    },
  },
  {
    name: "add",
    description: "Adds two numbers",
    inputSchema: {
      type: "object",
      properties: { a: { type: "number" }, b: { type: "number" } },
      required: ["a", "b"],
    },
  },
  {
    name: "slow",
    description: "Sleeps",
    inputSchema: { type: "object", properties: { ms: { type: "number" } } },
  },
  { name: "broken", description: "Always fails", inputSchema: { type: "object" } },
];

export function startMcpTestServer(
  opts: { stateful?: boolean; extra?: number; pageSize?: number } = {},
): McpTestServer {
  const pageSize = opts.pageSize ?? 3;
  let extra = opts.extra ?? 0;
  let isDown = false;
  const calls: McpTestServer["calls"] = [];
  const lists: McpTestServer["lists"] = [];
  const sessions = new Map<
    string,
    { server: Server; transport: WebStandardStreamableHTTPServerTransport }
  >();
  const tools = (): Tool[] => [
    ...BASE,
    ...Array.from({ length: extra }, (_, i) => ({
      name: `t${i}`,
      inputSchema: { type: "object" as const },
    })),
  ];
  const build = () => {
    const server = new Server(
      { name: "test-mcp", version: "1.0.0" },
      { capabilities: { tools: { listChanged: true } } },
    );
    server.setRequestHandler(ListToolsRequestSchema, (req: ListToolsRequest) => {
      const cursor = req.params?.cursor;
      lists.push(cursor);
      const from = cursor ? Number(cursor) : 0;
      const all = tools();
      const next = from + pageSize;
      return {
        tools: all.slice(from, next),
        ...(next < all.length && { nextCursor: String(next) }),
      };
    });
    server.setRequestHandler(CallToolRequestSchema, async (req: CallToolRequest) => {
      const { name, arguments: args = {} } = req.params;
      calls.push({ name, args });
      const a = args as Record<string, unknown>;
      switch (name) {
        case "weather":
          return { content: [{ type: "text", text: `Sunny in ${a.city}` }] };
        case "echo":
          return { content: [{ type: "text", text: String(a.text) }] };
        case "add":
          return { content: [{ type: "text", text: String(Number(a.a) + Number(a.b)) }] };
        case "slow":
          await new Promise((r) => setTimeout(r, Number(a.ms ?? 1000)));
          return { content: [{ type: "text", text: "slept" }] };
        case "broken":
          return { content: [{ type: "text", text: "it broke" }], isError: true };
        default:
          return { content: [{ type: "text", text: `ran ${name}` }] };
      }
    });
    return server;
  };
  const http = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    if (isDown) return new Response("down", { status: 503 });
    if (!opts.stateful) {
      // Stateless: no standalone SSE stream to open (it would keep close() waiting forever).
      if (req.method === "GET") {
        return new Response(null, { status: 405, headers: { allow: "POST" } });
      }
      const server = build();
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      await server.connect(transport);
      return transport.handleRequest(req);
    }
    const sid = req.headers.get("mcp-session-id");
    if (sid) {
      const s = sessions.get(sid);
      if (!s) return new Response("unknown session", { status: 404 });
      return s.transport.handleRequest(req);
    }
    const server = build();
    const transport: WebStandardStreamableHTTPServerTransport =
      new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (id: string) => void sessions.set(id, { server, transport }),
      });
    await server.connect(transport);
    return transport.handleRequest(req);
  });
  return {
    url: `http://127.0.0.1:${http.addr.port}/mcp`,
    calls,
    lists,
    async setExtra(n) {
      extra = n;
      for (const s of sessions.values()) await s.server.sendToolListChanged().catch(() => {});
    },
    down: () => void (isDown = true),
    up: () => void (isDown = false),
    async close() {
      for (const s of sessions.values()) await s.server.close().catch(() => {});
      await http.shutdown();
    },
  };
}
