import assert from "node:assert/strict";
import { cosine, dot, normalize, SemanticIndex } from "../../src/plugins/semantic_index.ts";

const unit = (...v: number[]) => normalize(v)!;

Deno.test("normalize scales to unit length; a zero vector has no direction", () => {
  const v = normalize([3, 4])!;
  assert.ok(Math.abs(v[0] - 0.6) < 1e-6 && Math.abs(v[1] - 0.8) < 1e-6);
  assert.equal(normalize([0, 0]), undefined);
  assert.equal(normalize([NaN, 1]), undefined);
});

Deno.test("cosine: 1 for the same direction, 0 orthogonal, -1 opposite, 0 for mismatched lengths", () => {
  assert.ok(Math.abs(cosine([1, 2, 3], [2, 4, 6]) - 1) < 1e-6);
  assert.ok(Math.abs(cosine([1, 0], [0, 5])) < 1e-6);
  assert.ok(Math.abs(cosine([1, 1], [-1, -1]) + 1) < 1e-6);
  assert.equal(cosine([1, 0], [1, 0, 0]), 0);
  assert.equal(dot(unit(1, 0), unit(1, 0, 0)), 0);
});

Deno.test("search: the most similar entry at or above the threshold, never another scope's", () => {
  const idx = new SemanticIndex<string>(10, 1_000);
  idx.add({ id: "a", scope: "s1", vector: unit(1, 0, 0), storedAt: 0, payload: "A" });
  idx.add({ id: "b", scope: "s1", vector: unit(1, 1, 0), storedAt: 0, payload: "B" });
  idx.add({ id: "c", scope: "s2", vector: unit(1, 0.01, 0), storedAt: 0, payload: "C" });
  const q = unit(1, 0.1, 0);
  const hit = idx.search("s1", q, 0.9, 10)!;
  assert.equal(hit.entry.payload, "A");
  assert.ok(hit.similarity > 0.99 && hit.similarity <= 1.0000001);
  assert.equal(idx.search("s1", unit(0, 0, 1), 0.5, 10), undefined, "below threshold");
  assert.equal(idx.search("s3", q, 0.1, 10), undefined, "unknown scope");
  assert.equal(idx.search("s2", q, 0.9, 10)!.entry.payload, "C");
});

Deno.test("entries expire after the TTL and are dropped when met", () => {
  const idx = new SemanticIndex<string>(10, 100);
  idx.add({ id: "a", scope: "s", vector: unit(1, 0), storedAt: 0, payload: "A" });
  assert.ok(idx.search("s", unit(1, 0), 0.9, 99));
  assert.equal(idx.search("s", unit(1, 0), 0.9, 100), undefined);
  assert.equal(idx.size, 0);
});

Deno.test("maxEntries across scopes: least recently used out first; a hit refreshes", () => {
  const idx = new SemanticIndex<string>(2, 1_000);
  idx.add({ id: "a", scope: "s1", vector: unit(1, 0), storedAt: 0, payload: "A" });
  idx.add({ id: "b", scope: "s2", vector: unit(0, 1), storedAt: 0, payload: "B" });
  assert.ok(idx.search("s1", unit(1, 0), 0.9, 1)); // a is now most recently used
  idx.add({ id: "c", scope: "s3", vector: unit(1, 1), storedAt: 0, payload: "C" });
  assert.equal(idx.size, 2);
  assert.equal(idx.search("s2", unit(0, 1), 0.9, 1), undefined, "b was evicted");
  assert.ok(idx.search("s1", unit(1, 0), 0.9, 1));
  // Same id replaces, in its (possibly new) scope.
  idx.add({ id: "a", scope: "s9", vector: unit(1, 0), storedAt: 0, payload: "A2" });
  assert.equal(idx.size, 2);
  assert.equal(idx.search("s1", unit(1, 0), 0.9, 1), undefined);
  assert.equal(idx.search("s9", unit(1, 0), 0.9, 1)!.entry.payload, "A2");
});
