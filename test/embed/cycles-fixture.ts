// Child process of leaks.test.ts: start and close embedded servers again and again (some
// with a client, a blocked command, a pause, an AOF, a replica, a MIGRATE), then do
// nothing at all. A closed server must leave no handle behind, so this process must exit
// by itself.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { startServer } from "../../src/index.ts";

/** A port nothing listens on, for the metrics endpoint. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

/** A master and its replica, linked, then both closed. */
async function replicationCycle(): Promise<void> {
  const master = await startServer({ config: { "repl-diskless-sync-delay": 0 } });
  // The replica writes the RDB its master sends into its dir: a temporary one, not the cwd.
  const replica = await startServer({ config: { replicaof: `${master.host} ${master.port}`, dir } });
  const client = new Bun.RedisClient(replica.url);
  while (!String(await client.send("INFO", ["replication"])).includes("master_link_status:up")) await Bun.sleep(5);
  client.close();
  await replica.close();
  await master.close();
}

/** A MIGRATE leaves a cached connection to its target, which close() must end. */
async function migrateCycle(): Promise<void> {
  const source = await startServer();
  const target = await startServer();
  const client = new Bun.RedisClient(source.url);
  await client.send("SET", ["moving", "1"]);
  const reply = await client.send("MIGRATE", [target.host, String(target.port), "moving", "0", "5000"]);
  if (reply !== "OK") throw new Error(`MIGRATE answered ${String(reply)}`);
  client.close();
  await source.close();
  await target.close();
}

const cycles = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), "redbun-cycles-"));
for (let i = 0; i < cycles; i++) {
  const busy = i % 20 === 0;
  if (i % 50 === 25) await replicationCycle();
  if (i % 50 === 40) await migrateCycle();
  const server = await startServer(busy ? { config: { dir, appendonly: "yes", "metrics-port": await freePort() } } : {});
  if (busy) {
    const client = new Bun.RedisClient(server.url);
    await client.send("SET", ["k", String(i)]);
    // A blocked command and a pause arm timers that close() must clear.
    void client.send("BLPOP", ["nothing", "100"]).catch(() => null);
    const other = new Bun.RedisClient(server.url);
    await other.send("CLIENT", ["PAUSE", "100000", "WRITE"]);
    other.close();
    await server.close();
    client.close();
  } else {
    await server.close();
  }
}
rmSync(dir, { recursive: true, force: true });
console.log(`cycles finished: ${cycles}`);
