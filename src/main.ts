#!/usr/bin/env bun
// Entry point: `redbun [configfile] [--directive value ...]`, as `redis-server` takes them.

import { loadStartupConfig } from "./config/parse.ts";
import { SHUTDOWN } from "./config/params.ts";
import { saveOnShutdown } from "./commands/persistence.ts";
import { Logger } from "./log/log.ts";
import { Server } from "./server/server.ts";
import { checkRenames } from "./commands/table.ts";
import { allCommands } from "./commands/index.ts";
import { VERSION } from "./version.ts";
import { checkManifestAtStart, loadAppendOnlyFiles } from "./persistence/aof-load.ts";
import { loadRdbAtStartup } from "./persistence/rdb.ts";
import { MetricsEndpoint } from "./metrics/prometheus.ts";
import { Cluster, NodesConfError } from "./cluster/cluster.ts";
import { ListenError } from "./server/listeners.ts";
import { TlsConfigError } from "./server/tls.ts";
import { UserDirectiveCheck } from "./acl/acl.ts";
import { AclCommands } from "./acl/commands-index.ts";
import { CommandTable } from "./commands/table.ts";

function main(): void {
  const argv = process.argv.slice(2);
  // rename-command lines are checked against the command table as they are read, so that a
  // bad one stops start-up at its line; the server applies them to its table.
  // `user` lines are checked the same way (ACL rules that apply to a scratch user).
  const users = new UserDirectiveCheck(() => new AclCommands(new CommandTable(allCommands)));
  const config = loadStartupConfig(argv, undefined, {
    renameCommand: checkRenames(allCommands.map((def) => def.name)),
    user: (words) => users.check(words),
  });
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
  loadUsersOrExit(server, log);
  loadDataFromDisk(server);
  openMetricsOrExit(server, log);
  log.readyToAcceptConnections();
  if (server.listeners.unixPath !== "") log.notice(`The server is now ready to accept connections at ${server.listeners.unixPath}`);
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
 * Opens the listeners (TCP, TLS, unix socket; see server/listeners.ts) or exits with
 * status 1 after the lines redis-server logs.
 */
function listenOrExit(server: Server, log: Logger): number {
  try {
    return server.listen();
  } catch (e) {
    if (e instanceof TlsConfigError) {
      log.warning(e.message);
      log.warning("Failed to configure TLS. Check logs for more info.");
    } else if (e instanceof ListenError) {
      if (e.detail !== "") log.warning(e.detail);
      log.warning(e.message);
    } else {
      log.warning(`Failed listening: ${(e as Error).message}`);
    }
    process.exit(1);
  }
}

/** Redis's ACLLoadUsersAtStartup: the `user` directives or the aclfile; an error stops start-up. */
function loadUsersOrExit(server: Server, log: Logger): void {
  const errors = server.acl.loadAtStartup();
  if (errors === null) return;
  for (const line of errors) log.warning(line);
  process.exit(1);
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
