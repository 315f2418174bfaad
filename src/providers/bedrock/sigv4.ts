// AWS Signature Version 4 (header-based) on Web Crypto. Pure: the time arrives as `now`.
//
// Follows AWS's "Create a signed AWS API request" / "Signature Version 4 signing process"
// (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html, formerly
// docs.aws.amazon.com/general/latest/gr/sigv4-create-canonical-request.html):
//
//   CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n
//                      SignedHeaders \n HexEncode(SHA256(payload))
//   StringToSign     = "AWS4-HMAC-SHA256" \n amzDate \n date/region/service/aws4_request \n
//                      HexEncode(SHA256(CanonicalRequest))
//   kSigning         = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
//   Signature        = HexEncode(HMAC(kSigning, StringToSign))
//
// Canonical URI: every service but S3 URI-encodes each path segment of the request path *as it
// goes on the wire* once more ("each path segment must be URI-encoded twice, except for Amazon
// S3"). Bedrock model ids such as `anthropic.claude-3-haiku-20240307-v1:0` are sent as
// `...v1%3A0` and signed as `...v1%253A0` — the same thing @smithy/signature-v4 does
// (SignatureV4Base.getCanonicalPath, uriEscapePath = true), checked against the official SDK in
// tests/providers/bedrock/sigv4_test.ts.

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignRequestInput {
  method: string;
  /** The URL exactly as it will be fetched (path and query already percent-encoded). */
  url: string;
  /** Headers to send and sign. `host` is taken from `url` unless given here. */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  region: string;
  /** Signing name, e.g. "bedrock". */
  service: string;
  credentials: AwsCredentials;
  /** Signing time, epoch milliseconds. */
  now: number;
  /** Also send and sign `x-amz-content-sha256` (the AWS SDKs do; AWS's test suite does not). */
  contentSha256?: boolean;
}

export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (const b of view) out += HEX[b];
  return out;
}

const bytesOf = (data: string | Uint8Array): Uint8Array<ArrayBuffer> =>
  typeof data === "string" ? encoder.encode(data) : new Uint8Array(data);

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", bytesOf(data)));
}

async function hmac(key: string | Uint8Array, data: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    bytesOf(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(data)));
}

/** "20150830T123600Z" from epoch ms. */
export function amzDate(now: number): string {
  return new Date(now).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * URI-encodes per AWS: every byte except the unreserved A-Z a-z 0-9 - _ . ~ becomes %XX with
 * upper-case hex (so also "/" , "+", "*", "!", "'", "(" and ")", which encodeURIComponent keeps).
 */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Each segment of the wire path encoded once more; empty segments (`//`) removed. */
export function canonicalUri(pathname: string): string {
  if (pathname === "" || pathname === "/") return "/";
  const segments = pathname.split("/").filter((s) => s !== "").map(uriEncode);
  const trailing = pathname.endsWith("/") && segments.length > 0 ? "/" : "";
  return `/${segments.join("/")}${trailing}`;
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a stray "%" stays as it is and is encoded as %25
  }
}

/** Query parameters decoded, re-encoded strictly, sorted by name then value. */
export function canonicalQuery(search: string): string {
  const raw = search.startsWith("?") ? search.slice(1) : search;
  if (raw === "") return "";
  const pairs = raw.split("&").filter((p) => p !== "").map((p) => {
    const eq = p.indexOf("=");
    const name = eq < 0 ? p : p.slice(0, eq);
    const value = eq < 0 ? "" : p.slice(eq + 1);
    return [uriEncode(decodeComponent(name)), uriEncode(decodeComponent(value))] as const;
  });
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join("&");
}

/** Header values trimmed with inner runs of spaces collapsed; same-name headers joined by ",". */
function canonicalHeaders(headers: Record<string, string>): { block: string; signed: string } {
  const byName = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase().trim();
    const list = byName.get(key) ?? [];
    list.push(value.trim().replace(/\s+/g, " "));
    byName.set(key, list);
  }
  const names = [...byName.keys()].sort();
  return {
    block: names.map((n) => `${n}:${byName.get(n)!.join(",")}\n`).join(""),
    signed: names.join(";"),
  };
}

/** The signing key for one day, region and service. */
export async function signingKey(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Promise<Uint8Array> {
  const kDate = await hmac(`AWS4${secretAccessKey}`, date);
  const kRegion = await hmac(kDate, region);
  const kService = await hmac(kRegion, service);
  return hmac(kService, "aws4_request");
}

/** Canonical request and string to sign, exposed for tests and debugging. */
export async function canonicalRequest(input: SignRequestInput): Promise<{
  canonical: string;
  stringToSign: string;
  signedHeaders: string;
  scope: string;
  headers: Record<string, string>;
}> {
  const url = new URL(input.url);
  const date = amzDate(input.now);
  const payloadHash = await sha256Hex(input.body ?? "");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers ?? {})) {
    const lower = k.toLowerCase();
    // Headers the signer owns are replaced, not duplicated.
    if (lower === "authorization" || lower === "x-amz-date") continue;
    if (lower === "x-amz-security-token" || lower === "x-amz-content-sha256") continue;
    headers[k] = v;
  }
  headers["x-amz-date"] = date;
  if (input.contentSha256) headers["x-amz-content-sha256"] = payloadHash;
  if (input.credentials.sessionToken) {
    headers["x-amz-security-token"] = input.credentials.sessionToken;
  }
  const toSign = Object.keys(headers).some((k) => k.toLowerCase() === "host")
    ? headers
    : { ...headers, host: url.host };
  const { block, signed } = canonicalHeaders(toSign);
  const canonical = [
    input.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.search),
    block,
    signed,
    payloadHash,
  ].join("\n");
  const scope = `${date.slice(0, 8)}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, date, scope, await sha256Hex(canonical)].join("\n");
  return { canonical, stringToSign, signedHeaders: signed, scope, headers };
}

/**
 * Signs a request. Returns every header to send: the ones given, plus `x-amz-date`,
 * `x-amz-content-sha256` (when asked), `x-amz-security-token` (with a session token) and
 * `authorization`. `host` is signed but not returned (fetch sets it from the URL).
 */
export async function signRequest(input: SignRequestInput): Promise<Record<string, string>> {
  const { stringToSign, signedHeaders, scope, headers } = await canonicalRequest(input);
  const key = await signingKey(
    input.credentials.secretAccessKey,
    scope.slice(0, 8),
    input.region,
    input.service,
  );
  const signature = hex(await hmac(key, stringToSign));
  return {
    ...headers,
    authorization: `${SIGV4_ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
