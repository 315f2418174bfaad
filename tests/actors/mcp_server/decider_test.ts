// The MCP server decider, pure: commands with injected times in, mcp.* events out, folded with
// evolve. Each case is a script of steps; a step names the events it must decide (and may check
// fields of them).
import assert from "node:assert/strict";
import {
  COUNTED,
  createMcpServerDecider,
  type McpOutcome,
  type McpServerCommand,
  type McpServerState,
} from "../../../actors/mcp_server/mod.ts";
import type { McpEvent } from "../../../src/events/catalogue.ts";

const S = "files";
const cfg = {
  failureRateThreshold: 0.5,
  minimumRequests: 3,
  windowMs: 30_000,
  openMs: 10_000,
  maxOpenMs: 60_000,
  halfOpenProbes: 1,
  probeLeaseMs: 35_000,
};
const d = createMcpServerDecider(S, cfg);

const ok: McpOutcome = { ok: true, latencyMs: 5 };
const down: McpOutcome = { ok: false, latencyMs: 7, errorType: "unreachable", message: "refused" };
const badArgs: McpOutcome = {
  ok: false,
  latencyMs: 1,
  errorType: "invalid_arguments",
  message: "bad",
};

const call = (now: number, callId: string): McpServerCommand => ({
  type: "call",
  now,
  callId,
  tool: "read",
});
const settle = (now: number, callId: string, outcome: McpOutcome, probe = false) =>
  ({ type: "settle", now, callId, tool: "read", probe, outcome, rand: 0.5 }) as McpServerCommand;
const ping = (now: number, callId: string, outcome: McpOutcome): McpServerCommand => ({
  type: "ping",
  now,
  callId,
  outcome,
  rand: 0.5,
});

interface Step {
  cmd: McpServerCommand;
  types: McpEvent["type"][];
  check?: (events: McpEvent[]) => void;
}

function run(steps: Step[], from: McpServerState = d.initialState): McpServerState {
  let s = from;
  steps.forEach(({ cmd, types, check }, i) => {
    const events = d.decide(s, cmd);
    assert.deepEqual(events.map((e) => e.type), types, `step ${i} (${cmd.type})`);
    check?.(events);
    s = events.reduce(d.evolve, s);
  });
  return s;
}

/** Three counted failures at t=1..3 open the breaker until 3 + 10_000. */
const opening: Step[] = [1, 2, 3].flatMap((t) =>
  [
    { cmd: call(t, `c${t}`), types: ["mcp.tool_called"] },
    {
      cmd: settle(t, `c${t}`, down),
      types: t < 3 ? ["mcp.tool_failed"] : ["mcp.tool_failed", "mcp.breaker_opened"],
    },
  ] as Step[]
);
const OPEN_UNTIL = 3 + cfg.openMs;

const cases: { name: string; steps: Step[] }[] = [
  {
    name: "closed: a call goes through, not as a probe, and keeps its request id",
    steps: [{
      cmd: { ...call(1, "c1"), requestId: "req-1" } as McpServerCommand,
      types: ["mcp.tool_called"],
      check: ([e]) =>
        assert.deepEqual(e, {
          type: "mcp.tool_called",
          at: 1,
          server: S,
          tool: "read",
          callId: "c1",
          requestId: "req-1",
          probe: false,
        }),
    }],
  },
  {
    name: "closed: a success is one event and nothing for the breaker",
    steps: [
      { cmd: call(1, "c1"), types: ["mcp.tool_called"] },
      {
        cmd: settle(2, "c1", { ok: true, latencyMs: 9, isError: true }),
        types: ["mcp.tool_succeeded"],
        check: ([e]) => {
          assert.equal(e.type === "mcp.tool_succeeded" && e.isError, true);
          assert.equal(e.type === "mcp.tool_succeeded" && e.latencyMs, 9);
        },
      },
    ],
  },
  {
    name: "closed: counted failures open the breaker once the minimum sample is reached",
    steps: [
      ...opening.slice(0, 5),
      {
        cmd: settle(3, "c3", down),
        types: ["mcp.tool_failed", "mcp.breaker_opened"],
        check: ([f, o]) => {
          assert.equal(f.type === "mcp.tool_failed" && f.counted, true);
          assert.ok(o.type === "mcp.breaker_opened");
          assert.equal(o.server, S);
          assert.equal(o.reason, "failure_rate");
          assert.equal(o.until, OPEN_UNTIL);
          assert.equal(o.samples, 3);
          assert.equal(o.failureRate, 1);
          assert.equal(o.reopenCount, 0);
        },
      },
    ],
  },
  {
    name: "closed: failures the server is not to blame for never open it",
    steps: [1, 2, 3, 4].flatMap((t) =>
      [
        { cmd: call(t, `c${t}`), types: ["mcp.tool_called"] },
        {
          cmd: settle(t, `c${t}`, badArgs),
          types: ["mcp.tool_failed"],
          check: ([e]) => assert.equal(e.type === "mcp.tool_failed" && e.counted, false),
        },
      ] as Step[]
    ),
  },
  {
    name: "closed: a failure rate under the threshold keeps it closed",
    steps: [
      ...[1, 2, 3].flatMap((t) =>
        [
          { cmd: call(t, `o${t}`), types: ["mcp.tool_called"] },
          { cmd: settle(t, `o${t}`, ok), types: ["mcp.tool_succeeded"] },
        ] as Step[]
      ),
      { cmd: call(4, "f"), types: ["mcp.tool_called"] },
      { cmd: settle(4, "f", down), types: ["mcp.tool_failed"] },
      { cmd: call(5, "next"), types: ["mcp.tool_called"] },
    ],
  },
  {
    name: "open: a call is refused at once with the wait, not counted",
    steps: [
      ...opening,
      {
        cmd: { ...call(2_003, "c4"), requestId: "r" } as McpServerCommand,
        types: ["mcp.tool_failed"],
        check: ([e]) => {
          assert.ok(e.type === "mcp.tool_failed");
          assert.equal(e.errorType, "circuit_open");
          assert.equal(e.counted, false);
          assert.equal(e.probe, false);
          assert.equal(e.latencyMs, 0);
          assert.equal(e.retryAfterMs, 8_000);
          assert.equal(e.requestId, "r");
          assert.match(e.message, /"files".*retry in 8s/);
        },
      },
    ],
  },
  {
    name: "open: a tick before the open time is silent, after it announces half-open",
    steps: [
      ...opening,
      { cmd: { type: "tick", now: OPEN_UNTIL - 1 }, types: [] },
      {
        cmd: { type: "tick", now: OPEN_UNTIL },
        types: ["mcp.breaker_half_opened"],
        check: ([e]) =>
          assert.deepEqual(e, {
            type: "mcp.breaker_half_opened",
            at: OPEN_UNTIL,
            server: S,
            probes: 1,
          }),
      },
    ],
  },
  {
    name: "half-open: the first call is the probe, a second one waits, its success closes",
    steps: [
      ...opening,
      {
        cmd: call(OPEN_UNTIL, "p"),
        types: ["mcp.breaker_half_opened", "mcp.tool_called"],
        check: ([, c]) => assert.equal(c.type === "mcp.tool_called" && c.probe, true),
      },
      {
        cmd: call(OPEN_UNTIL + 1, "q"),
        types: ["mcp.tool_failed"],
        check: ([e]) => assert.equal(e.type === "mcp.tool_failed" && e.errorType, "circuit_open"),
      },
      {
        cmd: settle(OPEN_UNTIL + 2, "p", ok, true),
        types: ["mcp.tool_succeeded", "mcp.breaker_closed"],
      },
      {
        cmd: call(OPEN_UNTIL + 3, "after"),
        types: ["mcp.tool_called"],
        check: ([c]) => assert.equal(c.type === "mcp.tool_called" && c.probe, false),
      },
    ],
  },
  {
    name: "half-open: a failed probe re-opens for longer",
    steps: [
      ...opening,
      { cmd: call(OPEN_UNTIL, "p"), types: ["mcp.breaker_half_opened", "mcp.tool_called"] },
      {
        cmd: settle(OPEN_UNTIL + 1, "p", down, true),
        types: ["mcp.tool_failed", "mcp.breaker_opened"],
        check: ([, o]) => {
          assert.ok(o.type === "mcp.breaker_opened");
          assert.equal(o.reason, "probe_failed");
          assert.equal(o.reopenCount, 1);
          assert.equal(o.openMs, 20_000); // 10 s × 2, rand 0.5 → no jitter
        },
      },
      { cmd: call(OPEN_UNTIL + 2, "r"), types: ["mcp.tool_failed"] },
    ],
  },
  {
    name: "pings: failed pings open a server without traffic",
    steps: [
      { cmd: ping(1, "p1", down), types: ["mcp.pinged"] },
      { cmd: ping(2, "p2", down), types: ["mcp.pinged"] },
      {
        cmd: ping(3, "p3", down),
        types: ["mcp.pinged", "mcp.breaker_opened"],
        check: ([p]) =>
          assert.deepEqual(p, {
            type: "mcp.pinged",
            at: 3,
            server: S,
            callId: "p3",
            ok: false,
            latencyMs: 7,
            probe: false,
            message: "refused",
          }),
      },
    ],
  },
  {
    name: "pings: while open a ping is skipped; after the open time it is the probe that closes",
    steps: [
      ...opening,
      { cmd: ping(OPEN_UNTIL - 1, "p0", ok), types: [] },
      {
        cmd: ping(OPEN_UNTIL, "p1", ok),
        types: ["mcp.breaker_half_opened", "mcp.pinged", "mcp.breaker_closed"],
        check: ([, p]) => assert.equal(p.type === "mcp.pinged" && p.probe, true),
      },
      { cmd: call(OPEN_UNTIL + 1, "c"), types: ["mcp.tool_called"] },
    ],
  },
  {
    name: "pings: a failed probe ping re-opens",
    steps: [
      ...opening,
      {
        cmd: ping(OPEN_UNTIL, "p1", down),
        types: ["mcp.breaker_half_opened", "mcp.pinged", "mcp.breaker_opened"],
      },
      { cmd: call(OPEN_UNTIL + 1, "c"), types: ["mcp.tool_failed"] },
    ],
  },
  {
    name: "listed: the tool list event passes through untouched",
    steps: [{
      cmd: {
        type: "listed",
        event: {
          type: "mcp.tools_listed",
          at: 1,
          server: S,
          tools: 3,
          listed: 4,
          pages: 1,
          reason: "connected",
        },
      },
      types: ["mcp.tools_listed"],
      check: ([e]) => assert.equal(e.type === "mcp.tools_listed" && e.listed, 4),
    }],
  },
];

for (const c of cases) {
  Deno.test(`mcp_server decider: ${c.name}`, () => {
    run(c.steps);
  });
}

Deno.test("mcp_server decider: replaying the events rebuilds the same state", () => {
  const events: McpEvent[] = [];
  let s = d.initialState;
  for (const step of opening) {
    const out = d.decide(s, step.cmd);
    events.push(...out);
    s = out.reduce(d.evolve, s);
  }
  assert.equal(s.breaker.status, "open");
  assert.deepEqual(events.reduce(d.evolve, d.initialState), s);
});

Deno.test("mcp_server decider: only server faults are counted", () => {
  assert.deepEqual([...COUNTED].sort(), ["protocol", "timeout", "unreachable"]);
});
