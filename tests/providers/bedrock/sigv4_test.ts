// SigV4 against AWS's published Signature Version 4 test suite (docs.aws.amazon.com/general/
// latest/gr/signature-v4-test-suite.html; the same vectors ship with @smithy/signature-v4 as
// suite.fixture.ts), AWS's documented IAM ListUsers example, and the official AWS SDK's own
// signer on a real Bedrock Converse request.
import assert from "node:assert/strict";
import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import {
  amzDate,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  signingKey,
  signRequest,
  uriEncode,
} from "../../../src/providers/bedrock/sigv4.ts";

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const now = Date.UTC(2015, 7, 30, 12, 36, 0); // 20150830T123600Z
const base = "https://example.amazonaws.com";

interface Vector {
  name: string;
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  sessionToken?: string;
  signedHeaders: string;
  signature: string;
}

// Expected SignedHeaders/Signature are the suite's `.authz` files.
const VECTORS: Vector[] = [
  {
    name: "get-vanilla",
    method: "GET",
    url: `${base}/`,
    signedHeaders: "host;x-amz-date",
    signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
  },
  {
    name: "get-vanilla-query-order-key-case",
    method: "GET",
    url: `${base}/?Param2=value2&Param1=value1`,
    signedHeaders: "host;x-amz-date",
    signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
  },
  {
    name: "get-vanilla-empty-query-key",
    method: "GET",
    url: `${base}/?Param1=value1`,
    signedHeaders: "host;x-amz-date",
    signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
  },
  {
    name: "get-vanilla-query-unreserved",
    method: "GET",
    url: `${base}/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=` +
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    signedHeaders: "host;x-amz-date",
    signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
  },
  {
    name: "get-vanilla-utf8-query",
    method: "GET",
    url: `${base}/?ሴ=bar`,
    signedHeaders: "host;x-amz-date",
    signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
  },
  {
    name: "get-unreserved",
    method: "GET",
    url: `${base}/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz`,
    signedHeaders: "host;x-amz-date",
    signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
  },
  {
    name: "get-header-key-duplicate",
    method: "GET",
    url: `${base}/`,
    headers: { "My-Header1": "value2,value2,value1" },
    signedHeaders: "host;my-header1;x-amz-date",
    signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
  },
  {
    name: "get-header-value-order",
    method: "GET",
    url: `${base}/`,
    headers: { "My-Header1": "value4,value1,value3,value2" },
    signedHeaders: "host;my-header1;x-amz-date",
    signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
  },
  {
    name: "get-header-value-trim",
    method: "GET",
    url: `${base}/`,
    headers: { "My-Header1": " value1", "My-Header2": ' "a   b   c"' },
    signedHeaders: "host;my-header1;my-header2;x-amz-date",
    signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
  },
  {
    name: "post-vanilla",
    method: "POST",
    url: `${base}/`,
    signedHeaders: "host;x-amz-date",
    signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
  },
  {
    name: "post-header-key-case",
    method: "POST",
    url: `${base}/`,
    headers: { Host: "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z" },
    signedHeaders: "host;x-amz-date",
    signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
  },
  {
    name: "post-header-key-sort",
    method: "POST",
    url: `${base}/`,
    headers: { "My-Header1": "value1" },
    signedHeaders: "host;my-header1;x-amz-date",
    signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
  },
  {
    name: "post-header-value-case",
    method: "POST",
    url: `${base}/`,
    headers: { "My-Header1": "VALUE1" },
    signedHeaders: "host;my-header1;x-amz-date",
    signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
  },
  {
    name: "post-sts-header-before",
    method: "POST",
    url: `${base}/`,
    sessionToken:
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
    signedHeaders: "host;x-amz-date;x-amz-security-token",
    signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
  },
  {
    name: "post-vanilla-query",
    method: "POST",
    url: `${base}/?Param1=value1`,
    signedHeaders: "host;x-amz-date",
    signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
  },
  {
    // The suite's raw query is `@#$%^&+=/,?><\`";:\|][{}`; on the wire it is percent-encoded.
    name: "post-vanilla-query-nonunreserved",
    method: "POST",
    url: `${base}/?${uriEncode("@#$%^")}&${uriEncode("+")}=${uriEncode('/,?><`";:\\|][{}')}`,
    signedHeaders: "host;x-amz-date",
    signature: "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e",
  },
  {
    name: "post-x-www-form-urlencoded",
    method: "POST",
    url: `${base}/`,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: "Param1=value1",
    signedHeaders: "content-type;host;x-amz-date",
    signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
  },
  {
    name: "post-x-www-form-urlencoded-parameters",
    method: "POST",
    url: `${base}/`,
    headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf8" },
    body: "Param1=value1",
    signedHeaders: "content-type;host;x-amz-date",
    signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
  },
  // Not here: get-utf8 (a raw UTF-8 path; fetch always sends it percent-encoded, and an encoded
  // wire path is signed encoded once more), the normalize-path group (URL parsing already
  // resolves dot segments) and post-sts-header-after (a token added after signing).
];

for (const v of VECTORS) {
  Deno.test(`sigv4: AWS test suite ${v.name}`, async () => {
    const headers = await signRequest({
      method: v.method,
      url: v.url,
      headers: v.headers,
      body: v.body,
      region: "us-east-1",
      service: "service",
      credentials: { ...credentials, sessionToken: v.sessionToken },
      now,
    });
    assert.equal(
      headers.authorization,
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ` +
        `SignedHeaders=${v.signedHeaders}, Signature=${v.signature}`,
    );
    assert.equal(headers["x-amz-date"], "20150830T123600Z");
    if (v.sessionToken) assert.equal(headers["x-amz-security-token"], v.sessionToken);
    else assert.equal(headers["x-amz-security-token"], undefined);
  });
}

Deno.test("sigv4: AWS's IAM ListUsers example (canonical request, signing key, signature)", async () => {
  // docs.aws.amazon.com/general/latest/gr/sigv4-create-canonical-request.html,
  // …/sigv4-calculate-signature.html: the GET ListUsers request of 20150830T123600Z.
  const input = {
    method: "GET",
    url: "https://iam.amazonaws.com/?Version=2010-05-08&Action=ListUsers",
    headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
    region: "us-east-1",
    service: "iam",
    credentials,
    now,
  };
  const c = await canonicalRequest(input);
  assert.equal(
    c.canonical,
    [
      "GET",
      "/",
      "Action=ListUsers&Version=2010-05-08",
      "content-type:application/x-www-form-urlencoded; charset=utf-8\n" +
      "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n",
      "content-type;host;x-amz-date",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ].join("\n"),
  );
  assert.equal(
    c.stringToSign,
    "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n" +
      "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
  );
  const key = await signingKey(credentials.secretAccessKey, "20150830", "us-east-1", "iam");
  assert.equal(
    Array.from(key, (b) => b.toString(16).padStart(2, "0")).join(""),
    "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
  );
  const signed = await signRequest(input);
  assert.match(
    signed.authorization,
    /Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7$/,
  );
});

Deno.test("sigv4: a Bedrock model id's ':' is sent as %3A and signed as %253A", () => {
  assert.equal(
    canonicalUri("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"),
    "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse",
  );
  assert.equal(canonicalUri(""), "/");
  assert.equal(canonicalUri("/a//b/"), "/a/b/");
  assert.equal(canonicalQuery("?b=2&a=%20x&a=1"), "a=%20x&a=1&b=2");
  assert.equal(uriEncode("a b*(!)'~"), "a%20b%2A%28%21%29%27~");
  assert.equal(amzDate(now), "20150830T123600Z");
});

Deno.test("sigv4: x-amz-content-sha256 is sent and signed on request", async () => {
  const headers = await signRequest({
    method: "POST",
    url: `${base}/`,
    body: "{}",
    region: "us-east-1",
    service: "bedrock",
    credentials,
    now,
    contentSha256: true,
  });
  assert.equal(
    headers["x-amz-content-sha256"],
    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
  );
  assert.match(headers.authorization, /SignedHeaders=host;x-amz-content-sha256;x-amz-date,/);
});

Deno.test("sigv4: the official AWS SDK signs a Bedrock Converse request exactly as we do", async () => {
  // The SDK signs, then hands the request to its handler: ours captures it instead of sending.
  let captured:
    | {
      method: string;
      hostname: string;
      port?: number;
      path: string;
      headers: Record<string, string>;
      body: string;
    }
    | undefined;
  const client = new BedrockRuntimeClient({
    region: "eu-west-3",
    endpoint: "https://bedrock-runtime.eu-west-3.amazonaws.com",
    credentials: { ...credentials, sessionToken: "session-token-example" },
    maxAttempts: 1,
    requestHandler: {
      metadata: { handlerProtocol: "http/1.1" },
      handle(request: NonNullable<typeof captured>) {
        captured = request;
        return Promise.reject(new Error("captured"));
      },
    } as never,
  });
  const modelId = "anthropic.claude-3-haiku-20240307-v1:0";
  await assert.rejects(
    client.send(
      new ConverseCommand({
        modelId,
        messages: [{ role: "user", content: [{ text: "Hello, Bedrock!" }] }],
        inferenceConfig: { maxTokens: 64 },
      }),
    ),
    /captured/,
  );
  client.destroy();
  assert.ok(captured, "the SDK produced a signed request");
  const sent = captured;
  assert.equal(sent.path, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
  const { authorization, ...rest } = sent.headers;
  const date = rest["x-amz-date"];
  const at = Date.UTC(
    +date.slice(0, 4),
    +date.slice(4, 6) - 1,
    +date.slice(6, 8),
    +date.slice(9, 11),
    +date.slice(11, 13),
    +date.slice(13, 15),
  );
  const ours = await signRequest({
    method: sent.method,
    url: `https://${sent.hostname}${sent.path}`,
    // user-agent is never signed by the SDK; everything else it sent, we sign as well.
    headers: Object.fromEntries(Object.entries(rest).filter(([k]) => k !== "user-agent")),
    body: sent.body,
    region: "eu-west-3",
    service: "bedrock",
    credentials: { ...credentials, sessionToken: "session-token-example" },
    now: at,
    contentSha256: true,
  });
  assert.match(authorization, /SignedHeaders=[^,]*x-amz-security-token/);
  assert.equal(ours.authorization, authorization);
});
