// The Portkey AI gateway as a peer in the benchmark: `@portkey-ai/gateway` from the npm registry,
// installed with `npm install` into a temp dir at bench time (never committed), run on Node.
//
// It reaches the same mock upstream as an OpenAI provider with a custom base URL, per request:
// `x-portkey-provider: openai` and `x-portkey-custom-host: http://127.0.0.1:PORT/t1/v1` (its
// custom-host check trusts localhost and 127.0.0.1 by default).
//
// `@hono/node-server` is pinned to 1.14.1 with an npm override: later versions reuse the fetch
// Response's immutable Headers when a Response is built from another, and Portkey then fails every
// streamed answer with `TypeError: immutable` (Portkey-AI/gateway issues #1389 and #1550).

export const PORTKEY_VERSION = "1.15.2";
const NODE_SERVER_OVERRIDE = "1.14.1";

export interface Portkey {
  version: string;
  nodeServer: string;
  /** argv that starts it listening on `port`. */
  command(port: number): string[];
}

export async function nodeVersion(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("node", { args: ["--version"] }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Installs it into `dir`; throws with npm's output when that fails (e.g. no registry). */
export async function installPortkey(dir: string, version = PORTKEY_VERSION): Promise<Portkey> {
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({
      name: "bench-portkey-peer",
      private: true,
      dependencies: { "@portkey-ai/gateway": version },
      overrides: { "@hono/node-server": NODE_SERVER_OVERRIDE },
    }),
  );
  // Its only install script is patch-package, and the package ships no patches.
  const out = await new Deno.Command("npm", {
    args: ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`npm install @portkey-ai/gateway@${version} failed:\n${text.slice(-1500)}`);
  }
  const pkg = (name: string) =>
    JSON.parse(Deno.readTextFileSync(`${dir}/node_modules/${name}/package.json`)).version as string;
  const entry = `${dir}/node_modules/@portkey-ai/gateway/build/start-server.js`;
  return {
    version: pkg("@portkey-ai/gateway"),
    nodeServer: pkg("@hono/node-server"),
    // --headless: no log-viewer UI and no log stream, the mode for serving traffic.
    command: (port) => ["node", entry, `--port=${port}`, "--headless"],
  };
}

/** Headers that send a Portkey request to the mock as an OpenAI-compatible provider. */
export function portkeyHeaders(upstreamBaseUrl: string): Record<string, string> {
  return {
    "x-portkey-provider": "openai",
    "x-portkey-custom-host": upstreamBaseUrl,
    authorization: "Bearer sk-bench-not-a-real-key",
  };
}
