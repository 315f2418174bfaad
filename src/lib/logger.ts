// Structured one-line logs on stderr: `level msg key=value …`. Never log secrets or message content.
export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(
  min: Level = "info",
  write: (line: string) => void = (l) => console.error(l),
): Logger {
  const log = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[min]) return;
    let line = `${new Date().toISOString()} ${level.padEnd(5)} ${msg}`;
    for (const [k, v] of Object.entries(fields ?? {})) {
      line += ` ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`;
    }
    write(line);
  };
  return {
    log,
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = createLogger("error", () => {});
