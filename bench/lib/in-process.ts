// A redbun Server driven in-process, as Bun.listen would drive it, for benchmarks of the
// whole command path (parse + dispatch + execute + reply) without the kernel or a
// benchmark client: the server never listens, its data handler gets whole chunks of
// RESP, and the socket swallows the replies.
import { Config } from "../../src/config/params.ts";
import { Logger } from "../../src/log/log.ts";
import { Server } from "../../src/server/server.ts";

/** One command as RESP (a multi-bulk of bulk strings). */
export function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}

/** A socket that takes every write whole and keeps nothing. */
function nullSocket(): unknown {
  return {
    data: undefined,
    remoteAddress: "127.0.0.1",
    remotePort: 50000,
    localAddress: "127.0.0.1",
    localPort: 6379,
    setNoDelay() {},
    setKeepAlive() {},
    pause() {},
    resume() {},
    write(b: Uint8Array) {
      return b.length;
    },
    end() {},
    flush() {},
  };
}

/** A server with one connected client: `feed` hands it a chunk as one socket read. */
export function inProcessServer(): { feed(chunk: Uint8Array): void } {
  const config = new Config();
  const server = new Server(config, new Logger(config, { sink: () => {} }));
  // The handlers are private: the benchmark drives them as Bun.listen would.
  const handlers = (server as unknown as { socketHandlers(): Record<string, (s: unknown, d?: Uint8Array) => void> }).socketHandlers();
  const socket = nullSocket();
  handlers.open!(socket);
  const data = handlers.data!;
  return { feed: (chunk) => data(socket, chunk) };
}
