// The start-up sequence shared by the `redbun` binary (src/main.ts) and the embedding API
// (src/index.ts), in Redis's order: the server state, the listeners, the cluster, the
// users, the data on disk, the metrics endpoint, then the master to follow. A step that
// fails closes what the earlier ones opened and throws a StartupError with the lines Redis
// logs: the binary logs them and exits, an embedder gets the error and a free port.

import type { LoadOptions } from "../config/parse.ts";
import type { Config } from "../config/params.ts";
import type { Logger } from "../log/log.ts";
import { Server } from "./server.ts";
import { ListenError } from "./listeners.ts";
import { TlsConfigError } from "./tls.ts";
import { checkRenames, CommandTable } from "../commands/table.ts";
import { allCommands } from "../commands/index.ts";
import { VERSION } from "../version.ts";
import { checkManifestAtStart, loadAppendOnlyFiles } from "../persistence/aof-load.ts";
import { loadRdbAtStartup } from "../persistence/rdb.ts";
import { MetricsEndpoint } from "../metrics/prometheus.ts";
import { Cluster, NodesConfError } from "../cluster/cluster.ts";
import { UserDirectiveCheck } from "../acl/acl.ts";
import { AclCommands } from "../acl/commands-index.ts";
import { StartupError } from "./startup-error.ts";

export { StartupError };

/**
 * The checks the config loader runs on `rename-command` and `user` lines as it reads them,
 * so that a bad one stops start-up at its line; the server applies them later to its own
 * command table and users.
 */
export function directiveChecks(): Pick<LoadOptions, "renameCommand" | "user"> {
  const users = new UserDirectiveCheck(() => new AclCommands(new CommandTable(allCommands)));
  return {
    renameCommand: checkRenames(allCommands.map((def) => def.name)),
    user: (words) => users.check(words),
  };
}

export interface BootOptions {
  /** Log the start-up story (logo, "Server initialized", "Ready to accept connections") as redis-server does. */
  readonly narrate: boolean;
  /** Read the RDB or the AOF in `dir` (an embedded server without persistence starts empty). */
  readonly loadData: boolean;
  /**
   * The process is the host's, not the server's (startServer): used_memory starts from what
   * the server itself allocates, not from the whole heap, which the host's own data and
   * other servers share.
   */
  readonly embedded: boolean;
}

/** A started server and the pieces of it that live outside the Server object. */
export class BootedServer {
  constructor(
    readonly server: Server,
    /** The Prometheus endpoint, which follows metrics-port and metrics-bind. */
    readonly metrics: MetricsEndpoint,
  ) {}

  /** Release everything: listeners, clients, timers, files, the metrics endpoint. */
  close(): void {
    this.metrics.close();
    this.server.close();
  }
}

/**
 * Start a server with a loaded config; throws StartupError with everything opened closed
 * again. Asynchronous because a bind may finish later than listen returns (under Node).
 */
export async function bootServer(config: Config, log: Logger, opts: BootOptions): Promise<BootedServer> {
  const server = new Server(config, log, opts.embedded);
  server.configFile = config.configFile ?? "";
  // Redis logs as the master from here on: its server state exists before it listens.
  log.role = "M";
  // Bun's timers and performance.now() read CLOCK_MONOTONIC through clock_gettime.
  if (opts.narrate) log.notice("monotonic clock: POSIX clock_gettime");
  const metrics = new MetricsEndpoint(server);
  const booted = new BootedServer(server, metrics);
  try {
    // From listening to the data loaded nothing awaits: no client is read before the data
    // is in (Redis processes no event before its main loop starts). Binds that settle
    // later (Node's) are awaited after.
    const port = listen(server);
    if (opts.narrate) log.logoOrRunningMode(VERSION, port);
    if (config.clusterEnabled) startCluster(server);
    if (opts.narrate) log.serverInitialized();
    loadUsers(server);
    if (opts.loadData) loadDataFromDisk(server);
    const metricsError = metrics.apply();
    if (metricsError !== null) throw new StartupError([metricsError]);
    await bound(server);
  } catch (e) {
    booted.close();
    throw e;
  }
  if (opts.narrate) {
    log.readyToAcceptConnections();
    if (server.listeners.unixPath !== "") log.notice(`The server is now ready to accept connections at ${server.listeners.unixPath}`);
  }
  const master = config.replicaof;
  if (master !== null) server.upstream.setMaster(master.host, master.port, true);
  return booted;
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

/** Opens the listeners (TCP, TLS, unix socket; see listeners.ts); returns the port Redis names in its logs. */
function listen(server: Server): number {
  try {
    server.listen();
    return server.port || server.tlsPort;
  } catch (e) {
    throw listenFailure(e);
  }
}

/** The binds that settle after listen returns (under Node): a failed one stops start-up. */
async function bound(server: Server): Promise<void> {
  try {
    await server.listeners.bound();
  } catch (e) {
    throw listenFailure(e);
  }
}

/** Redis's log lines for a listener that could not be opened. */
function listenFailure(e: unknown): StartupError {
  if (e instanceof TlsConfigError) return new StartupError([e.message, "Failed to configure TLS. Check logs for more info."]);
  if (e instanceof ListenError) return new StartupError(e.detail !== "" ? [e.detail, e.message] : [e.message]);
  return new StartupError([`Failed listening: ${(e as Error).message}`]);
}

/** Redis's ACLLoadUsersAtStartup: the `user` directives or the aclfile. */
function loadUsers(server: Server): void {
  const errors = server.acl.loadAtStartup();
  if (errors !== null) throw new StartupError(errors);
}

/** clusterInit: nodes.conf and the bus port. */
function startCluster(server: Server): void {
  try {
    server.cluster = Cluster.start(server);
  } catch (e) {
    throw new StartupError([e instanceof NodesConfError ? e.message : `Could not start the cluster bus: ${(e as Error).message}`]);
  }
}
