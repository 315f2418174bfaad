import assert from "node:assert/strict";
import {
  parseAuditArgs,
  parseDuration,
  parseEventsArgs,
  parseSince,
  UsageError,
} from "../../src/events/cli_args.ts";

const NOW = Date.UTC(2025, 0, 2, 12, 0, 0);

Deno.test("durations: every unit, combined parts and decimals", () => {
  const table: [string, number][] = [
    ["500ms", 500],
    ["90s", 90_000],
    ["15m", 900_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
  ];
  for (const [text, want] of table) assert.equal(parseDuration(text), want, text);
});

Deno.test("durations: a bare number, a unknown unit or garbage is refused with an example", () => {
  for (const bad of ["15", "15x", "m", "", "15m junk", "-5m"]) {
    assert.throws(() => parseDuration(bad), (e: Error) => {
      assert.ok(e instanceof UsageError, bad);
      return true;
    });
  }
  assert.throws(() => parseDuration("15"), /use a number with a unit: 90s, 15m/);
});

Deno.test("--since: a duration counts back from now, an ISO time is taken as is", () => {
  assert.equal(parseSince("15m", NOW), NOW - 15 * 60_000);
  assert.equal(parseSince("2025-01-02T11:00:00Z", NOW), Date.UTC(2025, 0, 2, 11));
  assert.throws(() => parseSince("2025-01-03T00:00:00Z", NOW), /in the future/);
  assert.throws(() => parseSince("2025-13-45T99:00:00Z", NOW), /not a valid ISO date-time/);
});

Deno.test("events args: defaults are a live tail of everything, readable", () => {
  assert.deepEqual(parseEventsArgs([], NOW), {
    help: false,
    subject: "gateway.>",
    since: undefined,
    json: false,
    provider: undefined,
    stream: undefined,
  });
});

Deno.test("events args: flags in any order, both --flag value and --flag=value, with a subject", () => {
  const want = {
    help: false,
    subject: "gateway.fallback.>",
    since: NOW - 900_000,
    json: true,
    provider: "openai",
    stream: "EVENTS_2",
  };
  assert.deepEqual(
    parseEventsArgs(
      [
        "--since",
        "15m",
        "gateway.fallback.>",
        "--json",
        "--provider=openai",
        "--stream",
        "EVENTS_2",
      ],
      NOW,
    ),
    want,
  );
  assert.deepEqual(
    parseEventsArgs(
      ["gateway.fallback.>", "--provider", "openai", "--since=15m", "--stream=EVENTS_2", "--json"],
      NOW,
    ),
    want,
  );
});

Deno.test("events args: mistakes are usage errors that say what is wrong", () => {
  const table: [string[], RegExp][] = [
    [["--bogus"], /unknown option --bogus/],
    [["--since"], /--since needs a value/],
    [["--since", "--json"], /--since needs a value/],
    [["--since", "soon"], /not a duration/],
    [["--json=yes"], /--json takes no value/],
    [["--provider", "OpenAI"], /provider ids are lowercase/],
    [["a.>", "b.>"], /one subject filter at most/],
    [["--stream", "no spaces"], /stream names are/],
  ];
  for (const [args, message] of table) {
    assert.throws(() => parseEventsArgs(args, NOW), message, args.join(" "));
    assert.throws(() => parseEventsArgs(args, NOW), UsageError);
  }
});

Deno.test("events args: -h and --help ask for the usage", () => {
  assert.equal(parseEventsArgs(["-h"], NOW).help, true);
  assert.equal(parseEventsArgs(["--help"], NOW).help, true);
});

Deno.test("audit args: a request id, looking back 24 h unless told otherwise", () => {
  assert.deepEqual(parseAuditArgs(["01a2136e68b500011c4e2f9a0b"], NOW), {
    help: false,
    requestId: "01a2136e68b500011c4e2f9a0b",
    since: NOW - 24 * 3_600_000,
    json: false,
    stream: undefined,
  });
  const a = parseAuditArgs(["--since", "2h", "my-req.1", "--json", "--stream=S"], NOW);
  assert.equal(a.since, NOW - 7_200_000);
  assert.equal(a.requestId, "my-req.1");
  assert.equal(a.json, true);
  assert.equal(a.stream, "S");
});

Deno.test("audit args: no id, two ids or an id the gateway would never accept are refused", () => {
  assert.throws(() => parseAuditArgs([], NOW), /which request\? pass its id/);
  assert.throws(() => parseAuditArgs(["a", "b"], NOW), /one request id at a time/);
  assert.throws(() => parseAuditArgs(["has space"], NOW), /not a request id/);
  assert.throws(() => parseAuditArgs(["id", "--provider", "x"], NOW), /unknown option --provider/);
  assert.equal(parseAuditArgs(["--help"], NOW).help, true);
});
