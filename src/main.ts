// Composition root: config → ports → actor system → Deno.serve; SIGTERM/SIGINT drain.
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./lib/logger.ts";
import { startGateway, startupLines } from "./server.ts";
import { NatsStartupError, preflightNats } from "./events/nats_preflight.ts";

const logger = createLogger((Deno.env.get("LOG_LEVEL") as "info" | undefined) ?? "info");

let config;
try {
  config = await loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`gateway: ${e.message}`);
    Deno.exit(2);
  }
  throw e;
}

// A refused NATS credential or a mutable events stream stops start-up here, saying what to fix.
try {
  const line = await preflightNats(config);
  if (line) logger.warn(line);
} catch (e) {
  if (e instanceof NatsStartupError) {
    console.error(`gateway: ${e.message}`);
    Deno.exit(2);
  }
  throw e;
}

const running = startGateway(config, { logger });

let stopping: Promise<void> | undefined;
const stop = (signal: string) => {
  stopping ??= (async () => {
    console.log(`gateway: ${signal} received, draining in-flight requests…`);
    await running.shutdown();
    console.log("gateway: stopped");
    Deno.exit(0);
  })();
};
// Listen before announcing: a supervisor may send SIGTERM as soon as it sees the start-up lines.
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
for (const line of startupLines(config, running)) console.log(line);
