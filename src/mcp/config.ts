// The "mcp" section of gateway.json: the MCP servers the gateway connects to (Streamable HTTP, or
// stdio when the operator allows it), each with allow/deny lists of tools, a timeout per call,
// a health ping interval and a breaker. Header values may reference secrets as "env:NAME".
import { z } from "zod";

const SERVER_NAME = /^[a-z0-9_-]{1,32}$/;

const McpBreakerSchema = z.strictObject({
  failureRateThreshold: z.number().gt(0).lte(1).default(0.5),
  minimumRequests: z.number().int().positive().default(3),
  windowMs: z.number().int().positive().default(30_000),
  openMs: z.number().int().positive().default(10_000),
  maxOpenMs: z.number().int().positive().default(60_000),
  halfOpenProbes: z.number().int().positive().default(1),
});

export const McpServerSchema = z.strictObject({
  url: z.url().optional().describe("Streamable HTTP endpoint, e.g. http://127.0.0.1:3001/mcp"),
  headers: z.record(z.string(), z.string()).optional().describe(
    'sent on every request; a value "env:NAME" is read from the environment',
  ),
  command: z.string().min(1).optional().describe(
    "stdio server: the program (needs mcp.allowStdio)",
  ),
  args: z.array(z.string()).optional().describe("stdio server: its arguments"),
  env: z.record(z.string(), z.string()).optional().describe("stdio server: extra environment"),
  allow: z.array(z.string().min(1)).optional().describe("only these tools (the server's names)"),
  deny: z.array(z.string().min(1)).optional().describe("never these tools"),
  timeoutMs: z.number().int().positive().default(30_000).describe("one tool call"),
  pingMs: z.number().int().nonnegative().default(15_000).describe("health ping interval; 0 = off"),
  breaker: McpBreakerSchema.default(McpBreakerSchema.parse({})),
});

export const McpSchema = z.strictObject({
  allowStdio: z.boolean().default(false).describe(
    "let servers with a command run as child processes (off by default)",
  ),
  servers: z.record(
    z.string().regex(SERVER_NAME, { message: "MCP server names are 1-32 of [a-z0-9_-]" }),
    McpServerSchema,
  ).default({}),
});

export type McpSection = z.output<typeof McpSchema>;
type ServerInput = z.output<typeof McpServerSchema>;

/** One server, resolved: how to reach it and its policy. */
export interface McpServerConfig extends Omit<ServerInput, "url" | "command" | "headers"> {
  name: string;
  transport:
    | { kind: "http"; url: string; headers: Record<string, string> }
    | { kind: "stdio"; command: string; args: string[]; env: Record<string, string> };
}

export interface McpConfig {
  servers: Readonly<Record<string, McpServerConfig>>;
}

/** Resolves env references and checks each server's transport; problems name the field. */
export function resolveMcp(
  m: McpSection,
  env: (name: string) => string | undefined,
  problems: string[],
): McpConfig {
  const servers: Record<string, McpServerConfig> = {};
  for (const [name, s] of Object.entries(m.servers)) {
    const field = `mcp.servers.${name}`;
    const { url, command, args, env: childEnv, headers, ...policy } = s;
    if ((url === undefined) === (command === undefined)) {
      problems.push(
        `  - ${field}: set exactly one of "url" (Streamable HTTP) or "command" (stdio)`,
      );
      continue;
    }
    if (command !== undefined && !m.allowStdio) {
      problems.push(
        `  - ${field}.command: stdio servers run programs on the gateway's host; set mcp.allowStdio to true to allow them`,
      );
      continue;
    }
    const resolved: Record<string, string> = {};
    for (const [h, v] of Object.entries(headers ?? {})) {
      if (!v.startsWith("env:")) {
        resolved[h] = v;
        continue;
      }
      const got = env(v.slice(4));
      if (got === undefined || got === "") {
        problems.push(`  - ${field}.headers.${h}: environment variable ${v.slice(4)} is not set`);
      }
      resolved[h] = got ?? "";
    }
    servers[name] = {
      ...policy,
      name,
      transport: url !== undefined
        ? { kind: "http", url, headers: resolved }
        : { kind: "stdio", command: command!, args: args ?? [], env: childEnv ?? {} },
    };
  }
  return { servers };
}
