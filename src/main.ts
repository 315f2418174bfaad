// Composition root: config → ports → actor system → Deno.serve; SIGTERM/SIGINT drain.
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./lib/logger.ts";
import { startGateway, startupLines } from "./server.ts";
import { NatsStartupError, preflightNats } from "./events/nats_preflight.ts";
import {
  planWorkers,
  reusePortUnavailable,
  runWorkers,
  WorkersError,
  workersLine,
} from "./workers/mod.ts";

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

// Workers on one port: WORKERS, else gateway.json, else one per core from 4 cores (src/workers/count.ts).
let plan;
try {
  const env = Deno.env.get("WORKERS");
  plan = planWorkers({
    env,
    configured: config.workers,
    cores: navigator.hardwareConcurrency,
    noReusePort: () => reusePortUnavailable(),
  });
} catch (e) {
  if (e instanceof WorkersError) {
    console.error(`gateway: ${e.message}`);
    Deno.exit(2);
  }
  throw e;
}

if (plan.count > 1) {
  let workers;
  try {
    workers = await runWorkers(config, plan.count);
  } catch (e) {
    console.error(`gateway: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      console.log(`gateway: ${signal} received, draining in-flight requests on every worker…`);
      await workers.shutdown();
      console.log("gateway: stopped");
      Deno.exit(0);
    })();
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  for (const line of workers.lines) console.log(line);
  console.log(`  ${workersLine(plan)}`);
} else {
  serveAlone();
  if (plan.fellBack) console.log(`  ${workersLine(plan)}`);
}

function serveAlone() {
  const running = startGateway(config!, { logger });
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
  for (const line of startupLines(config!, running)) console.log(line);
}
