import assert from "node:assert/strict";
import { createWorkerLink } from "../../src/workers/mod.ts";
import type { ToMain } from "../../src/workers/protocol.ts";

Deno.test("link: answers what the main thread asks, and refuses what it does not serve", async () => {
  const out: ToMain[] = [];
  const link = createWorkerLink((m) => out.push(m));
  link.serve("metrics.json", () => [{ name: "x" }]);
  assert.equal(link.receive({ t: "call", id: 7, op: "metrics.json", args: [] }), true);
  assert.equal(link.receive({ t: "call", id: 8, op: "nope", args: [] }), true);
  await new Promise((r) => setTimeout(r, 0));
  out.sort((a, b) => (a as { id: number }).id - (b as { id: number }).id);
  assert.deepEqual(out, [
    { t: "answer", id: 7, ok: true, value: [{ name: "x" }] },
    { t: "answer", id: 8, ok: false, error: "unknown call nope" },
  ]);
  assert.equal(link.receive({ t: "drain" }), false, "drain is the worker's, not the link's");
});

Deno.test("link: watch changes go to their watcher only, until stopped", () => {
  const link = createWorkerLink(() => {});
  const a: string[] = [];
  const b: string[] = [];
  const wa = link.watch((k) => a.push(k));
  const wb = link.watch((k) => b.push(k));
  link.receive({ t: "watch", wid: wa.wid, key: "k1", entry: undefined });
  link.receive({ t: "watch", wid: wb.wid, key: "k2", entry: undefined });
  wa.stop();
  link.receive({ t: "watch", wid: wa.wid, key: "k3", entry: undefined });
  assert.deepEqual([a, b], [["k1"], ["k2"]]);
});
