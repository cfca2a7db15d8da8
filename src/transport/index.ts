// The runtime's sockets, chosen once when the module loads: Bun's own under Bun, node:net
// and node:tls under Node.js. Everything above (server, replication, cluster bus, MIGRATE,
// metrics) goes through `transport` and the types of types.ts, never a runtime's API.

import { bunTransport } from "./bun.ts";
import { nodeTransport } from "./node.ts";
import type { Transport } from "./types.ts";

export type { HttpListener, Listener, Socket, SocketHandler, Transport } from "./types.ts";

export const transport: Transport = typeof Bun !== "undefined" ? bunTransport : nodeTransport;
