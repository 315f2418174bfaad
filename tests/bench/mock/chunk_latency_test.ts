// The latency fault's `chunkMs`: a stream whose pieces arrive spread out, for tests that need a
// stream still flowing when something happens (a client hanging up, a SIGTERM).
import assert from "node:assert/strict";
import { parseFaults, startMockUpstream } from "../../../bench/mock/mod.ts";

Deno.test("latency chunkMs: stream pieces arrive that far apart, the answer is unchanged", async () => {
  const mock = await startMockUpstream({ chunks: 4 });
  try {
    const ask = () =>
      fetch(`${mock.url}/t/v1/chat/completions`, {
        method: "POST",
        body: JSON.stringify({
          model: "m",
          stream: true,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
    const read = async (res: Response) => {
      const arrivals: number[] = [];
      let text = "";
      for await (const piece of res.body!.pipeThrough(new TextDecoderStream())) {
        arrivals.push(performance.now());
        text += piece;
      }
      return { arrivals, text };
    };
    const plain = await read(await ask());
    mock.setFaults("t", [{ kind: "latency", ms: 0, chunkMs: 80, times: 1 }]);
    const t0 = performance.now();
    const slow = await read(await ask());
    // Same bytes apart from the ids, which count requests.
    // Ids and `created` (whole seconds: the two answers may straddle one) aside, the same text.
    const same = (t: string) => t.replace(/-t-\d+/g, "").replace(/"created":\d+/g, '"created":0');
    assert.equal(same(slow.text), same(plain.text));
    assert.ok(slow.text.endsWith("data: [DONE]\n\n"));
    // role, 4 pieces, finish, [DONE]: at least 6 gaps of 80 ms between the first and the last.
    assert.ok(slow.arrivals.length >= 4, `${slow.arrivals.length} reads`);
    assert.ok(slow.arrivals.at(-1)! - t0 >= 6 * 80 - 5, `${slow.arrivals.at(-1)! - t0} ms`);
    // `times: 1` used up: the next stream is fast again.
    const t1 = performance.now();
    await read(await ask());
    assert.ok(performance.now() - t1 < 6 * 80, "the fault applied once");
  } finally {
    await mock.close();
  }
});

Deno.test("latency chunkMs: validated like the other fields", () => {
  assert.deepEqual(parseFaults({ kind: "latency", ms: 0, chunkMs: 50 }), [
    { kind: "latency", ms: 0, chunkMs: 50 },
  ]);
  assert.throws(
    () => parseFaults({ kind: "latency", ms: 0, chunkMs: -1 }),
    /fault 0: chunkMs must be >= 0/,
  );
  assert.throws(() => parseFaults({ kind: "latency", ms: 0, chunkMs: "x" }), /chunkMs/);
});
