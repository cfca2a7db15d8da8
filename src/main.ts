#!/usr/bin/env bun
// Entry point: `redbun [configfile] [--directive value ...]`, as `redis-server` takes them.

import { loadStartupConfig } from "./config/startup.ts";
import { Logger } from "./log/log.ts";
import { Server } from "./server/server.ts";
import { VERSION } from "./version.ts";

function main(): void {
  const config = loadStartupConfig(process.argv.slice(2));
  const log = new Logger(config);
  log.startupBanner(VERSION);
  const server = new Server(config, log);
  try {
    server.listen();
  } catch (e) {
    log.warning((e as Error).message);
    process.exit(1);
  }
  log.notice("Server initialized");
  log.notice(`Ready to accept connections tcp`);
  server.onShutdown = (code) => process.exit(code);
  const onSignal = (name: string) => {
    log.warning(`Received ${name} scheduling shutdown...`);
    server.shutdown(0);
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
}

main();
