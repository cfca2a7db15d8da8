#!/usr/bin/env bun
// Entry point: `redbun [configfile] [--directive value ...]`, as `redis-server` takes them.

import { loadStartupConfig } from "./config/parse.ts";
import { Logger } from "./log/log.ts";
import { Server } from "./server/server.ts";
import { VERSION } from "./version.ts";

function main(): void {
  const argv = process.argv.slice(2);
  const config = loadStartupConfig(argv);
  const log = new Logger(config);
  log.startupBanner(VERSION, { noArguments: argv.length === 0 });
  const server = new Server(config, log);
  let port: number;
  try {
    port = server.listen();
  } catch (e) {
    log.warning((e as Error).message);
    process.exit(1);
  }
  log.role = "M";
  log.logoOrRunningMode(VERSION, port);
  log.serverInitialized();
  log.readyToAcceptConnections();
  server.onShutdown = (code) => process.exit(code);
  const onSignal = (name: string) => {
    log.fromSignalHandler(`Received ${name} scheduling shutdown...`);
    server.shutdown(0);
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
}

main();
