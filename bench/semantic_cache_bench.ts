// The semantic cache's nearest-neighbour lookup: a flat scan of one scope's partition of unit
// Float32Array vectors (src/plugins/semantic_index.ts), at sizes up to 10k entries and at common
// embedding widths. `deno bench -A bench/semantic_cache_bench.ts`; figures in docs/plugins.md.
import { normalize, SemanticIndex } from "../src/plugins/semantic_index.ts";

let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff - 0.5;
const vec = (dim: number) => normalize(Array.from({ length: dim }, rand))!;

for (const dim of [256, 1536]) {
  for (const n of [1_000, 10_000]) {
    const idx = new SemanticIndex<number>(n, 1e12);
    for (let i = 0; i < n; i++) {
      idx.add({ id: String(i), scope: "s", vector: vec(dim), storedAt: 0, payload: i });
    }
    const q = vec(dim);
    Deno.bench(`search ${n} entries × ${dim} dims`, { group: `dim ${dim}` }, () => {
      idx.search("s", q, 0.95, 1);
    });
  }
}
