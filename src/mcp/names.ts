// The name a gateway client sees for an MCP tool: `<server>__<tool>`, within OpenAI's function
// name pattern ^[a-zA-Z0-9_-]{1,64}$ so it works as a function tool for every provider. Other
// characters become "_"; a name too long keeps its start and gets a short hash of the whole, so
// two long names stay apart, and so does a rewritten name that meets another tool's (`a.b`, `a_b`).

export const SEPARATOR = "__";
const MAX = 64;

/** FNV-1a, 32 bits, as 8 hex digits. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** `<server>__<tool>` with the characters a function name cannot hold made "_". */
const rewritten = (server: string, tool: string) =>
  `${server}${SEPARATOR}${tool.replace(/[^a-zA-Z0-9_-]/g, "_")}`;

/** Its start and a hash of the tool's own name, within the 64 characters. */
const hashed = (server: string, tool: string) =>
  `${rewritten(server, tool).slice(0, MAX - 9)}_${hash(`${server}/${tool}`)}`;

/** The public name of `tool` on `server` (server names are already [a-z0-9_-]). */
export function publicToolName(server: string, tool: string): string {
  const full = rewritten(server, tool);
  return full.length <= MAX ? full : hashed(server, tool);
}

/**
 * The public names of one server's tools, one each: a tool whose name had to be rewritten and
 * then meets another tool's public name gets a hash of its own name too; a name kept as it was
 * stays as it is.
 */
export function publicToolNames(server: string, tools: readonly string[]): string[] {
  const names = tools.map((t) => publicToolName(server, t));
  const uses = new Map<string, number>();
  for (const n of names) uses.set(n, (uses.get(n) ?? 0) + 1);
  return names.map((n, i) => {
    const kept = n === `${server}${SEPARATOR}${tools[i]}`;
    return uses.get(n) === 1 || kept ? n : hashed(server, tools[i]);
  });
}

/** The server a public name names (its prefix), or undefined. */
export function serverOf(name: string): string | undefined {
  const at = name.indexOf(SEPARATOR);
  return at > 0 ? name.slice(0, at) : undefined;
}
