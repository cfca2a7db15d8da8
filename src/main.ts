#!/usr/bin/env bun
// Entry point: `redbun [configfile] [--directive value ...]`, as `redis-server` takes them.
// The start-up itself is shared with the embedding API (server/boot.ts); the binary adds
// Redis's banner, exits on errors, and shuts down on SIGINT and SIGTERM.

import { loadStartupConfig } from "./config/parse.ts";
import { SHUTDOWN, type Config } from "./config/params.ts";
import { saveOnShutdown } from "./commands/persistence.ts";
import { Logger } from "./log/log.ts";
import type { Server } from "./server/server.ts";
import { VERSION } from "./version.ts";
import { bootServer, directiveChecks, StartupError } from "./server/boot.ts";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const config = loadStartupConfig(argv, undefined, directiveChecks());
  const log = new Logger(config);
  log.startupBanner(VERSION, { noArguments: argv.length === 0 });
  // The handlers go in before the server listens (Redis's setupSignalHandlers): a signal
  // that arrives while it starts is taken once it is up, never left to kill the process.
  let server: Server | null = null;
  let pending: { name: string; flags: number } | null = null;
  const onSignal = (name: string, flags: number) => {
    log.fromSignalHandler(`Received ${name} scheduling shutdown...`);
    if (server === null) pending = { name, flags };
    else shutdownOnSignal(server, flags);
  };
  // shutdown-on-sigint / shutdown-on-sigterm hold SHUTDOWN's flags for each signal.
  process.on("SIGINT", () => onSignal("SIGINT", config.shutdownOnSigint));
  process.on("SIGTERM", () => onSignal("SIGTERM", config.shutdownOnSigterm));
  server = await bootOrExit(config, log);
  server.onShutdown = (code) => process.exit(code);
  const early = pending as { name: string; flags: number } | null;
  if (early !== null) shutdownOnSignal(server, early.flags);
}

/** SHUTDOWN with the flags shutdown-on-sigint / shutdown-on-sigterm give the signal. */
function shutdownOnSignal(server: Server, flags: number): void {
  // A failed final save keeps the server up, as Redis does (force only through SHUTDOWN FORCE).
  const save = (flags & SHUTDOWN.SAVE) !== 0;
  const nosave = (flags & SHUTDOWN.NOSAVE) !== 0;
  const force = (flags & SHUTDOWN.FORCE) !== 0;
  server.shutdown(0, () => saveOnShutdown(server, save, nosave, force), (flags & SHUTDOWN.NOW) !== 0);
}

/** Starts the server, or exits with status 1 after the lines redis-server logs. */
async function bootOrExit(config: Config, log: Logger): Promise<Server> {
  try {
    return (await bootServer(config, log, { narrate: true, loadData: true, embedded: false })).server;
  } catch (e) {
    if (!(e instanceof StartupError)) throw e;
    for (const line of e.lines) log.warning(line);
    process.exit(1);
  }
}

await main();
