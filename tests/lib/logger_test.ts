import assert from "node:assert/strict";
import { createLogger, silentLogger } from "../../src/lib/logger.ts";

function capture(min?: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  return { lines, logger: createLogger(min, (l) => lines.push(l)) };
}

Deno.test("a log line is `time level msg key=value …`, one line per call", () => {
  const { lines, logger } = capture();
  logger.info("provider up", { provider: "openai", attempts: 2, tags: ["a"], ok: true });
  assert.equal(lines.length, 1);
  const m = /^(\S+) (\S+)\s+(.*)$/.exec(lines[0]);
  assert.ok(m, lines[0]);
  assert.equal(new Date(m[1]).toISOString(), m[1]);
  assert.ok(Math.abs(Date.parse(m[1]) - Date.now()) < 5_000);
  assert.equal(m[2], "info");
  assert.equal(m[3], 'provider up provider=openai attempts=2 tags=["a"] ok=true');
});

Deno.test("levels below the minimum are dropped", () => {
  const { lines, logger } = capture("warn");
  logger.log("debug", "d");
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  assert.deepEqual(lines.map((l) => l.split(" ").slice(1).join(" ")), ["warn  w", "error e"]);

  const all = capture("debug");
  all.logger.log("debug", "d");
  assert.equal(all.lines.length, 1);
  assert.match(all.lines[0], / debug d$/);
});

Deno.test("the default logger writes info and above to stderr", () => {
  const original = console.error;
  const seen: unknown[] = [];
  console.error = (...args: unknown[]) => void seen.push(...args);
  try {
    const logger = createLogger();
    logger.log("debug", "hidden");
    logger.info("shown");
  } finally {
    console.error = original;
  }
  assert.equal(seen.length, 1);
  assert.match(String(seen[0]), / info {2}shown$/);
});

Deno.test("silentLogger prints nothing, not even errors", () => {
  const original = console.error;
  const originalLog = console.log;
  let calls = 0;
  console.error = () => void calls++;
  console.log = () => void calls++;
  try {
    silentLogger.error("boom", { error: "x" });
    silentLogger.warn("careful");
  } finally {
    console.error = original;
    console.log = originalLog;
  }
  assert.equal(calls, 0);
});
