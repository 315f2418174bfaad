// Before the gateway starts on NATS: one connection with its credential, so a refused credential
// or a mutable events stream stops start-up with a message that says what to fix, instead of a
// gateway that runs on, buffering events nobody will receive. An unreachable server is not
// fatal: the gateway starts, buffers and keeps trying, as it always has.
import { wsconnect } from "@nats-io/nats-core";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import type { Config } from "../config.ts";
import { authRefusal, connectOptions, describeServers, isAuthError } from "../lib/nats_connect.ts";
import { mutableStreamProblem } from "./stream_config.ts";

/** A reason the gateway must not start on this NATS. */
export class NatsStartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NatsStartupError";
  }
}

const why = (err: unknown) => err instanceof Error ? err.message : String(err);

/**
 * Resolves with a line to log when NATS could not be checked (unreachable), undefined when all
 * is well; rejects with NatsStartupError for a refused credential, an unreadable creds or CA
 * file, or a mutable events stream (unless nats.allowMutableStream).
 */
export async function preflightNats(
  config: Pick<Config, "nats" | "instance">,
  timeoutMs = 5_000,
): Promise<string | undefined> {
  if (!config.nats.url) return undefined;
  const access = config.nats;
  let options;
  try {
    options = connectOptions(access, {
      name: `gateway/${config.instance}/preflight`,
      timeout: timeoutMs,
    });
  } catch (err) {
    throw new NatsStartupError(why(err)); // an unreadable creds or CA file
  }
  let nc;
  try {
    nc = await wsconnect(options);
  } catch (err) {
    if (isAuthError(err)) throw new NatsStartupError(authRefusal(access, err));
    return `NATS ${describeServers(access.servers)} not reachable at start (${why(err)}); ` +
      `buffering events and retrying`;
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    const info = await jsm.streams.info(config.nats.stream).catch((err) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
        return undefined; // created immutable on the first event
      }
      throw err;
    });
    const problem = info && !config.nats.allowMutableStream
      ? mutableStreamProblem(info.config)
      : undefined;
    if (problem) throw new NatsStartupError(problem);
    return undefined;
  } catch (err) {
    if (err instanceof NatsStartupError) throw err;
    if (isAuthError(err)) throw new NatsStartupError(authRefusal(access, err));
    return `cannot check JetStream stream ${config.nats.stream} at start (${why(err)})`;
  } finally {
    await nc.close().catch(() => {});
  }
}
