// Blocking commands against the real redis-server 7.0: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP
// BZPOPMIN BZPOPMAX BZMPOP. Each scenario runs on both servers at once over its own
// connections, and what every client saw is compared. Nothing sleeps to wait for a
// reply: a scenario waits for replies, or polls INFO until the server shows the client
// blocked, so that the pushes that serve it come after it blocked.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn, encodeCommand } from "../oracle/harness.ts";
import { blockedClients, onBoth, sameOnBoth } from "../oracle/sides.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
});

/** Send a command without waiting for its reply (the client blocks). */
function send(conn: RespConn, ...args: string[]): void {
  conn.write(encodeCommand(args));
}

/** Both servers, one scenario per protocol. */
const PROTOCOLS = [2, 3];

describe("served at once or timing out", () => {
  for (const proto of PROTOCOLS) {
    test(`RESP${proto}: data present, missing keys, wrong types, timeouts`, async () => {
      await sameOnBoth(o, async (side) => {
        const c = await side.connect();
        await c.call("HELLO", String(proto));
        const seen: string[] = [];
        for (const cmd of [
          ["RPUSH", "l1", "a", "b", "c"],
          ["BLPOP", "missing", "l1", "0"],
          ["BRPOP", "l1", "0"],
          ["BLPOP", "missing", "0.01"],
          ["BRPOP", "missing", "0.01"],
          ["BLMOVE", "missing", "dst", "LEFT", "RIGHT", "0.01"],
          ["BRPOPLPUSH", "missing", "dst", "0.01"],
          ["BLMOVE", "l1", "dst", "LEFT", "RIGHT", "0"],
          ["BLMPOP", "0.01", "1", "missing", "LEFT"],
          ["RPUSH", "l2", "1", "2", "3", "4"],
          ["BLMPOP", "0", "2", "missing", "l2", "RIGHT", "COUNT", "3"],
          ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
          ["BZPOPMIN", "missing", "z", "0"],
          ["BZPOPMAX", "z", "0"],
          ["BZPOPMIN", "missing", "0.01"],
          ["BZMPOP", "0.01", "1", "missing", "MIN"],
          ["ZADD", "z", "5", "x", "6", "y"],
          ["BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"],
          ["SET", "s", "v"],
          ["BLPOP", "s", "0"],
          ["BZPOPMIN", "s", "0"],
          ["BLMPOP", "0", "1", "s", "LEFT"],
          ["BZMPOP", "0", "1", "s", "MIN"],
          ["BLMOVE", "l2", "s", "LEFT", "LEFT", "0"],
          ["LRANGE", "l2", "0", "-1"],
        ]) {
          seen.push(await c.call(...cmd));
        }
        return seen;
      });
    });
  }

  test("argument errors", async () => {
    for (const cmd of [
      ["BLPOP", "k", "abc"],
      ["BLPOP", "k", "-1"],
      ["BLPOP", "k", "inf"],
      ["BLPOP", "k", "1e400"],
      ["BRPOP", "k", ""],
      ["BLMOVE", "a", "b", "UP", "LEFT", "0"],
      ["BLMOVE", "a", "b", "LEFT", "RIGHT", "x"],
      ["BLMPOP", "0", "0", "k", "LEFT"],
      ["BLMPOP", "0", "1", "k", "MIDDLE"],
      ["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "0"],
      ["BLMPOP", "0", "2", "k"],
      ["BLMPOP", "-1", "1", "k", "LEFT"],
      ["BZPOPMIN", "k", "nan"],
      ["BZMPOP", "0", "1", "k", "UP"],
      ["BZMPOP", "0", "1", "k", "MIN", "COUNT", "-1"],
      ["BZMPOP", "x", "1", "k", "MIN"],
      ["BLPOP", "k"],
    ]) {
      await o.same(...cmd);
    }
  });
});

describe("woken by writes", () => {
  test("a push serves the client that blocked first; each push serves one", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a, b] = [await side.connect(), await side.connect(), await side.connect()];
      send(a, "BLPOP", "k", "0");
      await blockedClients(admin, 1);
      send(b, "BLPOP", "k", "0");
      await blockedClients(admin, 2);
      const pushed = await admin.call("RPUSH", "k", "one");
      const first = await a.read();
      await blockedClients(admin, 1);
      const pushed2 = await admin.call("RPUSH", "k", "two", "three");
      const second = await b.read();
      return [pushed, first, pushed2, second, await admin.call("LRANGE", "k", "0", "-1")];
    });
  });

  test("several keys: the one written serves, the client leaves every queue", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a, b] = [await side.connect(), await side.connect(), await side.connect()];
      send(a, "BRPOP", "k1", "k2", "k3", "0");
      send(b, "BLPOP", "k3", "k1", "0");
      await blockedClients(admin, 2);
      await admin.call("RPUSH", "k3", "x");
      const got = [await a.read()];
      await admin.call("LPUSH", "k1", "y");
      got.push(await b.read());
      got.push(await admin.call("EXISTS", "k1", "k2", "k3"));
      return got;
    });
  });

  test("a push of several elements in one command serves several clients in order", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a, b, c] = [await side.connect(), await side.connect(), await side.connect(), await side.connect()];
      send(a, "BLPOP", "k", "0");
      await blockedClients(admin, 1);
      send(b, "BRPOP", "k", "0");
      await blockedClients(admin, 2);
      send(c, "BLMPOP", "0", "1", "k", "LEFT", "COUNT", "5");
      await blockedClients(admin, 3);
      await admin.call("RPUSH", "k", "1", "2", "3", "4", "5", "6");
      return [await a.read(), await b.read(), await c.read(), await admin.call("EXISTS", "k")];
    });
  });

  test("BLMOVE chains: the moved element serves the next client", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a, b, c] = [await side.connect(), await side.connect(), await side.connect(), await side.connect()];
      send(a, "BLMOVE", "src", "mid", "RIGHT", "LEFT", "0");
      await blockedClients(admin, 1);
      send(b, "BRPOPLPUSH", "mid", "dst", "0");
      await blockedClients(admin, 2);
      send(c, "BLPOP", "dst", "0");
      await blockedClients(admin, 3);
      await admin.call("RPUSH", "src", "x", "y");
      return [await a.read(), await b.read(), await c.read(), await admin.call("LRANGE", "src", "0", "-1"), await admin.call("EXISTS", "mid", "dst")];
    });
  });

  test("a key of the wrong type keeps the client waiting; the right type serves it", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a, z] = [await side.connect(), await side.connect(), await side.connect()];
      send(a, "BLPOP", "k", "0");
      send(z, "BZPOPMIN", "k", "0");
      await blockedClients(admin, 2);
      await admin.call("SET", "k", "str");
      await admin.call("DEL", "k");
      await admin.call("ZADD", "k", "1", "m");
      const zgot = await z.read();
      await blockedClients(admin, 1);
      await admin.call("RPUSH", "k", "v");
      return [zgot, await a.read()];
    });
  });

  test("pushes inside one command sequence, RENAME, MOVE target and SWAPDB serve too", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a, b, c] = [await side.connect(), await side.connect(), await side.connect(), await side.connect()];
      send(a, "BLPOP", "renamed", "0");
      await blockedClients(admin, 1);
      await admin.call("RPUSH", "tmp", "r");
      await admin.call("RENAME", "tmp", "renamed");
      const got = [await a.read()];
      await b.call("SELECT", "1");
      send(b, "BLPOP", "moved", "0");
      await blockedClients(admin, 1);
      await admin.call("RPUSH", "moved", "m");
      await admin.call("MOVE", "moved", "1");
      got.push(await b.read());
      await c.call("SELECT", "2");
      send(c, "BZPOPMAX", "swapped", "0");
      await blockedClients(admin, 1);
      await admin.call("SELECT", "3");
      await admin.call("ZADD", "swapped", "7", "s");
      await admin.call("SWAPDB", "2", "3");
      got.push(await c.read());
      return got;
    });
  });

  test("commands pipelined behind a blocking command run after it is served", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a] = [await side.connect(), await side.connect()];
      a.write(Buffer.concat([encodeCommand(["BLPOP", "k", "0"]), encodeCommand(["LLEN", "k"]), encodeCommand(["PING"])]));
      await blockedClients(admin, 1);
      await admin.call("RPUSH", "k", "a", "b");
      return [await a.readReplies(3)];
    });
  });
});

describe("ending a wait", () => {
  test("timeouts reply nil after roughly the time asked, with sub-second precision", async () => {
    const [redisMs, redbunMs] = await onBoth(o, async (side) => {
      const c = await side.connect();
      const t0 = performance.now();
      const reply = await c.call("BLPOP", "k", "0.2");
      expect(reply).toBe("*-1\r\n");
      return performance.now() - t0;
    });
    for (const ms of [redisMs, redbunMs]) {
      expect(ms).toBeGreaterThanOrEqual(190);
      expect(ms).toBeLessThan(1500);
    }
  });

  test("a timeout longer than a timer can wait (about 24.8 days) still waits", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a] = [await side.connect(), await side.connect()];
      send(a, "BLPOP", "k", "3000000");
      await blockedClients(admin, 1);
      // A wait cut short would have replied nil by now; it is still blocked and a push serves it.
      const info = (await admin.call("INFO", "clients")).match(/blocked_clients:\d+/)![0];
      await admin.call("RPUSH", "k", "v");
      return [info, await a.read()];
    });
  });

  test("CLIENT UNBLOCK with TIMEOUT and ERROR, and INFO while blocked", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a, b] = [await side.connect(), await side.connect(), await side.connect()];
      const aid = (await a.call("CLIENT", "ID")).slice(1).trim();
      const bid = (await b.call("CLIENT", "ID")).slice(1).trim();
      send(a, "BLPOP", "k", "0");
      send(b, "BZPOPMIN", "z", "100");
      await blockedClients(admin, 2);
      const info = await admin.call("INFO", "clients");
      const fields = info.split("\r\n").filter((l) => l.startsWith("blocked_clients") || l.startsWith("clients_in_timeout_table"));
      // The line without the bulk length, ids, addresses and memory figures, which differ.
      const line = (await admin.call("CLIENT", "LIST", "ID", aid)).split("\r\n")[1]!;
      const list = line.replace(/(^| )(id|addr|laddr|fd|age|idle|qbuf-free|tot-mem|rbs|rbp)=\S*/g, "");
      const unblocked = [await admin.call("CLIENT", "UNBLOCK", aid), await a.read()];
      unblocked.push(await admin.call("CLIENT", "UNBLOCK", bid, "ERROR"), await b.read());
      unblocked.push(await admin.call("CLIENT", "UNBLOCK", aid), await admin.call("CLIENT", "UNBLOCK", "99999"));
      await blockedClients(admin, 0);
      return [fields, list, unblocked];
    });
  });

  test("a blocked client that disconnects leaves no trace", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a, b] = [await side.connect(), await side.connect(), await side.connect()];
      send(a, "BLPOP", "k", "0");
      await blockedClients(admin, 1);
      send(b, "BRPOP", "k", "0");
      await blockedClients(admin, 2);
      a.close();
      await blockedClients(admin, 1);
      await admin.call("RPUSH", "k", "x", "y");
      return [await b.read(), await admin.call("LRANGE", "k", "0", "-1")];
    });
  });

  test("commandstats count a blocking command once, when it blocks", async () => {
    await sameOnBoth(o, async (side) => {
      const [admin, a] = [await side.connect(), await side.connect()];
      await admin.call("CONFIG", "RESETSTAT");
      send(a, "BLPOP", "k", "0");
      await blockedClients(admin, 1);
      const during = (await admin.call("INFO", "commandstats")).match(/cmdstat_blpop:calls=\d+/g);
      await admin.call("RPUSH", "k", "v");
      await a.read();
      await a.call("BLPOP", "k", "0.01");
      const after = (await admin.call("INFO", "commandstats")).match(/cmdstat_blpop:calls=\d+/g);
      return [during, after];
    });
  });
});

