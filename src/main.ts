#!/usr/bin/env bun
// Entry point: `redbun [configfile] [--directive value ...]`, as `redis-server` takes them.

import { loadStartupConfig } from "./config/parse.ts";
import { SHUTDOWN } from "./config/params.ts";
import { saveOnShutdown } from "./commands/persistence.ts";
import { Logger } from "./log/log.ts";
import { Server } from "./server/server.ts";
import { VERSION } from "./version.ts";
import { checkManifestAtStart, loadAppendOnlyFiles } from "./persistence/aof-load.ts";
import { loadRdbAtStartup } from "./persistence/rdb.ts";
import { MetricsEndpoint } from "./metrics/prometheus.ts";
import { Cluster, NodesConfError } from "./cluster/cluster.ts";

function main(): void {
  const argv = process.argv.slice(2);
  const config = loadStartupConfig(argv);
  const log = new Logger(config);
  log.startupBanner(VERSION, { noArguments: argv.length === 0 });
  const server = new Server(config, log);
  server.configFile = config.configFile ?? "";
  // Redis logs as the master from here on: its server state exists before it listens.
  log.role = "M";
  // Bun's timers and performance.now() read CLOCK_MONOTONIC through clock_gettime.
  log.notice("monotonic clock: POSIX clock_gettime");
  const port = listenOrExit(server, log);
  log.logoOrRunningMode(VERSION, port);
  if (config.clusterEnabled) startClusterOrExit(server, log);
  log.serverInitialized();
  loadDataFromDisk(server);
  openMetricsOrExit(server, log);
  log.readyToAcceptConnections();
  const master = config.replicaof;
  if (master !== null) server.upstream.setMaster(master.host, master.port, true);
  server.onShutdown = (code) => process.exit(code);
  // shutdown-on-sigint / shutdown-on-sigterm hold SHUTDOWN's flags for each signal.
  const onSignal = (name: string, flags: number) => {
    log.fromSignalHandler(`Received ${name} scheduling shutdown...`);
    // A failed final save keeps the server up, as Redis does (force only through SHUTDOWN FORCE).
    const save = (flags & SHUTDOWN.SAVE) !== 0;
    const nosave = (flags & SHUTDOWN.NOSAVE) !== 0;
    const force = (flags & SHUTDOWN.FORCE) !== 0;
    server.shutdown(0, () => saveOnShutdown(server, save, nosave, force), (flags & SHUTDOWN.NOW) !== 0);
  };
  process.on("SIGINT", () => onSignal("SIGINT", config.shutdownOnSigint));
  process.on("SIGTERM", () => onSignal("SIGTERM", config.shutdownOnSigterm));
}

/**
 * Redis's loadDataFromDisk: with appendonly on the AOF is the truth and the RDB is not
 * read; the AOF is then opened (or created) for appending.
 */
function loadDataFromDisk(server: Server): void {
  if (!server.config.appendonly) {
    checkManifestAtStart(server);
    return loadRdbAtStartup(server);
  }
  loadAppendOnlyFiles(server);
  server.openAofOnStart();
}

/**
 * Opens the listeners or exits with status 1 after the lines redis-server logs: port 0 means
 * "no TCP listener", and redbun has no unix socket or TLS listener to fall back on.
 */
function listenOrExit(server: Server, log: Logger): number {
  const port = server.config.port;
  if (port === 0) {
    log.warning("Configured to not listen anywhere, exiting.");
    process.exit(1);
  }
  try {
    return server.listen();
  } catch (e) {
    log.warning(`Warning: ${(e as Error).message}`);
    log.warning(`Failed listening on port ${port} (TCP), aborting.`);
    process.exit(1);
  }
}

/** clusterInit: nodes.conf and the bus port; a broken file or a busy port stops start-up. */
function startClusterOrExit(server: Server, log: Logger): void {
  try {
    server.cluster = Cluster.start(server);
  } catch (e) {
    log.warning(e instanceof NodesConfError ? e.message : `Could not start the cluster bus: ${(e as Error).message}`);
    process.exit(1);
  }
}

/** The Prometheus endpoint (metrics-port, off by default); a port it cannot bind stops start-up. */
function openMetricsOrExit(server: Server, log: Logger): void {
  const err = new MetricsEndpoint(server).apply();
  if (err === null) return;
  log.warning(err);
  process.exit(1);
}

main();
