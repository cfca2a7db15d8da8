// redbun under Node.js from the Node build (`bun run build:node`), for benchmarks and manual
// checks: `node scripts/node-server.mjs <port> [directive value ...]`. It serves until killed.

import { startServer } from "../dist/node/index.js";

const [port, ...pairs] = process.argv.slice(2);
const config = {};
for (let i = 0; i + 1 < pairs.length; i += 2) config[pairs[i].replace(/^--/, "")] = pairs[i + 1];
const server = await startServer({ port: Number(port ?? 6379), config });
console.log(`redbun (Node ${process.version}) ready on ${server.url}`);
