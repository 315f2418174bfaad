// The import-cycle check CI runs: on a tiny tree written to a temp folder, run as CI runs it.
import assert from "node:assert/strict";
import { cycles, type ImportGraph } from "../../scripts/check_cycles.ts";

const script = new URL("../../scripts/check_cycles.ts", import.meta.url).pathname;

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cycles-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, text);
  }
  return dir;
}

async function check(dir: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

const acyclic = {
  "src/main.ts": 'import { b } from "./b.ts";\nimport { a } from "../actors/a.ts";\nb(a);\n',
  "src/b.ts": 'import type { A } from "../actors/a.ts";\nexport const b = (_: A) => {};\n',
  "actors/a.ts": "export type A = number;\nexport const a: A = 1;\n",
  // Not reached from main.ts: read too.
  "src/lonely.ts": 'import { a } from "../actors/a.ts";\nexport const l = a;\n',
  // Outside the checked folders: its imports do not count.
  "tests/t.ts": 'import "../src/main.ts";\nexport const t = 1;\n',
};

Deno.test("a tree without cycles passes and says how many files it read", async () => {
  const dir = await tree(acyclic);
  try {
    const r = await check(dir);
    assert.equal(r.code, 0, r.text);
    assert.equal(r.text.trim(), "import cycles: none among 4 files in src/, actors/");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a cycle fails the check and is printed as a path; type-only imports count", async () => {
  const dir = await tree({
    ...acyclic,
    // lonely → c ⇢ lonely: closed by a type-only import, in a file main.ts never reaches.
    "src/lonely.ts": 'import { c } from "./c.ts";\nexport type L = 1;\nexport const l = c;\n',
    "src/c.ts": 'import type { L } from "./lonely.ts";\nexport const c: L = 1;\n',
    // A three-file circle across both folders.
    "actors/a.ts":
      'import { x } from "../src/x.ts";\nexport type A = number;\nexport const a = x;\n',
    "src/x.ts": 'import { y } from "./y.ts";\nexport const x = y;\n',
    "src/y.ts": 'import { a } from "../actors/a.ts";\nexport const y = 1;\nexport const z = a;\n',
  });
  try {
    const r = await check(dir);
    assert.equal(r.code, 1, r.text);
    const lines = r.text.trim().split("\n");
    assert.deepEqual(lines, [
      "import cycle through 3 files: actors/a.ts, src/x.ts, src/y.ts",
      "  actors/a.ts → src/x.ts → src/y.ts → actors/a.ts",
      "import cycle through 2 files: src/c.ts, src/lonely.ts",
      "  src/c.ts ⇢ src/lonely.ts → src/c.ts",
      "import cycles: 2 tangle(s) among 7 files in src/, actors/ (⇢ = type-only import; those count too)",
    ]);
    // Only the folders asked for are checked.
    const onlyActors = await check(dir, "actors");
    assert.equal(onlyActors.code, 0, onlyActors.text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("each file of a tangle gets its shortest cycle, each cycle printed once", () => {
  const e = (to: string, typeOnly = false) => ({ to, typeOnly });
  const graph: ImportGraph = new Map([
    ["a", [e("b"), e("c")]],
    ["b", [e("a", true)]],
    ["c", [e("d")]],
    ["d", [e("a")]],
    ["s", [e("s")]],
    ["free", [e("a")]],
  ]);
  assert.deepEqual(cycles(graph), [
    { files: ["a", "b", "c", "d"], cycles: ["a → b ⇢ a", "a → c → d → a"] },
    { files: ["s"], cycles: ["s → s"] },
  ]);
});
