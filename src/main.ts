// Composition root: config → ports → actor system → Deno.serve; SIGTERM/SIGINT drain.
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./lib/logger.ts";
import { startGateway, startupLines } from "./server.ts";

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

const running = startGateway(config, { logger });
for (const line of startupLines(config, running)) console.log(line);

const stop = async (signal: string) => {
  console.log(`gateway: ${signal} received, draining in-flight requests…`);
  await running.shutdown();
  console.log("gateway: stopped");
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
