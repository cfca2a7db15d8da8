// The shape of the sockets the server, its replication link, the cluster bus and MIGRATE
// use. It is Bun's socket API, narrowed to what redbun calls, so that under Bun the objects
// are Bun's own sockets and listeners: the hot path reads and writes through no wrapper.
// Under Node.js an adapter over node:net and node:tls gives the same shape (node.ts).

import type { TLSOptions } from "bun";

/** A connection: an accepted client, or a link this server opened. */
export interface Socket<Data> {
  /** What the owner hangs on the socket (the Client, a link). */
  data: Data;
  /**
   * Sends bytes and returns how many the socket took; the rest is the caller's to keep
   * and write again on `drain`. -1 once the socket is closed.
   */
  write(bytes: Uint8Array | string): number;
  /** Closes once what was taken is sent. */
  end(): void;
  /** Stops and restarts the data events (the server's output backpressure). */
  pause(): void;
  resume(): void;
  setNoDelay(noDelay?: boolean): boolean;
  setKeepAlive(enable?: boolean, initialDelayMs?: number): boolean;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** TLS: whether the peer's certificate chain verified. */
  readonly authorized: boolean;
  getPeerCertificate(): object | null | undefined;
}

/** The events of a socket, as Bun names them. */
export interface SocketHandler<Data> {
  open?(socket: Socket<Data>): void;
  data?(socket: Socket<Data>, chunk: Uint8Array): void;
  /** The socket can take more bytes after a short write. */
  drain?(socket: Socket<Data>): void;
  close?(socket: Socket<Data>, error?: Error): void;
  error?(socket: Socket<Data>, error: Error): void;
  /** TLS: the handshake ended; `error` says why it failed or why the chain did not verify. */
  handshake?(socket: Socket<Data>, success: boolean, error: Error | null): void;
  /** An outgoing connection could not be made. */
  connectError?(socket: Socket<Data>, error: Error): void;
}

/** A listening socket. */
export interface Listener {
  /** The bound port (under Node, 0 until `ready` settles). */
  readonly port: number;
  /** Stops listening; with `closeActive` its open connections close too. */
  stop(closeActive?: boolean): void;
  /**
   * Settles once the address is bound, rejecting with the bind error. Absent where the
   * bind happens at once (Bun's listen binds synchronously and throws).
   */
  readonly ready?: Promise<void>;
}

export interface TcpListenOptions<Data> {
  hostname: string;
  port: number;
  /** An IPv6 listener takes no IPv4 connections (Redis's IPV6_V6ONLY). */
  ipv6Only?: boolean;
  tls?: TLSOptions;
  socket: SocketHandler<Data>;
}

export interface UnixListenOptions<Data> {
  unix: string;
  socket: SocketHandler<Data>;
}

export interface ConnectOptions<Data> {
  hostname: string;
  port: number;
  data: Data;
  tls?: TLSOptions;
  socket: SocketHandler<Data>;
}

/** Minimal HTTP serving for the Prometheus endpoint: one fetch-style answer per request. */
export interface HttpServeOptions {
  hostname: string;
  port: number;
  fetch(request: Request): Response | Promise<Response>;
}

export interface HttpListener {
  readonly port: number;
  stop(closeActive?: boolean): void;
  readonly ready?: Promise<void>;
}

/** What a runtime provides: listeners, outgoing connections and the metrics endpoint's HTTP. */
export interface Transport {
  /** "bun" or "node", for logs and INFO. */
  readonly name: string;
  listen<Data>(options: TcpListenOptions<Data> | UnixListenOptions<Data>): Listener;
  connect<Data>(options: ConnectOptions<Data>): Promise<Socket<Data>>;
  serveHttp(options: HttpServeOptions): HttpListener;
}
