// Fails on any import cycle between the project's own files. The graph comes from `deno info
// --json` (the module graph Deno itself builds), run on src/main.ts and then on every .ts file
// under the checked folders that the earlier runs did not reach, so nothing is missed. Type-only
// imports count: they never fail at run time, but a file that needs its importer's types cannot
// be read or tested without it.
//
//   deno run -A scripts/check_cycles.ts            # src/ and actors/ of the current directory
//   deno run -A scripts/check_cycles.ts lib/ app/  # other folders
//
// Exit 0 and one line when there is no cycle; exit 1 and, per tangle (a strongly connected set
// of files), its files and the shortest cycle through each of them, as `a.ts → b.ts → a.ts`
// (`⇢` marks a type-only import).

/** An import edge: the file imported, and whether only types are imported through it. */
export interface Edge {
  to: string;
  typeOnly: boolean;
}

/** File (path relative to the root) → the project files it imports. */
export type ImportGraph = Map<string, Edge[]>;

interface InfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier: string };
    type?: { specifier: string };
  }[];
}

async function denoInfo(root: string, file: string): Promise<InfoModule[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", file],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!out.success) {
    throw new Error(`deno info ${file} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return (JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] }).modules;
}

async function tsFiles(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(rel ? `${root}/${rel}` : root)];
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(path);
      else if (e.isFile && e.name.endsWith(".ts")) out.push(path);
    }
  };
  await walk(dir.replace(/^(\.\/)+|^\.$|\/+$/g, ""));
  return out;
}

/**
 * The import graph of every .ts file under `dirs` (relative to `root`), with `entries` (when
 * present) read first. Only edges between files under `dirs` are kept.
 */
export async function importGraph(
  root: string,
  dirs: readonly string[],
  entries: readonly string[] = [],
): Promise<ImportGraph> {
  const rootUrl = new URL(`file://${Deno.realPathSync(root)}/`).href;
  const files = (await Promise.all(dirs.map((d) => tsFiles(root, d)))).flat();
  const inScope = new Set(files);
  const rel = (specifier: string) =>
    specifier.startsWith(rootUrl) ? decodeURIComponent(specifier.slice(rootUrl.length)) : undefined;
  const graph: ImportGraph = new Map();
  const todo = [...entries.filter((e) => inScope.has(e)), ...files];
  for (const file of todo) {
    if (graph.has(file)) continue;
    for (const m of await denoInfo(root, file)) {
      const from = rel(m.specifier);
      if (from === undefined || !inScope.has(from) || graph.has(from)) continue;
      const edges = new Map<string, boolean>();
      for (const d of m.dependencies ?? []) {
        const code = d.code && rel(d.code.specifier);
        const type = d.type && rel(d.type.specifier);
        if (code && inScope.has(code)) edges.set(code, false);
        if (type && inScope.has(type) && !edges.has(type)) edges.set(type, true);
      }
      graph.set(from, [...edges].map(([to, typeOnly]) => ({ to, typeOnly })));
    }
    if (!graph.has(file)) graph.set(file, []);
  }
  return graph;
}

/** Strongly connected sets of more than one file (or a file importing itself), sorted. */
export function tangles(graph: ImportGraph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!idx.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(v, Math.min(low.get(v)!, idx.get(to)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const set: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        set.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).some((e) => e.to === v);
      if (set.length > 1 || selfLoop) out.push(set.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The shortest cycle from `start` back to itself inside `within`, as a list of edges. */
function shortestCycle(graph: ImportGraph, start: string, within: Set<string>): Edge[] {
  const prev = new Map<string, { from: string; edge: Edge }>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i];
    for (const e of graph.get(v) ?? []) {
      if (!within.has(e.to)) continue;
      if (e.to === start) {
        const path: Edge[] = [e];
        for (let at = v; at !== start;) {
          const p = prev.get(at)!;
          path.unshift(p.edge);
          at = p.from;
        }
        return path;
      }
      if (prev.has(e.to)) continue;
      prev.set(e.to, { from: v, edge: e });
      queue.push(e.to);
    }
  }
  return [];
}

/** Every tangle's cycles: the shortest through each of its files, each cycle once. */
export function cycles(graph: ImportGraph): { files: string[]; cycles: string[] }[] {
  return tangles(graph).map((files) => {
    const within = new Set(files);
    const seen = new Set<string>();
    const out: string[] = [];
    for (const f of files) {
      const path = shortestCycle(graph, f, within);
      const nodes = path.map((e) => e.to);
      // One cycle has one text: start it at its smallest file.
      const j = nodes.indexOf([...nodes].sort()[0]);
      const key = [...nodes.slice(j), ...nodes.slice(0, j)].join(" ");
      if (seen.has(key)) continue;
      seen.add(key);
      const k = (j + 1) % path.length; // the edge leaving the smallest file
      const edges = [...path.slice(k), ...path.slice(0, k)];
      out.push(
        edges.reduce((s, e) => `${s} ${e.typeOnly ? "⇢" : "→"} ${e.to}`, edges.at(-1)!.to),
      );
    }
    return { files, cycles: out };
  });
}

if (import.meta.main) {
  const dirs = Deno.args.length ? Deno.args : ["src", "actors"];
  const graph = await importGraph(Deno.cwd(), dirs, ["src/main.ts"]);
  const found = cycles(graph);
  const where = dirs.map((d) => `${d.replace(/\/+$/, "")}/`).join(", ");
  if (found.length === 0) {
    console.log(`import cycles: none among ${graph.size} files in ${where}`);
    Deno.exit(0);
  }
  for (const t of found) {
    console.log(`import cycle through ${t.files.length} files: ${t.files.join(", ")}`);
    for (const c of t.cycles) console.log(`  ${c}`);
  }
  console.log(
    `import cycles: ${found.length} tangle(s) among ${graph.size} files in ${where}` +
      " (⇢ = type-only import; those count too)",
  );
  Deno.exit(1);
}
