// CLI for the mock upstream: `deno task mock [--port 9000] [--hostname 127.0.0.1]
// [--latency-ms 0] [--completion-bytes 64] [--chunks 4] [--resets] [--fault target=<json>]...`
// (--resets: serve through the TCP front that `reset` faults need; see reset_front.ts).
import { parseArgs } from "node:util";
import { FORMATS, parseFaults, startMockUpstream } from "./mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    hostname: { type: "string", default: "127.0.0.1" },
    "latency-ms": { type: "string", default: "0" },
    "completion-bytes": { type: "string", default: "64" },
    chunks: { type: "string", default: "4" },
    resets: { type: "boolean", default: false },
    fault: { type: "string", multiple: true, default: [] },
  },
});

function int(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
}

try {
  // Parse every fault before listening so a typo stops start-up instead of being ignored.
  const faults = values.fault.map((spec) => {
    const eq = spec.indexOf("=");
    if (eq < 1) throw new Error(`--fault ${spec}: expected target=<json>`);
    return { target: spec.slice(0, eq), faults: parseFaults(JSON.parse(spec.slice(eq + 1))) };
  });
  const mock = await startMockUpstream({
    port: int("port", values.port ?? Deno.env.get("PORT") ?? "9000", 0),
    hostname: values.hostname,
    latencyMs: int("latency-ms", values["latency-ms"], 0),
    completionBytes: int("completion-bytes", values["completion-bytes"], 1),
    chunks: int("chunks", values.chunks, 1),
    resets: values.resets,
  });
  for (const f of faults) mock.setFaults(f.target, f.faults);
  const u = mock.url;
  // One line (scripts read up to the first newline): every format's routes, then the control API.
  const routes = FORMATS.map((f) =>
    `${f.name}: ${f.routes.map((r) => r.replace(" /", ` ${u}/{target}/`)).join(", ")}`
  );
  console.log(
    `mock upstream listening on ${u} — ${routes.join("; ")}; GET ${u}/{target}/v1/models; ` +
      `control: curl -X POST ${u}/_mock/faults/t1 -d '{"kind":"rate_limit","times":2}' ` +
      `(also DELETE /_mock/faults/{target}, GET /_mock/hits, GET /_mock/calls, POST /_mock/reset)`,
  );
  const stop = async () => {
    await mock.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
} catch (e) {
  console.error(`mock upstream: ${(e as Error).message}`);
  Deno.exit(2);
}
