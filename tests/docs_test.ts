// The README and docs/ as a reader meets them: a README that fits on a few screens, links that
// land on a real file and heading, an event catalogue that lists every event the gateway
// publishes, and a zero-config start-up sample that is what `deno task serve` really prints.
import assert from "node:assert/strict";
import { EVENT_TYPES } from "../src/events/catalogue.ts";

const root = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, root));

async function markdownFiles(): Promise<string[]> {
  const docs: string[] = [];
  for await (const e of Deno.readDir(new URL("docs/", root))) {
    if (e.isFile && e.name.endsWith(".md")) docs.push(`docs/${e.name}`);
  }
  return ["README.md", ...docs.sort()];
}

/** Lines outside ``` fences, with their 1-based numbers. */
function prose(text: string): [number, string][] {
  const out: [number, string][] = [];
  let fence = false;
  text.split("\n").forEach((line, i) => {
    if (line.startsWith("```")) fence = !fence;
    else if (!fence) out.push([i + 1, line]);
  });
  return out;
}

/** GitHub's heading anchors: lowercase, punctuation but '-' and '_' dropped, spaces → '-'. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, line] of prose(text)) {
    const m = line.match(/^#{1,6}\s+(.*?)\s*$/);
    if (!m) continue;
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, "").replaceAll(" ", "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

Deno.test("docs: the README fits in 250 lines; reference material lives in docs/", async () => {
  const lines = (await read("README.md")).trimEnd().split("\n").length;
  assert.ok(lines <= 250, `README.md has ${lines} lines: move reference material to docs/*.md`);
});

Deno.test("docs: every relative link in README.md and docs/*.md reaches a file and a heading", async () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of await markdownFiles()) {
    const here = new URL(file, root);
    for (const [n, line] of prose(await Deno.readTextFile(here))) {
      for (const [, url] of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(url)) continue;
        checked++;
        const [path, fragment] = url.split("#");
        const target = path ? new URL(path, here) : here;
        let text: string;
        try {
          text = await Deno.readTextFile(target);
        } catch {
          broken.push(`${file}:${n}: ${url} (no such file)`);
          continue;
        }
        if (fragment !== undefined && !anchors(text).has(fragment)) {
          broken.push(`${file}:${n}: ${url} (no such heading)`);
        }
      }
    }
  }
  assert.ok(checked > 20, `only ${checked} links found`);
  assert.deepEqual(broken, []);
});

Deno.test("docs: docs/events.md lists every event type of the catalogue, and no other", async () => {
  const listed = [...(await read("docs/events.md")).matchAll(/^\| `([a-z]+\.[a-z_]+)` \|/gm)]
    .map((m) => m[1]);
  assert.deepEqual([...listed].sort(), [...EVENT_TYPES].sort());
});

Deno.test("docs: the README's zero-config start-up sample is what `deno task serve` prints", async () => {
  const readme = await read("README.md");
  const block = [...readme.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1])
    .find((b) => b.includes("config: environment (no GATEWAY_CONFIG file)"));
  assert.ok(block, "README shows a zero-config start-up sample");

  // As a user runs it with nothing set: no config file, no API keys, no NATS.
  const env: Record<string, string> = { NO_COLOR: "1", PORT: "0" };
  for (const name of ["PATH", "HOME", "DENO_DIR"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "src/main.ts"],
    cwd: root,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  // One process by default (WORKERS unset): `events:` is the last start-up line.
  const last = /\n {2}events: .*\n/;
  try {
    const deadline = Date.now() + 30_000;
    while (!last.test(out)) {
      assert.ok(Date.now() < deadline, `no start-up lines within 30 s:\n${out}`);
      const r = await stdout.read();
      if (r.done) assert.fail(`the gateway exited during start-up:\n${out}`);
      out += r.value;
    }
  } finally {
    child.kill("SIGTERM");
    await stdout.cancel().catch(() => {});
    await child.status;
  }
  // The instance id is random and the port was PORT=0.
  const normalise = (text: string) =>
    text.replace(/gw-[0-9a-f]+/g, "gw-ID").replace(/http:\/\/127\.0\.0\.1:\d+/g, "http://HOST")
      .split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  const printed = normalise(out);
  const start = printed.findIndex((l) => l.startsWith("gateway gw-ID listening on"));
  const end = printed.findIndex((l) => l.startsWith("  events: "));
  const sample = normalise(block);
  assert.deepEqual(sample, printed.slice(start, end + 1));
});
