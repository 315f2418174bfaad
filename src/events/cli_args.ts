// Command-line parsing for `deno task events` and `deno task audit`. Pure (time comes in as
// `now`), so every accepted and rejected spelling is pinned by tests.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m`, `90s`, `2h`, `1d`, `1h30m`, `500ms` → milliseconds. A bare number is refused. */
export function parseDuration(text: string): number {
  const s = text.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    part.lastIndex = at;
    const m = part.exec(s);
    if (!m) {
      throw new UsageError(
        `"${text}" is not a duration; use a number with a unit: 90s, 15m, 2h, 1d, 1h30m`,
      );
    }
    total += Number(m[1]) * UNITS[m[2]];
    at = part.lastIndex;
  }
  if (s.length === 0) throw new UsageError("empty duration");
  return total;
}

/** A start time: a duration back from `now` (`15m`) or an ISO 8601 date-time. */
export function parseSince(text: string, now: number): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const at = Date.parse(text);
    if (!Number.isFinite(at)) throw new UsageError(`"${text}" is not a valid ISO date-time`);
    if (at > now) throw new UsageError(`--since ${text} is in the future`);
    return at;
  }
  return now - parseDuration(text);
}

const PROVIDER_ID = /^[a-z0-9_-]+$/;
const STREAM_NAME = /^[A-Za-z0-9_-]+$/;

interface Raw {
  flags: Map<string, string | true>;
  positional: string[];
}

/** Splits `--flag value`, `--flag=value` and positionals; `takesValue` names flags with values. */
function split(args: string[], takesValue: Set<string>, known: Set<string>): Raw {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (!known.has(name)) throw new UsageError(`unknown option ${name}`);
    if (!takesValue.has(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined || value === "" || (eq < 0 && value.startsWith("--"))) {
      throw new UsageError(`${name} needs a value`);
    }
    flags.set(name, value);
  }
  return { flags, positional };
}

const str = (raw: Raw, name: string) => {
  const v = raw.flags.get(name);
  return typeof v === "string" ? v : undefined;
};

function stream(raw: Raw): string | undefined {
  const s = str(raw, "--stream");
  if (s !== undefined && !STREAM_NAME.test(s)) {
    throw new UsageError(`--stream ${s}: stream names are [A-Za-z0-9_-]`);
  }
  return s;
}

export interface EventsArgs {
  help: boolean;
  /** NATS subject filter (default `gateway.>`). */
  subject: string;
  /** Replay from this time (ms since epoch) before tailing live; undefined = live only. */
  since?: number;
  /** One CloudEvent JSON per line instead of the readable line. */
  json: boolean;
  /** Only events about this provider (including fallbacks away from it). */
  provider?: string;
  /** JetStream stream for --since; undefined = the caller's default. */
  stream?: string;
}

/** `deno task events [--since 15m] [--json] [--provider id] [--stream name] [subject]`. */
export function parseEventsArgs(args: string[], now: number): EventsArgs {
  const raw = split(
    args,
    new Set(["--since", "--provider", "--stream"]),
    new Set(["--since", "--provider", "--stream", "--json", "-h", "--help"]),
  );
  const help = raw.flags.has("-h") || raw.flags.has("--help");
  if (raw.positional.length > 1) {
    throw new UsageError(
      `one subject filter at most, got ${raw.positional.map((p) => JSON.stringify(p)).join(" ")}`,
    );
  }
  const subject = raw.positional[0] ?? "gateway.>";
  if (/\s/.test(subject) || subject === "") {
    throw new UsageError(`"${subject}" is not a NATS subject (no spaces; e.g. gateway.fallback.>)`);
  }
  const provider = str(raw, "--provider");
  if (provider !== undefined && !PROVIDER_ID.test(provider)) {
    throw new UsageError(`--provider ${provider}: provider ids are lowercase [a-z0-9_-]`);
  }
  const since = str(raw, "--since");
  return {
    help,
    subject,
    since: since === undefined ? undefined : parseSince(since, now),
    json: raw.flags.has("--json"),
    provider,
    stream: stream(raw),
  };
}

export interface AuditArgs {
  help: boolean;
  requestId: string;
  /** Look back to this time (ms since epoch); default 24 h before `now`. */
  since: number;
  /** Print the request's events as CloudEvent JSON lines instead of the story. */
  json: boolean;
  stream?: string;
}

export const AUDIT_DEFAULT_LOOKBACK = "24h";

/** `deno task audit [--since 24h] [--json] [--stream name] <request-id>`. */
export function parseAuditArgs(args: string[], now: number): AuditArgs {
  const raw = split(
    args,
    new Set(["--since", "--stream"]),
    new Set(["--since", "--stream", "--json", "-h", "--help"]),
  );
  const help = raw.flags.has("-h") || raw.flags.has("--help");
  if (help) return { help, requestId: "", since: now, json: false };
  if (raw.positional.length !== 1) {
    throw new UsageError(
      raw.positional.length === 0
        ? "which request? pass its id (the x-request-id answer header)"
        : `one request id at a time, got ${raw.positional.length}`,
    );
  }
  const requestId = raw.positional[0];
  // The shape the gateway accepts in x-request-id (src/http/pipeline.ts).
  if (!/^[\w.:-]{1,128}$/.test(requestId)) {
    throw new UsageError(`"${requestId}" is not a request id ([A-Za-z0-9_.:-], up to 128)`);
  }
  return {
    help,
    requestId,
    since: parseSince(str(raw, "--since") ?? AUDIT_DEFAULT_LOOKBACK, now),
    json: raw.flags.has("--json"),
    stream: stream(raw),
  };
}
