// Header and metadata forwarding. `forwardHeaders` copies the named client headers onto every
// attempt's upstream request (static provider headers from config, and the adapter's own headers
// such as auth, win over them). `metadataHeader` (default `x-gateway-metadata`) carries a JSON
// object of labels that are attached to the request's `request.started`, `request.completed` and
// `request.failed` events; a malformed one is refused with a 400 that says what is wrong.
import { invalidRequest, type Result } from "../lib/errors.ts";
import type { Plugin, Stop } from "./plugin.ts";

/** Headers that carry credentials or describe the body/connection: never forwarded. */
export const UNFORWARDABLE: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "api-key",
  "x-goog-api-key",
  "cookie",
  "host",
  "content-length",
  "content-type",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "accept-encoding",
]);

export const METADATA_LIMITS = { bytes: 4_096, keys: 32, valueChars: 256 };
const METADATA_KEY = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface HeadersOptions {
  name?: string;
  forwardHeaders?: readonly string[];
  /** Header holding the metadata JSON; `false` turns metadata off. */
  metadataHeader?: string | false;
}

/**
 * Parses the metadata header's value into string labels, or refuses it: a 400 `invalid_metadata`
 * saying what is wrong with `header`.
 */
export function parseMetadata(
  text: string,
  header = "x-gateway-metadata",
): Result<Record<string, string>> {
  const refuse = (why: string) =>
    invalidRequest(`The ${header} header ${why}.`, null, "invalid_metadata");
  if (new TextEncoder().encode(text).length > METADATA_LIMITS.bytes) {
    return refuse(`is over ${METADATA_LIMITS.bytes} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse("is not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return refuse("must be a JSON object");
  }
  const entries = Object.entries(value);
  if (entries.length > METADATA_LIMITS.keys) {
    return refuse(`has more than ${METADATA_LIMITS.keys} keys`);
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!METADATA_KEY.test(k)) {
      return refuse(`key "${k.slice(0, 64)}" is not [A-Za-z0-9_.:-]{1,64}`);
    }
    if (!["string", "number", "boolean"].includes(typeof v)) {
      return refuse(`"${k}" must be a string, number or boolean`);
    }
    const s = String(v);
    if (s.length > METADATA_LIMITS.valueChars) {
      return refuse(`"${k}" is over ${METADATA_LIMITS.valueChars} characters`);
    }
    metadata[k] = s;
  }
  return { ok: true, value: metadata };
}

export function headersPlugin(opts: HeadersOptions): Plugin {
  const forward = (opts.forwardHeaders ?? []).map((h) => h.toLowerCase());
  for (const h of forward) {
    if (UNFORWARDABLE.has(h)) throw new Error(`header "${h}" is never forwarded upstream`);
  }
  const metaHeader = opts.metadataHeader === false
    ? undefined
    : (opts.metadataHeader ?? "x-gateway-metadata").toLowerCase();
  return {
    name: opts.name ?? "headers",
    begin(ctx): Stop | void {
      const raw = metaHeader && ctx.headers.get(metaHeader);
      if (!raw) return;
      const parsed = parseMetadata(raw, metaHeader);
      if (!parsed.ok) {
        return { stop: { reason: parsed.message, status: parsed.status, code: parsed.code } };
      }
      Object.assign(ctx.metadata, parsed.value);
    },
    pre(ctx) {
      for (const h of forward) {
        const v = ctx.headers.get(h);
        if (v !== null) ctx.upstreamHeaders[h] = v;
      }
    },
  };
}
