// What a virtual key may see and call among the MCP tools: `mcp: {servers?, tools?}` on the key
// (servers by name, tools by their public <server>__<tool> names). No `mcp` field: every tool;
// a field present: only what it lists.

export interface McpAccess {
  servers?: readonly string[];
  tools?: readonly string[];
}

export function mayUse(access: McpAccess | undefined, server: string, publicName: string): boolean {
  if (!access) return true;
  if (access.servers && !access.servers.includes(server)) return false;
  if (access.tools && !access.tools.includes(publicName)) return false;
  return true;
}
