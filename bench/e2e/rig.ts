// What the CPU-per-request tools (bench/ab.ts, bench/floor.ts, bench/profile.ts) share: a temp
// dir, the servers to stop at the end, the mock upstream on the servers' CPU, a gateway.json that
// routes "mock/…" to it with no retries, and the chat request they load it with.
import type { LoadRequest } from "../load.ts";
import { canPin, type Server, startMock } from "./procs.ts";

export interface Rig {
  /** The repository root (where the mock, the forwarder and the gateway are started from). */
  root: string;
  /** The CPU the servers are pinned to, when the machine allows pinning. */
  cpu?: number;
  tmp: string;
  /** Stopped in reverse order by close(); the mock is the first. */
  servers: Server[];
  /** The mock's OpenAI base URL. */
  upstream: string;
  /** Path of a gateway.json with one provider "mock" on the mock upstream. */
  config: string;
  close(): Promise<void>;
}

export async function startRig(prefix: string): Promise<Rig> {
  const root = new URL("../../", import.meta.url).pathname;
  const cpu = (await canPin()) ? 1 : undefined;
  const tmp = await Deno.makeTempDir({ prefix });
  const servers: Server[] = [];
  const close = async () => {
    for (const s of servers.reverse()) await s.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  };
  try {
    const { server: mock, port } = await startMock({ cpu, log: `${tmp}/mock.log`, cwd: root });
    servers.push(mock);
    const upstream = `http://127.0.0.1:${port}/t1/v1`;
    const config = `${tmp}/gateway.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        providers: { mock: { type: "openai", baseUrl: upstream } },
        retries: { max: 0 },
      }),
    );
    return { root, cpu, tmp, servers, upstream, config, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The benchmarks' chat call: one short user message, JSON or streamed. */
export function chatLoad(url: string, model: string, stream: boolean): LoadRequest {
  return {
    url,
    body: JSON.stringify({
      model,
      messages: [{ role: "user", content: "Say hello" }],
      ...(stream ? { stream: true } : {}),
    }),
    stream,
  };
}
