// The semantic cache on real listening gateways, against a test upstream whose embeddings are a
// bag-of-words hashing embedding (so a paraphrase with the same content words is close and an
// unrelated question far): a paraphrase is answered from the cache with no chat call upstream,
// an unrelated question goes upstream, two virtual keys never share answers, a stream request is
// answered as a stream from a hit, a streamed answer is stored once it ended well, and two
// gateways on one nats-server share entries.
import assert from "node:assert/strict";
import type { ConfigFile } from "../../src/config.ts";
import type { GatewayEvent } from "../../src/events/catalogue.ts";
import type { RunningGateway } from "../../src/server.ts";
import { eventually, startTestGateway } from "../_support/gateway.ts";
import { startNatsServer } from "../_support/nats_server.ts";

const STOP = new Set(["what", "is", "the", "of", "a", "its", "s", "tell", "me", "please", "whats"]);

/** Bag of words hashed into 64 dimensions, stop words left out. */
function embedText(text: string): number[] {
  const v = new Array(64).fill(0);
  for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    if (STOP.has(w)) continue;
    let h = 2166136261;
    for (const ch of w) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    v[(h >>> 0) % 64] += 1;
  }
  return v;
}

interface Upstream {
  url: string;
  chatCalls: () => number;
  embedCalls: () => number;
  close(): Promise<void>;
}

function startUpstream(): Upstream {
  let chats = 0, embeds = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const body = await req.json();
    if (url.pathname.endsWith("/embeddings")) {
      embeds++;
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return Response.json({
        object: "list",
        model: body.model,
        data: inputs.map((t: string, index: number) => ({
          object: "embedding",
          index,
          embedding: embedText(t),
        })),
        usage: { prompt_tokens: 1, total_tokens: 1 },
      });
    }
    chats++;
    const question = body.messages[body.messages.length - 1].content as string;
    const content = `answer #${chats} to: ${question}`;
    const base = { id: `chat-${chats}`, created: 1, model: body.model };
    if (!body.stream) {
      return Response.json({
        ...base,
        object: "chat.completion",
        choices: [{
          index: 0,
          message: { role: "assistant", content },
          finish_reason: "stop",
          logprobs: null,
        }],
        usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
      });
    }
    const chunk = (delta: unknown, finish: string | null) =>
      `data: ${
        JSON.stringify({
          ...base,
          object: "chat.completion.chunk",
          choices: [{ index: 0, delta, finish_reason: finish }],
        })
      }\n\n`;
    return new Response(
      chunk({ role: "assistant", content }, null) + chunk({}, "stop") + "data: [DONE]\n\n",
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    chatCalls: () => chats,
    embedCalls: () => embeds,
    close: () => server.shutdown(),
  };
}

const config = (up: Upstream, extra: Partial<ConfigFile> = {}): ConfigFile => ({
  retries: { max: 0 },
  providers: {
    up: {
      type: "openai",
      baseUrl: `${up.url}/v1`,
      timeouts: { firstTokenMs: 2_000, totalMs: 10_000 },
    },
  },
  plugins: [{ type: "semantic-cache", embedding: "up/embed-1", threshold: 0.9 }],
  ...extra,
} as ConfigFile);

async function ask(
  gw: RunningGateway,
  question: string,
  o: { headers?: Record<string, string>; stream?: boolean } = {},
) {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...o.headers },
    body: JSON.stringify({
      model: "up/gpt-x",
      messages: [{ role: "system", content: "be brief" }, { role: "user", content: question }],
      stream: o.stream,
    }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return {
    res,
    text,
    cache: res.headers.get("x-gateway-cache"),
    id: res.headers.get("x-request-id")!,
  };
}

const content = (text: string) => JSON.parse(text).choices[0].message.content as string;

Deno.test("a paraphrase is answered from the cache (no chat call); an unrelated question is not", async () => {
  const up = startUpstream();
  const gw = startTestGateway(config(up));
  const events: GatewayEvent[] = [];
  const unsubscribe = gw.bus.subscribe((e) => events.push(e));
  try {
    const first = await ask(gw, "What is the capital of France?");
    assert.equal(first.cache, "miss");
    assert.equal(up.chatCalls(), 1);

    const para = await ask(gw, "France: what's its capital?");
    assert.equal(para.cache, "hit");
    assert.equal(up.chatCalls(), 1, "no chat call for the paraphrase");
    assert.equal(content(para.text), content(first.text));
    assert.equal(para.res.headers.get("x-gateway-attempts"), "0");
    const sim = Number(para.res.headers.get("x-gateway-cache-similarity"));
    assert.ok(sim >= 0.9 && sim <= 1, String(sim));
    const hit = events.find((e) => e.type === "cache.hit" && e.requestId === para.id);
    assert.ok(hit && hit.type === "cache.hit");
    assert.equal(hit.similarity, sim);
    assert.equal(hit.provider, "up");

    const other = await ask(gw, "How do I bake sourdough bread?");
    assert.equal(other.cache, "miss");
    assert.equal(up.chatCalls(), 2);
    assert.match(content(other.text), /sourdough/);
    assert.ok(up.embedCalls() >= 3, "the questions were embedded upstream");
  } finally {
    unsubscribe();
    await gw.shutdown(1_000);
    await up.close();
  }
});

Deno.test("a stream request is answered as a stream from a hit", async () => {
  const up = startUpstream();
  const gw = startTestGateway(config(up));
  try {
    const first = await ask(gw, "What is the capital of France?");
    const s = await ask(gw, "capital of France please", { stream: true });
    assert.equal(s.cache, "hit");
    assert.match(s.res.headers.get("content-type") ?? "", /text\/event-stream/);
    assert.equal(up.chatCalls(), 1);
    const datas = s.text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
    assert.equal(datas[datas.length - 1], "[DONE]");
    const chunks = datas.slice(0, -1).map((d) => JSON.parse(d));
    const streamed = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    assert.equal(streamed, content(first.text));
    assert.equal(chunks.at(-1).choices[0].finish_reason, "stop");
  } finally {
    await gw.shutdown(1_000);
    await up.close();
  }
});

Deno.test("a streamed answer is stored once the stream ended well; a paraphrase then hits, JSON or stream", async () => {
  const up = startUpstream();
  const gw = startTestGateway(config(up));
  try {
    const first = await ask(gw, "What is the capital of France?", { stream: true });
    assert.equal(first.cache, "miss");
    assert.equal(up.chatCalls(), 1);
    const streamedText = (text: string) =>
      text.split("\n").filter((l) => l.startsWith("data: ") && l !== "data: [DONE]")
        .map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? "").join("");
    const answer = streamedText(first.text);
    assert.match(answer, /answer #1/);
    // Stored after the last chunk went out: a paraphrase finds it (bounded wait for the store).
    let json = await ask(gw, "France: what's its capital?");
    for (let i = 0; i < 20 && json.cache !== "hit"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      json = await ask(gw, "France: what's its capital?");
    }
    assert.equal(json.cache, "hit");
    assert.equal(content(json.text), answer, "the stream's whole answer, put together");
    const again = await ask(gw, "capital of France please", { stream: true });
    assert.equal(again.cache, "hit");
    assert.equal(streamedText(again.text), answer);
    assert.equal(up.chatCalls(), 1, "one chat call in all");
  } finally {
    await gw.shutdown(1_000);
    await up.close();
  }
});

Deno.test("two virtual keys never share answers", async () => {
  const up = startUpstream();
  const keyA = "sk-team-a-0123456789abcdef0123456789";
  const keyB = "sk-team-b-0123456789abcdef0123456789";
  const gw = startTestGateway(
    config(up, {
      virtualKeys: [
        { name: "team-a", key: "env:KEY_A", providers: [{ provider: "up" }] },
        { name: "team-b", key: "env:KEY_B", providers: [{ provider: "up" }] },
      ],
    } as Partial<ConfigFile>),
    { KEY_A: keyA, KEY_B: keyB },
  );
  const as = (k: string) => ({ headers: { authorization: `Bearer ${k}` } });
  try {
    assert.equal((await ask(gw, "What is the capital of France?", as(keyA))).cache, "miss");
    const b = await ask(gw, "What is the capital of France?", as(keyB));
    assert.equal(b.cache, "miss", "team-b does not get team-a's answer");
    assert.equal(up.chatCalls(), 2);
    assert.equal((await ask(gw, "France's capital?", as(keyA))).cache, "hit");
    assert.equal((await ask(gw, "France's capital?", as(keyB))).cache, "hit");
    assert.equal(up.chatCalls(), 2);
  } finally {
    await gw.shutdown(1_000);
    await up.close();
  }
});

Deno.test("an answer stored on one gateway is a hit on another on the same NATS", async () => {
  const nats = await startNatsServer();
  const up = startUpstream();
  const cfg = config(up, { nats: { url: nats.wsUrl } } as Partial<ConfigFile>);
  const one = startTestGateway(cfg);
  const two = startTestGateway(cfg);
  try {
    const first = await ask(one, "What is the capital of France?");
    assert.equal(first.cache, "miss");
    // The entry reaches the other replica's index through the bucket's watch.
    let second;
    await eventually(() => up.chatCalls() === 1, 2_000, "the first answer");
    for (let i = 0; i < 20; i++) {
      second = await ask(two, "France: what's its capital?");
      if (second.cache === "hit") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(second!.cache, "hit");
    assert.equal(content(second!.text), content(first.text));
    // Misses on `two` while the entry was on its way were answered upstream and stored too.
    const chats = up.chatCalls();
    assert.equal((await ask(one, "capital of France please")).cache, "hit");
    assert.equal(up.chatCalls(), chats);
  } finally {
    await one.shutdown(1_000);
    await two.shutdown(1_000);
    await up.close();
    await nats.stop();
  }
});
