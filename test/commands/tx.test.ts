// Transactions against the real redis-server 7.0: MULTI EXEC DISCARD WATCH UNWATCH. One
// connection's sequences are compared reply for reply; WATCH scenarios run on both servers
// at once with a second client touching the watched keys in every way Redis counts as a
// change (and some it does not), and what each client saw is compared.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn, encodeCommand } from "../oracle/harness.ts";
import { type Side, blockedClients, sameOnBoth } from "../oracle/sides.ts";
import { dumpPayload } from "../oracle/dump.ts";

let o: Oracle;
let r3: RespConn;
let b3: RespConn;
/** A DUMP payload of the string "v", made by Redis, for RESTORE. */
let dumpOfV = "";
/** Stands for dumpOfV in the scenarios' commands, which are written before it exists. */
const DUMP_OF_V = "<dump of v>";
beforeAll(async () => {
  o = await Oracle.start();
  [r3, b3] = await o.connectResp3();
  await o.r.call("SET", "src", "v");
  dumpOfV = Buffer.from(dumpPayload(await o.r.call("DUMP", "src"))!).toString("latin1");
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
});

/** Run the commands on both connections of a protocol and compare every reply. */
async function sameSequence(commands: string[][], resp3 = false): Promise<void> {
  for (const cmd of commands) {
    const [want, got] = resp3 ? await Promise.all([r3.call(...cmd), b3.call(...cmd)]) : await o.both(...cmd);
    if (want !== got) throw new Error(`reply differs for ${JSON.stringify(cmd)} (RESP${resp3 ? 3 : 2})\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
  }
}

describe("one connection", () => {
  for (const resp3 of [false, true]) {
    const proto = resp3 ? "RESP3" : "RESP2";
    test(`${proto}: queueing, replies in one array, runtime errors inside, nesting and misuse`, async () => {
      await sameSequence(
        [
          ["MULTI"], ["SET", "a", "1"], ["GET", "a"], ["INCR", "a"], ["LPUSH", "a", "x"], ["HGETALL", "nothing"], ["EXEC"],
          ["EXEC"], ["DISCARD"], ["UNWATCH"],
          ["MULTI"], ["MULTI"], ["WATCH", "a"], ["PING"], ["EXEC"],
          ["MULTI"], ["EXEC"],
          ["MULTI"], ["SET", "b", "1"], ["DISCARD"], ["GET", "b"],
          ["MULTI"], ["SELECT", "2"], ["SET", "in2", "v"], ["SELECT", "0"], ["EXEC"], ["GET", "in2"],
          ["MULTI"], ["SELECT", "2"], ["EXEC"], ["GET", "in2"], ["SELECT", "0"],
          ["MULTI"], ["ZADD", "z", "1", "m"], ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["HSET", "h", "f", "v"], ["HGETALL", "h"], ["EXEC"],
        ],
        resp3,
      );
    });

    test(`${proto}: refused while queueing means EXECABORT; a refused EXEC names its reason`, async () => {
      await sameSequence(
        [
          ["MULTI"], ["SET", "a", "1"], ["NOSUCHCOMMAND", "x"], ["SET", "b", "2"], ["EXEC"], ["GET", "a"],
          ["MULTI"], ["SET", "a"], ["EXEC"],
          ["MULTI"], ["CONFIG", "NOSUCH"], ["EXEC"],
          ["MULTI"], ["SAVE"], ["EXEC"],
          ["MULTI"], ["EXEC", "extra"], ["EXEC"],
          ["EXEC", "extra"],
          ["MULTI"], ["DISCARD", "extra"], ["EXEC"],
          ["MULTI"], ["MULTI", "extra"], ["SET", "c", "3"], ["EXEC"], ["GET", "c"],
        ],
        resp3,
      );
    });

    test(`${proto}: blocking commands inside EXEC answer at once as timed out`, async () => {
      await sameSequence(
        [
          ["RPUSH", "l", "a"],
          ["MULTI"], ["BLPOP", "l", "0"], ["BLPOP", "l", "0"], ["BRPOP", "none", "0"], ["BLMOVE", "none", "d", "LEFT", "RIGHT", "0"],
          ["BRPOPLPUSH", "none", "d", "0"], ["BLMPOP", "0", "1", "none", "LEFT"], ["BZPOPMIN", "none", "0"], ["BZMPOP", "0", "1", "none", "MIN"],
          ["EXEC"],
        ],
        resp3,
      );
    });
  }

  test("CLIENT LIST shows the queue length and the x and d flags", async () => {
    const [r, b] = await o.connectBoth();
    const fields = (line: string) => line.match(/ (flags=\S+) .* (multi=\S+) /)!.slice(1);
    for (const conn of [r, b]) {
      await conn.call("WATCH", "k");
      await conn.call("MULTI");
      await conn.call("SET", "k", "v");
      await conn.call("GET", "k");
    }
    const [want, got] = await Promise.all([r.call("CLIENT", "INFO"), b.call("CLIENT", "INFO")]);
    // CLIENT INFO inside MULTI is queued too: both answer QUEUED.
    expect(got).toBe(want);
    for (const conn of [r, b]) await conn.call("EXEC");
    await o.same("SET", "k", "changed");
    const infos: string[][] = [];
    for (const conn of [r, b]) {
      await conn.call("WATCH", "k");
      await o.r.call("SET", "k", "again");
      await o.b.call("SET", "k", "again");
      await conn.call("MULTI");
      await conn.call("SET", "x", "1");
      infos.push(fields((await conn.call("EXEC")) + (await conn.call("CLIENT", "INFO"))));
    }
    expect(infos[1]).toEqual(infos[0]!);
    r.close();
    b.close();
  });
});

/** WATCH k on a second client, run `touch` on the first, then MULTI/SET/EXEC on the watcher. */
async function watchScenario(side: Side, setup: string[][], touch: string[][], watchDb = "0"): Promise<string[]> {
  const main = await side.connect();
  const watcher = await side.connect();
  const seen: string[] = [];
  await main.call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
  for (const cmd of setup) seen.push(await main.call(...cmd));
  await watcher.call("SELECT", watchDb);
  seen.push(await watcher.call("WATCH", "k", "k2"));
  for (const cmd of touch) seen.push(await main.call(...cmd.map((a) => (a === DUMP_OF_V ? dumpOfV : a))));
  seen.push(await watcher.call("MULTI"));
  seen.push(await watcher.call("SET", "after", "1"));
  seen.push(await watcher.call("EXEC"));
  seen.push(await main.call("DEBUG", "SET-ACTIVE-EXPIRE", "1"));
  return seen;
}

describe("WATCH: what counts as a change", () => {
  const cases: [string, string[][], string[][], string?][] = [
    ["SET of the watched key", [], [["SET", "k", "v"]]],
    ["a write to another key", [], [["SET", "other", "v"]]],
    ["the same key in another database", [], [["SELECT", "1"], ["SET", "k", "v"], ["SELECT", "0"]]],
    ["DEL of a missing key changes nothing", [], [["DEL", "k"]]],
    ["DEL of the key", [["SET", "k", "v"]], [["DEL", "k"]]],
    ["SADD of a member already there changes nothing", [["SADD", "k", "m"]], [["SADD", "k", "m"]]],
    ["SADD of a new member", [["SADD", "k", "m"]], [["SADD", "k", "n"]]],
    ["LPUSH, LPOP to empty", [["RPUSH", "k", "a"]], [["LPOP", "k"]]],
    ["EXPIRE", [["SET", "k", "v"]], [["EXPIRE", "k", "100"]]],
    ["PERSIST of a key without TTL changes nothing", [["SET", "k", "v"]], [["PERSIST", "k"]]],
    ["EXPIRE in the past deletes", [["SET", "k", "v"]], [["EXPIRE", "k", "-1"]]],
    ["RENAME into the key", [["SET", "src", "v"]], [["RENAME", "src", "k"]]],
    ["RENAME away from the key", [["SET", "k", "v"]], [["RENAME", "k", "dst"]]],
    ["MOVE away", [["SET", "k", "v"]], [["MOVE", "k", "1"]]],
    ["MOVE into the watched database", [["SELECT", "1"], ["SET", "k", "v"]], [["MOVE", "k", "0"], ["SELECT", "0"]]],
    ["COPY onto the key", [["SET", "src", "v"]], [["COPY", "src", "k"]]],
    ["FLUSHDB with the key present", [["SET", "k", "v"]], [["FLUSHDB"]]],
    ["FLUSHDB without the key", [["SET", "other", "v"]], [["FLUSHDB"]]],
    ["FLUSHALL with the key present", [["SET", "k", "v"]], [["FLUSHALL"]]],
    ["FLUSHALL on another database's key", [["SELECT", "3"], ["SET", "k", "v"], ["SELECT", "0"]], [["FLUSHALL"]]],
    ["SWAPDB bringing the key in", [["SELECT", "1"], ["SET", "k", "v"], ["SELECT", "0"]], [["SWAPDB", "0", "1"]]],
    ["SWAPDB taking the key away", [["SET", "k", "v"]], [["SWAPDB", "0", "1"]]],
    ["SWAPDB of two databases without the key", [["SET", "x", "v"]], [["SWAPDB", "0", "1"]]],
    ["SWAPDB of other databases", [["SET", "k", "v"]], [["SWAPDB", "1", "2"]]],
    ["INCR of the second watched key", [], [["INCR", "k2"]]],
    ["RESTORE onto the key", [["SET", "src", "v"]], [["RESTORE", "k", "0", DUMP_OF_V, "REPLACE"]]],
    ["DEBUG SET-ACTIVE-EXPIRE and a read change nothing", [["SET", "k", "v"]], [["GET", "k"], ["EXISTS", "k"]]],
  ];
  for (const [name, setup, touch, db] of cases) {
    test(name, async () => {
      await sameOnBoth(o, (side) => watchScenario(side, setup, touch, db));
    });
  }

  /**
   * A key living 25 ms, watched before or after its time passed, `after` run by another
   * client once it has passed, then the watcher's transaction.
   */
  async function expiryScenario(watchFirst: boolean, after: string[][]): Promise<void> {
    await o.same("FLUSHALL");
    await sameOnBoth(o, async (side) => {
      const main = await side.connect();
      const watcher = await side.connect();
      const seen: string[] = [];
      seen.push(await main.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"));
      seen.push(await main.call("SET", "k", "v", "PX", "25"));
      if (watchFirst) seen.push(await watcher.call("WATCH", "k"));
      await Bun.sleep(50);
      if (!watchFirst) seen.push(await watcher.call("WATCH", "k"));
      for (const cmd of after) seen.push(await main.call(...cmd));
      seen.push(await watcher.call("MULTI"), await watcher.call("GET", "k"), await watcher.call("EXEC"));
      seen.push(await main.call("DEBUG", "SET-ACTIVE-EXPIRE", "1"));
      return seen;
    });
  }

  test("a key whose time passes between WATCH and EXEC fails EXEC, read or not", async () => {
    for (const after of [[], [["GET", "k"]]]) await expiryScenario(true, after);
  });

  test("a key already expired when watched: its deletion is no change, its re-creation is not seen either", async () => {
    for (const after of [[["GET", "k"]], [["SET", "k", "new"]], [["GET", "k"], ["SET", "k", "new"]], [["FLUSHDB"]]]) {
      await expiryScenario(false, after);
    }
  });

  test("the watcher's own write before MULTI, UNWATCH, DISCARD, and re-watching after a failed EXEC", async () => {
    await sameOnBoth(o, async (side) => {
      const c = await side.connect();
      const other = await side.connect();
      const seen: string[] = [];
      for (const cmd of [
        ["WATCH", "k"], ["SET", "k", "mine"], ["MULTI"], ["GET", "k"], ["EXEC"],
        ["WATCH", "k"], ["MULTI"], ["SET", "k", "in-tx"], ["EXEC"],
        ["WATCH", "k"], ["UNWATCH"], ["SET", "k", "x"], ["MULTI"], ["GET", "k"], ["EXEC"],
        ["WATCH", "k"], ["MULTI"], ["DISCARD"],
      ]) seen.push(await c.call(...cmd));
      seen.push(await other.call("SET", "k", "other"));
      seen.push(await c.call("MULTI"), await c.call("GET", "k"), await c.call("EXEC"));
      // A dirty client stays dirty whatever else it watches, until EXEC, DISCARD or UNWATCH.
      seen.push(await c.call("WATCH", "k"));
      seen.push(await other.call("SET", "k", "again"));
      seen.push(await c.call("WATCH", "z"), await c.call("MULTI"), await c.call("EXEC"));
      seen.push(await c.call("WATCH", "k"), await c.call("MULTI"), await c.call("EXEC"));
      return seen;
    });
  });

  test("a blocked client served by a push touches the key its pop changed", async () => {
    await sameOnBoth(o, async (side) => {
      const main = await side.connect();
      const watcher = await side.connect();
      const blocked = await side.connect();
      const seen: string[] = [];
      seen.push(await watcher.call("WATCH", "k"));
      blocked.write(encodeCommand(["BLPOP", "k", "0"]));
      await blockedClients(main, 1);
      seen.push(await main.call("LPUSH", "k", "a"));
      seen.push(await blocked.read());
      seen.push(await main.call("EXISTS", "k"));
      seen.push(await watcher.call("MULTI"), await watcher.call("SET", "x", "1"), await watcher.call("EXEC"));
      return seen;
    });
  });

  test("clients blocked on keys pushed inside EXEC are served once the transaction ends", async () => {
    await sameOnBoth(o, async (side) => {
      const main = await side.connect();
      const blocked1 = await side.connect();
      const blocked2 = await side.connect();
      const seen: string[] = [];
      blocked1.write(encodeCommand(["BLPOP", "l", "0"]));
      await blockedClients(main, 1);
      blocked2.write(encodeCommand(["BRPOP", "l", "0"]));
      await blockedClients(main, 2);
      for (const cmd of [["MULTI"], ["LPUSH", "l", "a"], ["LPUSH", "l", "b"], ["RPUSH", "l", "c"], ["LRANGE", "l", "0", "-1"], ["EXEC"]]) {
        seen.push(await main.call(...cmd));
      }
      seen.push(await blocked1.read(), await blocked2.read());
      seen.push(await main.call("LRANGE", "l", "0", "-1"));
      return seen;
    });
  });
});


test("CLIENT INFO run by EXEC shows cmd=exec, as Redis's lastcmd; queued commands show their own", async () => {
  await sameOnBoth(o, async (side: Side) => {
    const c = await side.connect();
    const fields: string[] = [];
    await c.call("MULTI");
    await c.call("CLIENT", "INFO");
    await c.call("SET", "a", "b");
    await c.call("CLIENT", "INFO");
    for (const info of (await c.call("EXEC")).match(/cmd=\S+/g) ?? []) fields.push(info);
    fields.push(/cmd=\S+/.exec(await c.call("CLIENT", "INFO"))![0]);
    // Seen from another connection, a client in MULTI shows the last command it queued.
    await c.call("MULTI");
    await c.call("GET", "a");
    const other = await side.connect();
    const line = (await other.call("CLIENT", "LIST")).split("\n").find((l) => l.includes("flags=x"));
    fields.push(/cmd=\S+/.exec(line ?? "")?.[0] ?? "none");
    await c.call("DISCARD");
    return fields;
  });
});
