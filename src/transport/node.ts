// Node.js sockets in the shape of Bun's (types.ts), so that the server runs unchanged under
// Node 20: node:net for TCP and unix sockets, node:tls for tls-port and TLS links, node:http
// for the metrics endpoint.
//
// Node's write never refuses bytes: it buffers them. The server counts unwritten output in
// its own buffer (client-output-buffer-limit, CLIENT LIST omem) and writes the rest on
// `drain`, as it does with Bun's short writes. So a write here takes bytes only up to
// NODE_BUFFER_BYTES unsent in Node, as a kernel's send buffer takes bytes only while it has
// room: what a client does not read stays in the server's accounting. `drain` comes when a
// write Node took completes after a short one, from the write's own callback: Node's
// 'drain' event only follows a write that returned false, which a write the kernel took
// at once does not, whatever its size.

import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as net from "node:net";
import * as tls from "node:tls";
import type { TLSOptions } from "bun";
import type {
  ConnectOptions,
  HttpListener,
  HttpServeOptions,
  Listener,
  Socket,
  SocketHandler,
  TcpListenOptions,
  Transport,
  UnixListenOptions,
} from "./types.ts";

/** The most a socket holds unsent in Node's own buffer. */
const NODE_BUFFER_BYTES = 256 * 1024;

/** One node:net (or node:tls) socket with Bun's socket API. */
class NodeSocket<Data> implements Socket<Data> {
  data!: Data;
  /** The handlers, set once the socket is wired; `drain` is called from here. */
  handlers: SocketHandler<Data> | null = null;
  /** A write was short: the writer waits for `drain`. */
  private waiting = false;
  /** Every write's completion callback, made once rather than per write. */
  private readonly written = (): void => {
    if (!this.waiting || this.raw.destroyed) return;
    this.waiting = false;
    this.handlers?.drain?.(this);
  };

  constructor(readonly raw: net.Socket) {}

  write(bytes: Uint8Array | string): number {
    const raw = this.raw;
    if (raw.destroyed || !raw.writable) return -1;
    if (this.waiting) return 0;
    // Strings are the server's short fixed errors, sent before a close: taken whole.
    if (typeof bytes === "string") {
      raw.write(bytes, "latin1", this.written);
      return bytes.length;
    }
    // Node holds bytes unsent whenever the kernel's buffer is full: past NODE_BUFFER_BYTES
    // of them, the rest stays with the caller. A write taking nothing waits for the
    // completion of the writes Node still holds.
    const taken = Math.min(bytes.length, Math.max(0, NODE_BUFFER_BYTES - raw.writableLength));
    if (taken < bytes.length) this.waiting = true;
    if (taken === 0) return 0;
    // Node keeps a reference to what it could not send at once, and the caller reuses its
    // buffer: hand over a copy.
    raw.write(Buffer.from(bytes.subarray(0, taken)), this.written);
    return taken;
  }

  /**
   * As Bun's end: the socket closes once what it took is sent, without waiting for the
   * peer to close its side (a client that ignores the close holds no descriptor).
   */
  end(): void {
    if (!this.raw.destroyed) this.raw.destroySoon();
  }

  pause(): void {
    this.raw.pause();
  }

  resume(): void {
    this.raw.resume();
  }

  setNoDelay(noDelay = true): boolean {
    this.raw.setNoDelay(noDelay);
    return true;
  }

  setKeepAlive(enable = false, initialDelayMs = 0): boolean {
    this.raw.setKeepAlive(enable, initialDelayMs);
    return true;
  }

  get remoteAddress(): string {
    return this.raw.remoteAddress ?? "";
  }

  get remotePort(): number {
    return this.raw.remotePort ?? 0;
  }

  get localAddress(): string {
    return this.raw.localAddress ?? "";
  }

  get localPort(): number {
    return this.raw.localPort ?? 0;
  }

  /** The descriptor, as CLIENT LIST shows it; Node keeps it on the internal handle. */
  get fd(): number {
    return (this.raw as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
  }

  get authorized(): boolean {
    return (this.raw as tls.TLSSocket).authorized === true;
  }

  getPeerCertificate(): object | null | undefined {
    const raw = this.raw as tls.TLSSocket;
    return typeof raw.getPeerCertificate === "function" ? raw.getPeerCertificate() : null;
  }
}

/**
 * Routes a socket's events to the handlers. Chunks go on as plain Uint8Array views, since
 * a Buffer's slice() shares memory where Uint8Array's copies.
 */
function wire<Data>(socket: NodeSocket<Data>, handlers: SocketHandler<Data>): void {
  const raw = socket.raw;
  socket.handlers = handlers;
  raw.on("data", (chunk: Buffer) => handlers.data?.(socket, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
  raw.on("error", (error) => handlers.error?.(socket, error));
  raw.on("close", () => handlers.close?.(socket));
}

/** Bun's TLS options in node:tls's terms (the DH parameters are a file for Bun, its text for Node). */
function nodeTlsOptions(options: TLSOptions): tls.TlsOptions {
  const { dhParamsFile, ...rest } = options as TLSOptions & { dhParamsFile?: string };
  const converted = rest as tls.TlsOptions;
  return dhParamsFile !== undefined ? { ...converted, dhparam: readFileSync(dhParamsFile) } : converted;
}

/** A node:net, node:tls or node:http server behind the Listener shape. */
class NodeListener implements Listener {
  readonly ready: Promise<void>;
  /** The open connections, closed by stop(true) as Bun's listener closes its own. */
  readonly sockets = new Set<net.Socket>();

  constructor(private readonly server: net.Server) {
    this.ready = new Promise((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    // A failed bind is the owner's to report through `ready`; one nobody awaits must not
    // end the process as an unhandled rejection would. Errors after the bind (an accept
    // failing for lack of descriptors) leave the listener up, as in Redis.
    this.ready.catch(() => {});
    server.on("error", () => {});
    server.on("connection", (raw: net.Socket) => {
      this.sockets.add(raw);
      raw.once("close", () => this.sockets.delete(raw));
    });
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  stop(closeActive = false): void {
    this.server.close();
    if (closeActive) for (const raw of this.sockets) raw.destroy();
  }
}

/** A new connection on a listener: its socket, then `open` (and `handshake` for TLS). */
function accept<Data>(raw: net.Socket, handlers: SocketHandler<Data>, handshake: boolean, error: Error | null): void {
  const socket = new NodeSocket<Data>(raw);
  wire(socket, handlers);
  handlers.open?.(socket);
  if (handshake) handlers.handshake?.(socket, error === null, error);
}

function listenTcp<Data>(options: TcpListenOptions<Data>): Listener {
  const handlers = options.socket;
  let server: net.Server;
  if (options.tls !== undefined) {
    const secure = tls.createServer(nodeTlsOptions(options.tls));
    secure.on("secureConnection", (raw) => accept(raw, handlers, true, null));
    // A failed handshake opens and fails the client, as under Bun, so that the server logs
    // why it refused the connection.
    secure.on("tlsClientError", (error, raw) => accept(raw, handlers, true, error));
    server = secure;
  } else {
    server = net.createServer({ noDelay: true }, (raw) => accept(raw, handlers, false, null));
  }
  const listener = new NodeListener(server);
  server.listen({ host: options.hostname, port: options.port, ipv6Only: options.ipv6Only === true });
  return listener;
}

function listenUnix<Data>(options: UnixListenOptions<Data>): Listener {
  const server = net.createServer((raw) => accept(raw, options.socket, false, null));
  const listener = new NodeListener(server);
  server.listen({ path: options.unix });
  return listener;
}

/**
 * Bun.connect's contract: the promise settles with the socket once connected (after the
 * handshake for TLS), or rejects after `connectError`.
 */
function connect<Data>(options: ConnectOptions<Data>): Promise<Socket<Data>> {
  const handlers = options.socket;
  const secure = options.tls !== undefined;
  const raw = secure
    ? tls.connect({ host: options.hostname, port: options.port, ...(nodeTlsOptions(options.tls!) as tls.ConnectionOptions) })
    : net.connect({ host: options.hostname, port: options.port });
  const socket = new NodeSocket<Data>(raw);
  socket.data = options.data;
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      raw.destroy();
      handlers.connectError?.(socket, error);
      reject(error);
    };
    raw.once("error", failed);
    raw.once(secure ? "secureConnect" : "connect", () => {
      raw.off("error", failed);
      wire(socket, handlers);
      handlers.open?.(socket);
      if (secure) handlers.handshake?.(socket, true, (raw as tls.TLSSocket).authorizationError ?? null);
      resolve(socket);
    });
  });
}

/** The fetch-style handler answering node:http requests (the metrics endpoint's needs: method, URL, status, headers, body). */
async function answerHttp(options: HttpServeOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const request = new Request(`http://${req.headers.host ?? options.hostname}${req.url ?? "/"}`, { method: req.method ?? "GET" });
  const response = await options.fetch(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(req.method === "HEAD" ? undefined : Buffer.from(await response.arrayBuffer()));
}

function serveHttp(options: HttpServeOptions): HttpListener {
  // node:http loads with the first metrics endpoint, not with this module: Bun imports this
  // module too, and would spend ~10 ms of every start-up loading it for nothing.
  const server = process.getBuiltinModule("node:http").createServer((req, res) => void answerHttp(options, req, res).catch(() => res.destroy()));
  const listener = new NodeListener(server);
  server.listen({ host: options.hostname, port: options.port });
  return listener;
}

export const nodeTransport: Transport = {
  name: "node",
  listen<Data>(options: TcpListenOptions<Data> | UnixListenOptions<Data>): Listener {
    return "unix" in options ? listenUnix(options) : listenTcp(options);
  },
  connect,
  serveHttp,
};
