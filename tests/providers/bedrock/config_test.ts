// A `type: "bedrock"` provider from gateway.json: regional endpoint from `region`, credentials
// resolved from env references, configuration mistakes named at start-up; and the whole path
// from an OpenAI client through the gateway to a Bedrock stand-in that checks every SigV4
// signature the way AWS would (recomputed from the headers the request says it signed).
import assert from "node:assert/strict";
import OpenAI from "openai";
import { buildConfig, ConfigError } from "../../../src/config.ts";
import { eventFrame } from "../../../src/providers/bedrock/eventstream.ts";
import { signRequest } from "../../../src/providers/bedrock/sigv4.ts";
import { startTestGateway } from "../../_support/gateway.ts";

const ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: "AKIDGATEWAY",
  AWS_SECRET_ACCESS_KEY: "gateway/secret+key",
  AWS_SESSION_TOKEN: "session-token",
};
const env = (n: string) => ENV[n];
const awsKeys = {
  accessKeyId: "env:AWS_ACCESS_KEY_ID",
  secretAccessKey: "env:AWS_SECRET_ACCESS_KEY",
  sessionToken: "env:AWS_SESSION_TOKEN",
};

Deno.test("bedrock config: region gives the endpoint; credentials come from the environment", () => {
  const c = buildConfig(
    { providers: { aws: { type: "bedrock", region: "eu-west-1", ...awsKeys } } },
    env,
    "test",
  );
  const p = c.providers.aws;
  assert.equal(p.baseUrl, "https://bedrock-runtime.eu-west-1.amazonaws.com");
  assert.equal(p.region, "eu-west-1");
  assert.deepEqual(p.credentials, {
    accessKeyId: "AKIDGATEWAY",
    secretAccessKey: "gateway/secret+key",
    sessionToken: "session-token",
  });
  assert.deepEqual(p.keys, []);
  assert.ok(!JSON.stringify(c).includes("env:AWS"), "references are resolved, not kept");
});

Deno.test("bedrock config: a Bedrock API key is an ordinary key; baseUrl may point elsewhere", () => {
  const c = buildConfig(
    {
      providers: {
        aws: {
          type: "bedrock",
          region: "us-east-1",
          baseUrl: "https://vpce-123.bedrock-runtime.us-east-1.vpce.amazonaws.com/",
          keys: [{ value: "env:AWS_BEARER_TOKEN_BEDROCK" }],
        },
      },
    },
    (n) => (n === "AWS_BEARER_TOKEN_BEDROCK" ? "ABSK-example" : undefined),
    "test",
  );
  assert.equal(
    c.providers.aws.baseUrl,
    "https://vpce-123.bedrock-runtime.us-east-1.vpce.amazonaws.com",
  );
  assert.equal(c.providers.aws.keys[0].secret, "ABSK-example");
  assert.equal(c.providers.aws.credentials, undefined);
});

Deno.test("bedrock config: mistakes stop start-up naming the field", () => {
  const rows: [unknown, Record<string, string>, RegExp][] = [
    [{ type: "bedrock" }, ENV, /providers\.aws\.baseUrl: required for type "bedrock"/],
    [
      { type: "bedrock", region: "us-east-1", accessKeyId: "env:AWS_ACCESS_KEY_ID" },
      ENV,
      /providers\.aws: accessKeyId and secretAccessKey go together/,
    ],
    [
      { type: "bedrock", region: "us-east-1", ...awsKeys },
      { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y" },
      /providers\.aws\.sessionToken: environment variable AWS_SESSION_TOKEN is not set/,
    ],
    [
      { type: "bedrock", region: "us-east-1", accessKeyId: "AKIAINLINE", secretAccessKey: "s" },
      ENV,
      /providers\.aws\.accessKeyId: must reference an environment variable/,
    ],
    [{ type: "bedrock", region: "US East 1" }, ENV, /providers\.aws\.region/],
  ];
  for (const [provider, vars, why] of rows) {
    assert.throws(
      () => buildConfig({ providers: { aws: provider } }, (n) => vars[n], "test"),
      (e: Error) => e instanceof ConfigError && why.test(e.message),
      String(why),
    );
  }
});

/** A Bedrock stand-in: checks the SigV4 signature of each call, then answers Converse(Stream). */
function fakeBedrock() {
  const seen: { path: string; authorization: string; verified: boolean; token: string | null }[] =
    [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const body = await req.text();
    const authorization = req.headers.get("authorization") ?? "";
    const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1].split(";") ?? [];
    const date = req.headers.get("x-amz-date") ?? "";
    const now = Date.UTC(
      +date.slice(0, 4),
      +date.slice(4, 6) - 1,
      +date.slice(6, 8),
      +date.slice(9, 11),
      +date.slice(11, 13),
      +date.slice(13, 15),
    );
    const headers = Object.fromEntries(
      signedNames.filter((n) => n !== "host").map((n) => [n, req.headers.get(n) ?? ""]),
    );
    const expected = await signRequest({
      method: req.method,
      url: req.url, // the path exactly as it arrived, %3A and all
      headers,
      body,
      region: "us-west-2",
      service: "bedrock",
      credentials: {
        accessKeyId: ENV.AWS_ACCESS_KEY_ID,
        secretAccessKey: ENV.AWS_SECRET_ACCESS_KEY,
        sessionToken: req.headers.get("x-amz-security-token") ?? undefined,
      },
      now,
      contentSha256: signedNames.includes("x-amz-content-sha256"),
    });
    const verified = expected.authorization === authorization;
    seen.push({
      path: url.pathname,
      authorization,
      verified,
      token: req.headers.get("x-amz-security-token"),
    });
    if (!verified) {
      return Response.json(
        {
          message: "The request signature we calculated does not match the signature you provided.",
        },
        { status: 403, headers: { "x-amzn-errortype": "InvalidSignatureException" } },
      );
    }
    if (url.pathname.endsWith("/converse")) {
      return Response.json({
        output: { message: { role: "assistant", content: [{ text: "Hi from Bedrock." }] } },
        stopReason: "end_turn",
        usage: { inputTokens: 5, outputTokens: 4, totalTokens: 9 },
        metrics: { latencyMs: 10 },
      });
    }
    const frames = [
      eventFrame("messageStart", { role: "assistant" }),
      eventFrame("contentBlockDelta", { delta: { text: "Hi from " }, contentBlockIndex: 0 }),
      eventFrame("contentBlockDelta", { delta: { text: "Bedrock." }, contentBlockIndex: 0 }),
      eventFrame("contentBlockStop", { contentBlockIndex: 0 }),
      eventFrame("messageStop", { stopReason: "end_turn" }),
      eventFrame("metadata", {
        usage: { inputTokens: 5, outputTokens: 4, totalTokens: 9 },
        metrics: { latencyMs: 10 },
      }),
    ];
    return new Response(ReadableStream.from(frames), {
      headers: { "content-type": "application/vnd.amazon.eventstream" },
    });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

Deno.test("a configured bedrock provider answers OpenAI clients, every call signed", async () => {
  const aws = fakeBedrock();
  const gw = startTestGateway({
    providers: {
      aws: {
        type: "bedrock",
        region: "us-west-2",
        baseUrl: aws.url,
        ...awsKeys,
        timeouts: { firstTokenMs: 2_000, totalMs: 10_000 },
      },
    },
  }, ENV);
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const model = "aws/anthropic.claude-3-haiku-20240307-v1:0";
    const r = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "hello" }],
    });
    assert.equal(r.choices[0].message.content, "Hi from Bedrock.");
    assert.equal(r.usage?.total_tokens, 9);

    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "hello" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? "";
      usage = c.usage ?? usage;
    }
    assert.equal(text, "Hi from Bedrock.");
    assert.equal(usage?.prompt_tokens, 5);

    assert.deepEqual(aws.seen.map((s) => s.path), [
      "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
      "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
    ]);
    for (const s of aws.seen) {
      assert.ok(s.verified, `signature verified for ${s.path}`);
      assert.match(
        s.authorization,
        /^AWS4-HMAC-SHA256 Credential=AKIDGATEWAY\/\d{8}\/us-west-2\/bedrock\/aws4_request, /,
      );
      assert.equal(s.token, "session-token");
    }
  } finally {
    await gw.shutdown(1_000);
    await aws.close();
  }
});
