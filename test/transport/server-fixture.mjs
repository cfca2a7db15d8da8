// Starts an embedded redbun under whichever runtime runs this file and prints one line:
// the port, then the runtime ("node" or "bun"). It stops when its stdin closes.
// Usage: node|bun server-fixture.mjs <entry module> [directive value ...]

const [entry, ...pairs] = process.argv.slice(2);
const { startServer } = await import(entry);
const config = {};
for (let i = 0; i + 1 < pairs.length; i += 2) config[pairs[i]] = pairs[i + 1];
const server = await startServer({ config });
await accepting(server.port);
process.stdout.write(`${server.port} ${typeof Bun === "undefined" ? "node" : "bun"}\n`);
process.stdin.on("end", () => server.close().then(() => process.exit(0)));
process.stdin.resume();

/**
 * Waits until the port takes connections. Under Node a bind finishes after listen returns;
 * until startServer awaits it (server.listeners.bound()), the fixture waits here.
 */
async function accepting(port) {
  const { connect } = await import("node:net");
  for (let tries = 0; tries < 500; tries++) {
    const connected = await new Promise((resolve) => {
      const probe = connect({ host: "127.0.0.1", port }, () => resolve(true));
      probe.on("error", () => resolve(false));
      probe.on("connect", () => probe.end());
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`nothing accepts connections on port ${port}`);
}
