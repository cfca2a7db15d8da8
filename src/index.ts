// The package entry: redbun as a library. `startServer()` runs a real Redis 7.0-compatible
// server inside the calling process, for tests and apps:
//
//   const server = await startServer({ config: { "maxmemory-policy": "allkeys-lru" } });
//   const redis = new Redis(server.url);
//   ...
//   await server.close();
//
// Each server has its own keyspace, config, clients and timers; several can run side by
// side. None of them installs signal handlers or ever exits the process.

import { createServer } from "node:net";
import { Config } from "./config/params.ts";
import { applyArgv, ConfigError } from "./config/parse.ts";
import { Logger } from "./log/log.ts";
import { bootServer, directiveChecks, StartupError, type BootedServer } from "./server/boot.ts";
import { flushAllData } from "./commands/keyspace.ts";

export { StartupError } from "./server/boot.ts";

/** A redis.conf directive's value: a word, a number, yes/no, or several words. */
export type ConfigValue = string | number | boolean | readonly string[];

export interface StartServerOptions {
  /** The TCP port; 0 (the default) picks a free one, reported back in `port`. */
  port?: number;
  /** The address to listen on (redis.conf's `bind`); 127.0.0.1 by default. */
  host?: string;
  /**
   * redis.conf directives by name, as `redbun --name value` takes them: `{ "maxmemory":
   * "100mb", "maxmemory-policy": "allkeys-lru", "databases": 4 }`. A list gives several
   * arguments (`{ bind: ["127.0.0.1", "::1"] }`).
   */
  config?: Readonly<Record<string, ConfigValue>>;
}

export interface EmbeddedServer {
  /** The TCP port the server listens on. */
  readonly port: number;
  /** The address it listens on. */
  readonly host: string;
  /** `redis://host:port`, for clients that take a URL. */
  readonly url: string;
  /** Stop: listeners, clients, timers and files are released; the port is free at once. */
  close(): Promise<void>;
  /** Empty every database, as FLUSHALL does (scripts and function libraries stay). */
  flushAll(): Promise<void>;
}

/** A directive or value the config parser refused: the message is Redis's. */
export class ConfigOptionError extends Error {
  constructor(
    message: string,
    /** The directive line as the parser read it, e.g. `maxmemory-policy "lru"`. */
    readonly directive: string,
  ) {
    super(message);
    this.name = "ConfigOptionError";
  }
}

/**
 * What an embedded server changes from redis-server's defaults. Nothing is saved to disk
 * unless asked, as a test's data is throwaway. Only warnings are logged: a test run
 * starting hundreds of servers should print nothing unless something goes wrong (a failed
 * save, a refused config), which is still worth seeing.
 */
const EMBEDDED_DEFAULTS: Readonly<Record<string, ConfigValue>> = {
  save: "",
  appendonly: "no",
  loglevel: "warning",
};

/**
 * Directives that ask for persistence: with any of them the server reads its RDB or AOF at
 * start, as redis-server does; without them it starts empty, whatever lies in the
 * working directory.
 */
const PERSISTENCE_DIRECTIVES = ["save", "appendonly", "dir", "dbfilename", "appendfilename", "appenddirname"];

/** How many free ports to try when another process takes the one found between probe and bind. */
const PORT_ATTEMPTS = 5;

/** Start a server in this process. Throws ConfigOptionError for a bad directive, StartupError when it cannot start. */
export async function startServer(options: StartServerOptions = {}): Promise<EmbeddedServer> {
  const userConfig = options.config ?? {};
  const host = options.host ?? connectHost(userConfig["bind"]) ?? "127.0.0.1";
  const wantedPort = options.port ?? (userConfig["port"] !== undefined ? Number(userConfig["port"]) : 0);
  const loadData = PERSISTENCE_DIRECTIVES.some((name) => Object.hasOwn(userConfig, name));
  for (let attempt = 1; ; attempt++) {
    const port = wantedPort !== 0 ? wantedPort : await freePort(host);
    const config = buildConfig({ ...EMBEDDED_DEFAULTS, ...userConfig, port, bind: options.host ?? userConfig["bind"] ?? host });
    try {
      const booted = await bootServer(config, new Logger(config), { narrate: false, loadData, embedded: true });
      return embedded(booted, host);
    } catch (e) {
      const lost = wantedPort === 0 && e instanceof StartupError && e.lines.some((line) => line.includes("Address already in use"));
      if (!lost || attempt === PORT_ATTEMPTS) throw e;
    }
  }
}

/**
 * The Config the command line `--name value ...` would build, through the same parser
 * (Redis's checks and error texts included).
 */
function buildConfig(directives: Readonly<Record<string, ConfigValue>>): Config {
  const argv: string[] = [];
  for (const [name, value] of Object.entries(directives)) {
    // A name with spaces would smuggle in other directives; Redis refuses it as unknown.
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new ConfigOptionError("Bad directive or wrong number of arguments", name);
    argv.push(`--${name}`, ...words(value));
  }
  const config = new Config();
  try {
    applyArgv(config, argv, directiveChecks());
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigOptionError(e.reason, e.lineText ?? "");
    throw e;
  }
  return config;
}

function words(value: ConfigValue): string[] {
  if (typeof value === "boolean") return [value ? "yes" : "no"];
  if (typeof value === "number") return [String(value)];
  if (typeof value === "string") return [value];
  return [...value];
}

/**
 * The address clients reach a `bind` list at: its first entry ("-" marks an optional one),
 * with the wildcards replaced by the loopback address of their family.
 */
function connectHost(bind: ConfigValue | undefined): string | undefined {
  if (bind === undefined) return undefined;
  const first = words(bind)[0]?.split(" ")[0]?.replace(/^-/, "");
  if (first === "*" || first === "0.0.0.0") return "127.0.0.1";
  if (first === "::*" || first === "::") return "::1";
  return first;
}

/** A port nothing listens on now, found by binding port 0 on `host` and letting it go. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function embedded(booted: BootedServer, host: string): EmbeddedServer {
  const server = booted.server;
  const port = server.port;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    booted.close();
  };
  // SHUTDOWN from a client stops this server alone; the process goes on.
  server.onShutdown = () => close();
  return {
    port,
    host,
    url: `redis://${host.includes(":") ? `[${host}]` : host}:${port}`,
    async close() {
      close();
      // Socket close events run on the next turn of the event loop; after this the process holds nothing of the server.
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
    async flushAll() {
      if (closed) throw new Error("The server is closed");
      flushAllData(server);
      // Written to the AOF and sent to replicas as the FLUSHALL command would be.
      if (server.propagation.active) {
        server.propagation.add(0, ["FLUSHALL"]);
        server.propagation.flushPending();
        server.aof?.write();
      }
    },
  };
}
