import assert from "node:assert/strict";
import { mayUse, type McpAccess } from "../../src/mcp/access.ts";

const cases: {
  name: string;
  access: McpAccess | undefined;
  server: string;
  tool: string;
  want: boolean;
}[] = [
  {
    name: "no mcp field: every tool",
    access: undefined,
    server: "fs",
    tool: "fs__read",
    want: true,
  },
  { name: "empty object: every tool", access: {}, server: "fs", tool: "fs__read", want: true },
  {
    name: "server listed",
    access: { servers: ["fs"] },
    server: "fs",
    tool: "fs__read",
    want: true,
  },
  {
    name: "server not listed",
    access: { servers: ["gh"] },
    server: "fs",
    tool: "fs__read",
    want: false,
  },
  {
    name: "empty server list: nothing",
    access: { servers: [] },
    server: "fs",
    tool: "fs__read",
    want: false,
  },
  {
    name: "tool listed",
    access: { tools: ["fs__read"] },
    server: "fs",
    tool: "fs__read",
    want: true,
  },
  {
    name: "tool not listed",
    access: { tools: ["fs__read"] },
    server: "fs",
    tool: "fs__write",
    want: false,
  },
  {
    name: "tools by public name, not the server's",
    access: { tools: ["read"] },
    server: "fs",
    tool: "fs__read",
    want: false,
  },
  {
    name: "both: server and tool listed",
    access: { servers: ["fs"], tools: ["fs__read"] },
    server: "fs",
    tool: "fs__read",
    want: true,
  },
  {
    name: "both: tool listed, server not",
    access: { servers: ["gh"], tools: ["fs__read"] },
    server: "fs",
    tool: "fs__read",
    want: false,
  },
  {
    name: "both: server listed, tool not",
    access: { servers: ["fs"], tools: ["gh__x"] },
    server: "fs",
    tool: "fs__read",
    want: false,
  },
];

for (const c of cases) {
  Deno.test(`access: ${c.name}`, () => {
    assert.equal(mayUse(c.access, c.server, c.tool), c.want);
  });
}
