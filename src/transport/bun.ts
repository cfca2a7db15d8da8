// Bun's own sockets, listeners and HTTP server, handed out as they are: the handlers go to
// Bun.listen and Bun.connect unchanged and the sockets they receive are Bun's, so the
// server's reads and writes cost exactly what they cost without this module.

import type { SocketHandler as BunSocketHandler } from "bun";
import type { ConnectOptions, HttpServeOptions, Listener, Socket, TcpListenOptions, Transport, UnixListenOptions } from "./types.ts";

export const bunTransport: Transport = {
  name: "bun",
  listen<Data>(options: TcpListenOptions<Data> | UnixListenOptions<Data>): Listener {
    // Bun's socket is a structural superset of Socket<Data>: the handlers go as they are.
    const socket = options.socket as BunSocketHandler<Data>;
    if ("unix" in options) {
      const unix = Bun.listen<Data>({ unix: options.unix, socket });
      return { port: 0, stop: (closeActive?: boolean) => unix.stop(closeActive) };
    }
    return Bun.listen<Data>({ ...options, socket });
  },
  connect<Data>(options: ConnectOptions<Data>): Promise<Socket<Data>> {
    return Bun.connect<Data>({ ...options, socket: options.socket as BunSocketHandler<Data> }) as Promise<Socket<Data>>;
  },
  serveHttp(options: HttpServeOptions) {
    const server = Bun.serve(options);
    return { get port() { return server.port ?? 0; }, stop: (closeActive?: boolean) => void server.stop(closeActive) };
  },
};
