// The server's listening sockets, opened as Redis's initServer opens them: plain TCP on
// `port` and TLS on `tls-port`, each on every `bind` address, then the `unixsocket`. A port
// of 0 opens nothing; a server with nothing to listen on refuses to start. CONFIG SET of
// port, bind, tls-port or the tls-* files moves or reloads the listeners, as in Redis 7.0;
// the connections already accepted stay.

import { chmodSync, unlinkSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import type { TLSOptions } from "bun";
import { transport, type Listener, type SocketHandler } from "../transport/index.ts";
import { strerror, type Config } from "../config/params.ts";
import type { Logger } from "../log/log.ts";
import type { Client } from "./client.ts";
import { configureTls, tlsWanted, type TlsContext } from "./tls.ts";

/** How a client reached the server, which decides its flags and its TLS checks. */
export const enum Transport {
  Tcp,
  Tls,
  Unix,
}

/**
 * A listener Redis could not open: `detail` is the warning it logs first (empty when there
 * is none), the message is the line it aborts with.
 */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

type Handlers = SocketHandler<Client>;

/** What the listeners need from the server. */
export interface ListenerHost {
  readonly config: Config;
  readonly log: Logger;
  /** The loaded TLS material, replaced when the tls-* directives change. */
  tls: TlsContext | null;
  socketHandlers(transport: Transport): Handlers;
}

/** The directives whose change reloads the TLS material and reopens the TLS listeners. */
const TLS_DIRECTIVES = [
  "tls-port", "tls-cert-file", "tls-key-file", "tls-key-file-pass", "tls-client-cert-file", "tls-client-key-file",
  "tls-client-key-file-pass", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols", "tls-ciphers",
  "tls-ciphersuites", "tls-auth-clients", "tls-replication", "tls-cluster",
];

/** CONFIG SET's errors when a listener cannot move (Redis's texts). */
const CANNOT_LISTEN = "Unable to listen on this port. Check server logs.";
const CANNOT_BIND = "Failed to bind to specified addresses.";
const CANNOT_CONFIGURE_TLS = "Unable to update TLS configuration. Check server logs.";

export class Listeners {
  private tcp: Listener[] = [];
  private tls: Listener[] = [];
  private unix: Listener | null = null;
  /**
   * Binds still under way, each settling with its ListenError (or nothing for an optional
   * address). Under Bun a bind is over when listen returns, so this stays empty.
   */
  private binding: Promise<ListenError | null>[] = [];
  /** The unixsocket file while listening on it (as configured, and as bound), removed at close. */
  unixPath = "";
  private unixFile = "";

  /** The port the plain listeners are on, 0 without them. */
  get tcpPort(): number {
    return this.tcp[0]?.port ?? 0;
  }

  /** The port the TLS listeners are on, 0 without them. */
  get tlsPort(): number {
    return this.tls[0]?.port ?? 0;
  }

  get count(): number {
    return this.tcp.length + this.tls.length + (this.unix !== null ? 1 : 0);
  }

  /**
   * Settles once every listener start() opened is bound: at once under Bun, whose listen
   * binds before it returns; under Node once the binds finish, a failure closing every
   * listener and rejecting with the ListenError Redis would log.
   */
  async bound(): Promise<void> {
    const outcomes = await Promise.all(this.binding);
    this.binding = [];
    const failure = outcomes.find((outcome) => outcome !== null);
    if (failure === undefined) return;
    this.close();
    throw failure;
  }

  /**
   * A listener CONFIG SET moved, bound after CONFIG SET answered (under Node): a failure can
   * only be logged, and leaves nothing listening there.
   */
  private logLateFailures(host: ListenerHost): void {
    const pending = this.binding;
    this.binding = [];
    for (const outcome of pending) {
      void outcome.then((failure) => {
        if (failure === null) return;
        if (failure.detail !== "") host.log.warning(failure.detail);
        host.log.warning(failure.message);
      });
    }
  }

  /**
   * Loads the TLS files when anything uses TLS, then opens every listener the directives
   * name. Throws TlsConfigError or ListenError with the lines Redis logs.
   */
  start(host: ListenerHost): void {
    const config = host.config;
    if (tlsWanted(config)) host.tls = configureTls(config);
    try {
      if (config.port !== 0) this.openTcp(config.bind, config.port, host.socketHandlers(Transport.Tcp));
      if (config.tlsPort !== 0) this.openTls(config.bind, config.tlsPort, host.tls!.server, host.socketHandlers(Transport.Tls));
      if (config.unixsocket !== "") this.openUnix(config.dir, config.unixsocket, config.unixsocketperm, host.socketHandlers(Transport.Unix));
    } catch (e) {
      this.close();
      throw e;
    }
    if (this.count === 0) throw new ListenError("Configured to not listen anywhere, exiting.", "");
    config.onChange("port", () => this.rebindTcp(host, CANNOT_LISTEN));
    config.onChange("bind", () => this.rebindTcp(host, CANNOT_BIND) ?? this.rebindTls(host, CANNOT_BIND));
    config.onChange(TLS_DIRECTIVES, () => this.reloadTls(host));
  }

  /**
   * The plain listeners move to the new port or addresses. The old ones close first, since
   * the new addresses may overlap them; on failure CONFIG SET restores the old values and
   * runs this again, which reopens them.
   */
  private rebindTcp(host: ListenerHost, failure: string): string | undefined {
    for (const l of this.tcp) l.stop();
    this.tcp = [];
    const config = host.config;
    if (config.port === 0) return undefined;
    try {
      this.openTcp(config.bind, config.port, host.socketHandlers(Transport.Tcp));
    } catch (e) {
      return this.rebindFailed(host, e, failure);
    }
    this.logLateFailures(host);
    return undefined;
  }

  /** The TLS listeners reopen with the current tls-port, bind and TLS material. */
  private rebindTls(host: ListenerHost, failure: string): string | undefined {
    for (const l of this.tls) l.stop();
    this.tls = [];
    const config = host.config;
    if (config.tlsPort === 0 || host.tls === null) return undefined;
    try {
      this.openTls(config.bind, config.tlsPort, host.tls.server, host.socketHandlers(Transport.Tls));
    } catch (e) {
      return this.rebindFailed(host, e, failure);
    }
    this.logLateFailures(host);
    return undefined;
  }

  private rebindFailed(host: ListenerHost, e: unknown, failure: string): string {
    if (e instanceof ListenError && e.detail !== "") host.log.warning(e.detail);
    if (failure === CANNOT_BIND) host.log.warning("Failed to bind");
    return failure;
  }

  /** Redis's applyTlsCfg: with TLS in use the files are loaded again (a failure keeps the old ones). */
  private reloadTls(host: ListenerHost): string | undefined {
    if (tlsWanted(host.config)) {
      try {
        host.tls = configureTls(host.config);
      } catch (e) {
        host.log.warning((e as Error).message);
        return CANNOT_CONFIGURE_TLS;
      }
    }
    return this.rebindTls(host, CANNOT_LISTEN);
  }

  /** `port` on every bind address. */
  openTcp(bind: readonly string[], port: number, socket: Handlers): void {
    this.tcp = listenOnEvery(bind, port, "TCP", (options) => transport.listen<Client>({ ...options, socket }), this.binding);
  }

  /** `tls-port` on every bind address. */
  openTls(bind: readonly string[], port: number, tls: TLSOptions, socket: Handlers): void {
    this.tls = listenOnEvery(bind, port, "TLS", (options) => transport.listen<Client>({ ...options, tls, socket }), this.binding);
  }

  /**
   * The unix socket at `path` (relative to `dir`), with `perm` applied when not 0. A file
   * already there is removed first, as Redis does: it is the socket of a server that died.
   */
  openUnix(dir: string, path: string, perm: number, socket: Handlers): void {
    const file = resolvePath(dir, path);
    try {
      unlinkSync(file);
    } catch {
      // Nothing was there.
    }
    try {
      this.unix = transport.listen<Client>({ unix: file, socket });
      // The file exists once bound: at once under Bun, later under Node.
      const applyPerm = () => {
        if (perm !== 0) chmodSync(file, perm);
      };
      if (this.unix.ready === undefined) applyPerm();
      else this.binding.push(this.unix.ready.then(applyPerm).then(() => null, unixBindFailure));
    } catch (e) {
      this.unix?.stop(true);
      this.unix = null;
      throw unixBindFailure(e);
    }
    this.unixPath = path;
    this.unixFile = file;
  }

  /** Stops every listener; the unix socket's file goes too. Returns whether there was one. */
  close(): boolean {
    for (const l of this.tcp) l.stop(true);
    for (const l of this.tls) l.stop(true);
    this.tcp = [];
    this.tls = [];
    if (this.unix === null) return false;
    this.unix.stop(true);
    this.unix = null;
    try {
      unlinkSync(this.unixFile);
    } catch {
      // Someone removed it already.
    }
    return true;
  }
}

function unixBindFailure(e: unknown): ListenError {
  return new ListenError(`Failed opening Unix socket: bind: ${strerror((e as NodeJS.ErrnoException).code)}`, "");
}

type BindOptions = { hostname: string; port: number; ipv6Only: boolean };

/**
 * One listener per bind address, all on the port the first one got. An address with a
 * leading "-" may fail (it names an address family the machine may lack); any other failure
 * closes what was opened and throws Redis's lines ("TCP" in the warning for both kinds, as
 * Redis's listenToPort says). A bind that finishes later (under Node) adds its outcome to
 * `binding`; with port 0 such binds cannot share the first one's port, unknown until then.
 */
function listenOnEvery(
  bind: readonly string[],
  port: number,
  kind: "TCP" | "TLS",
  listen: (options: BindOptions) => Listener,
  binding: Promise<ListenError | null>[],
): Listener[] {
  const opened: Listener[] = [];
  for (const entry of bind) {
    const optional = entry.startsWith("-");
    const address = optional ? entry.slice(1) : entry;
    const hostname = address === "*" ? "0.0.0.0" : address === "::*" ? "::" : address;
    try {
      // Like Redis, an IPv6 listener is IPv6 only, so that `bind * -::*` can also listen on
      // 0.0.0.0 at the same port. Bun supports ipv6Only on listeners, though its types only
      // declare it for connect.
      const listener = listen({ hostname, port, ipv6Only: hostname.includes(":") });
      // Under Node the port is known once bound: a fixed one stays as asked.
      port = listener.port || port;
      opened.push(listener);
      const wanted = port;
      if (listener.ready !== undefined) binding.push(listener.ready.then(() => null, (e) => (optional ? null : bindFailure(kind, address, wanted, e))));
    } catch (e) {
      if (optional) continue;
      for (const l of opened) l.stop(true);
      throw bindFailure(kind, address, port, e);
    }
  }
  if (opened.length === 0) throw new ListenError(`Failed listening on port ${port} (${kind}), aborting.`, "");
  return opened;
}

function bindFailure(kind: "TCP" | "TLS", address: string, port: number, e: unknown): ListenError {
  const code = (e as NodeJS.ErrnoException).code;
  return new ListenError(
    `Failed listening on port ${port} (${kind}), aborting.`,
    `Warning: Could not create server TCP listening socket ${address}:${port}: bind: ${strerror(code)}`,
  );
}
