// Users at work, against the real redis-server: AUTH and HELLO AUTH, NOPERM for commands,
// keys (read and write patterns) and channels, inside MULTI and again at EXEC, ACL LOG
// entries and their grouping, DRYRUN, connections closed by DELUSER and by revoked
// channels, CLIENT LIST user=, CLIENT KILL USER, RESET and requirepass.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, type RespConn, bulkArray } from "../oracle/harness.ts";
import { type Side, onBoth, sameOnBoth } from "../oracle/sides.ts";
import { normalizedLog } from "./normalize.ts";
import { type Reply, decodeReply } from "../oracle/resp.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.both("AUTH", "default", "x");
  await o.same("CONFIG", "SET", "requirepass", "");
  await o.same("CONFIG", "SET", "acllog-max-len", "128");
  const users = bulkArray(await o.same("ACL", "USERS")).filter((u) => u !== "default");
  if (users.length > 0) await o.same("ACL", "DELUSER", ...users);
  await o.same("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*", "+@all");
  await o.same("ACL", "LOG", "RESET");
  await o.same("FLUSHALL");
});

/** ACL LOG on both connections, compared once volatile fields are normalized. */
async function sameLog(...args: string[]): Promise<unknown> {
  const [r, b] = await o.both("ACL", "LOG", ...args);
  const want = normalizedLog(r);
  expect(normalizedLog(b)).toEqual(want);
  return want;
}

/** A connection authenticated as `user` (password "pw"). */
async function as(side: Side, user: string): Promise<RespConn> {
  const conn = await side.connect();
  expect(await conn.call("AUTH", user, "pw")).toBe("+OK\r\n");
  return conn;
}

describe("authentication", () => {
  test("AUTH with a username; wrong passwords, unknown and disabled users fail alike and are logged", async () => {
    await o.same("ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*");
    await o.same("ACL", "SETUSER", "bob", "off", ">pw", "+@all");
    await sameOnBoth(o, async (side) => {
      const c = await side.connect();
      const seen = [];
      for (const args of [["alice", "wrong"], ["nobody", "pw"], ["bob", "pw"], ["alice", "pw"], ["nobody", "pw"]]) {
        seen.push(await c.call("AUTH", ...args));
      }
      seen.push(await c.call("ACL", "WHOAMI"), await c.call("AUTH", "a", "b", "c"), await c.call("AUTH", "pw"));
      return seen;
    });
    // Entries merge: the two attempts as "nobody" are one entry counted twice.
    await sameLog();
  });

  test("AUTH <password> alone authenticates the default user, and needs it to have a password", async () => {
    await o.same("AUTH", "pw");
    await o.same("ACL", "SETUSER", "default", "resetpass", ">pw");
    await sameOnBoth(o, async (side) => {
      const c = await side.connect();
      return [await c.call("GET", "k"), await c.call("AUTH", "no"), await c.call("AUTH", "pw"), await c.call("GET", "k"), await c.call("ACL", "WHOAMI")];
    });
    await o.same("ACL", "SETUSER", "default", "nopass");
  });

  test("HELLO AUTH, and HELLO's NOAUTH when the default user needs a password", async () => {
    await o.same("ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*");
    await o.same("ACL", "SETUSER", "default", "resetpass", ">dpw");
    const normalizeId = (s: string) => s.replace(/\$2\r\nid\r\n:\d+\r\n/, "$2\r\nid\r\n:ID\r\n");
    await sameOnBoth(o, async (side) => {
      const c = await side.connect();
      const seen = [await c.call("HELLO", "3"), await c.call("HELLO", "3", "AUTH", "alice", "bad"), await c.call("PING")];
      seen.push(normalizeId(await c.call("HELLO", "2", "AUTH", "alice", "pw")), await c.call("ACL", "WHOAMI"));
      return seen;
    });
    await o.same("ACL", "SETUSER", "default", "nopass");
    await sameLog();
  });

  test("requirepass is the default user's password; an empty one makes it nopass", async () => {
    await o.same("CONFIG", "SET", "requirepass", "s3cret");
    await o.same("ACL", "LIST");
    await o.same("ACL", "GETUSER", "default");
    await sameOnBoth(o, async (side) => {
      const c = await side.connect();
      return [await c.call("PING"), await c.call("AUTH", "wrong"), await c.call("AUTH", "s3cret"), await c.call("PING")];
    });
    await o.same("CONFIG", "SET", "requirepass", "");
    await o.same("ACL", "LIST");
  });

  test("a connection made while the default user needed no password keeps running; one made after must AUTH", async () => {
    await sameOnBoth(o, async (side) => {
      const early = await side.connect();
      const admin = await side.connect();
      await admin.call("ACL", "SETUSER", "default", "resetpass", ">pw");
      const late = await side.connect();
      const seen = [await early.call("PING"), await late.call("PING"), await late.call("ACL", "WHOAMI")];
      await admin.call("ACL", "SETUSER", "default", "nopass");
      seen.push(await late.call("PING"));
      return seen;
    });
  });

  test("RESET makes the connection the default user again", async () => {
    await o.same("ACL", "SETUSER", "alice", "on", ">pw", "+@all", "~*");
    await o.same("AUTH", "alice", "pw");
    await o.same("ACL", "WHOAMI");
    await o.same("RESET");
    await o.same("ACL", "WHOAMI");
    await o.same("AUTH", "alice", "pw");
    await o.same("ACL", "SETUSER", "default", "resetpass", ">pw");
    await o.same("RESET");
    await o.same("PING");
    await o.same("AUTH", "default", "pw");
    await o.same("ACL", "SETUSER", "default", "nopass");
  });
});

describe("permissions", () => {
  test("NOPERM for commands, subcommands, first arguments; no_auth commands always run", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">pw", "~*", "&*", "+get", "+config|get", "+select|0", "+acl|whoami", "+multi");
    await sameOnBoth(o, async (side) => {
      const c = await as(side, "u");
      const seen = [];
      for (const args of [
        ["GET", "k"], ["SET", "k", "v"], ["CONFIG", "GET", "maxmemory"], ["CONFIG", "SET", "maxmemory", "0"], ["CONFIG", "RESETSTAT"],
        ["SELECT", "0"], ["SELECT", "1"], ["select", "0"], ["ACL", "WHOAMI"], ["ACL", "LIST"], ["PING"], ["NOSUCH"], ["GET"],
        ["HELLO", "2", "AUTH", "u", "pw"], ["CONFIG", "NOSUB"],
      ]) {
        seen.push((await c.call(...args)).replace(/\$2\r\nid\r\n:\d+\r\n/, ""));
      }
      seen.push(await c.call("QUIT"));
      return seen;
    });
    await sameLog();
  });

  test("key patterns: ~ for any access, %R~ for reads, %W~ for writes, by the key specs' flags", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~a*", "%R~r*", "%W~w*", "%RW~rw");
    await sameOnBoth(o, async (side) => {
      const c = await as(side, "u");
      const seen = [];
      for (const args of [
        ["SET", "a1", "v"], ["GET", "a1"], ["GET", "r1"], ["SET", "r1", "v"], ["SET", "w1", "v"], ["GET", "w1"], ["SET", "w1", "v", "GET"],
        ["APPEND", "w1", "x"], ["DEL", "w1"], ["EXISTS", "w1"], ["EXISTS", "zz"], ["COPY", "r1", "w2"], ["COPY", "w1", "r1"], ["COPY", "a1", "w3"],
        ["MSET", "a2", "1", "w4", "2"], ["MSET", "a2", "1", "r4", "2"], ["MGET", "a1", "r1", "zz"], ["LMOVE", "r1", "w1", "LEFT", "RIGHT"],
        ["SORT", "a1", "STORE", "w9"], ["SORT", "r1", "STORE", "r9"], ["SET", "rw", "1"], ["GET", "rw"], ["DBSIZE"], ["FLUSHALL"],
        ["SINTERSTORE", "w5", "r1", "a1"], ["SINTERSTORE", "w5", "r1", "zz"], ["TYPE", "w1"], ["OBJECT", "ENCODING", "w1"],
        ["ZUNIONSTORE", "w6", "2", "r1", "a1"], ["ZUNIONSTORE", "r6", "2", "r1", "a1"], ["ZUNION", "2", "r1", "w1"], ["LMPOP", "2", "a1", "r1", "LEFT"],
        ["SINTERCARD", "2", "r1", "a1"], ["SINTERCARD", "2", "r1", "w1"], ["SORT_RO", "r1"], ["RENAME", "a1", "w7"],
        ["RENAME", "w1", "a7"], ["GETDEL", "r1"], ["GETEX", "r1"], ["EXPIRE", "r1", "10"], ["TTL", "w1"], ["UNLINK", "w1", "a1"], ["WATCH", "r1"],
        ["SMOVE", "r1", "w1", "m"], ["HSET", "w8", "f", "v"], ["HGET", "w8", "f"], ["MSETNX", "w9", "1"], ["DUMP", "r1"], ["TOUCH", "w1"],
      ]) {
        seen.push(await c.call(...args));
      }
      return seen;
    });
    await sameLog("50");
  });

  test("SORT BY and GET patterns need read access to every key", async () => {
    await o.same("RPUSH", "a1", "2", "1");
    await o.same("ACL", "SETUSER", "some", "on", ">pw", "+@all", "~a*");
    await o.same("ACL", "SETUSER", "all", "on", ">pw", "+@all", "%R~*", "~a*");
    await sameOnBoth(o, async (side) => {
      const seen = [];
      for (const user of ["some", "all"]) {
        const c = await as(side, user);
        for (const args of [["SORT", "a1", "BY", "w_*"], ["SORT", "a1", "BY", "nosort"], ["SORT", "a1", "GET", "#"], ["SORT_RO", "a1", "GET", "h_*->f"], ["SORT", "a1", "BY", "x_*", "GET", "#", "STORE", "a2"]]) {
          seen.push(await c.call(...args));
        }
      }
      return seen;
    });
  });

  test("channels: PUBLISH and SUBSCRIBE match patterns, PSUBSCRIBE must name an allowed pattern literally", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*", "resetchannels", "&news.*", "&chat");
    await sameOnBoth(o, async (side) => {
      const c = await as(side, "u");
      const seen = [];
      for (const args of [
        ["PUBLISH", "news.1", "m"], ["PUBLISH", "other", "m"], ["SPUBLISH", "chat", "m"], ["SPUBLISH", "chat2", "m"],
        ["SUBSCRIBE", "news.1", "other"], ["PSUBSCRIBE", "news.*"], ["PSUBSCRIBE", "news.1"], ["PSUBSCRIBE", "chat", "n*"],
        ["SSUBSCRIBE", "chat", "x"], ["UNSUBSCRIBE", "zzz"], ["PUNSUBSCRIBE", "zzz"],
      ]) {
        seen.push(await c.call(...args));
      }
      return seen;
    });
    await sameLog();
  });

  test("selectors: a command runs when the root or any selector allows all of it; the most relevant denial is reported", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">pw", "+get", "~a*", "(+set ~b*)", "(+get +publish ~c* &ch)");
    await sameOnBoth(o, async (side) => {
      const c = await as(side, "u");
      const seen = [];
      for (const args of [
        ["GET", "a1"], ["GET", "b1"], ["GET", "c1"], ["SET", "b1", "v"], ["SET", "a1", "v"], ["SET", "x", "v"], ["PUBLISH", "ch", "m"],
        ["PUBLISH", "no", "m"], ["DEL", "a1"], ["MGET", "a1", "c1"],
      ]) {
        seen.push(await c.call(...args));
      }
      return seen;
    });
    await sameLog();
  });

  test("MULTI: a denied command flags the transaction; EXEC checks again with the rules of that moment", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~a*", "&*");
    await sameOnBoth(o, async (side) => {
      const c = await as(side, "u");
      const admin = await side.connect();
      const seen = [await c.call("MULTI"), await c.call("GET", "a"), await c.call("GET", "b"), await c.call("EXEC")];
      seen.push(await c.call("MULTI"), await c.call("GET", "a1"), await c.call("SET", "a2", "v"), await c.call("PUBLISH", "ch", "m"));
      await admin.call("ACL", "SETUSER", "u", "resetkeys", "~a2", "-get", "resetchannels");
      seen.push(await c.call("EXEC"), await admin.call("GET", "a2"));
      // EXEC itself denied: the transaction is discarded naming the reason.
      seen.push(await c.call("MULTI"), await c.call("SET", "a2", "w"));
      await admin.call("ACL", "SETUSER", "u", "-exec");
      seen.push(await c.call("EXEC"), await c.call("GET", "a2"));
      return seen;
    });
    await sameLog();
  });

  test("DRYRUN tells whether a user could run a command", async () => {
    await o.same("ACL", "SETUSER", "u", "on", "+get", "+publish", "+config|get", "~a*", "&ch");
    for (const args of [
      ["u", "get", "a1"], ["u", "get", "b"], ["u", "set", "a", "b"], ["u", "publish", "ch", "m"], ["u", "publish", "x", "m"],
      ["u", "config", "get", "x"], ["u", "config", "set", "x", "y"], ["u", "config"], ["u", "config", "nosub"], ["u", "nocmd"],
      ["nouser", "get", "a"], ["u", "get"], ["u", "GET", "a1", "extra"], ["default", "flushall"],
    ]) {
      await o.same("ACL", "DRYRUN", ...args);
    }
    // DRYRUN itself logs nothing.
    await sameLog();
  });
});

describe("ACL LOG", () => {
  test("entries merge, count, reset and honour acllog-max-len", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">pw", "+get", "~a*");
    await sameOnBoth(o, async (side) => {
      const c = await as(side, "u");
      for (const key of ["b", "b", "c", "b", "d"]) await c.call("GET", key);
      await c.call("SET", "a", "v");
      await c.call("SET", "a", "v");
      return null;
    });
    await sameLog();
    await sameLog("2");
    await sameLog("0");
    await sameLog("-5");
    await o.same("ACL", "LOG", "x");
    await o.same("CONFIG", "SET", "acllog-max-len", "2");
    await sameOnBoth(o, async (side) => {
      const c = await as(side, "u");
      await c.call("GET", "e");
      return null;
    });
    await sameLog();
    await o.same("ACL", "LOG", "reset");
    await sameLog();
  });
});

describe("connections of changed users", () => {
  test("DELUSER closes the user's connections, its own caller after the reply", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*");
    await sameOnBoth(o, async (side) => {
      const a = await as(side, "u");
      const b = await as(side, "u");
      const other = await side.connect();
      const reply = await a.call("ACL", "DELUSER", "u");
      const aClosed = await a.readUntilClosed();
      const bClosed = await b.readUntilClosed();
      return [reply, aClosed, bClosed, await other.call("PING")];
    });
  });

  test("revoking channels closes the user's subscribers that use them", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*", "resetchannels", "&ch*", "&p*");
    await sameOnBoth(o, async (side) => {
      const sub = await as(side, "u");
      const psub = await as(side, "u");
      const admin = await side.connect();
      const seen = [await sub.call("SUBSCRIBE", "ch1"), await psub.call("PSUBSCRIBE", "p*")];
      // Adding channels keeps everybody; narrowing to what sub uses closes psub only.
      await admin.call("ACL", "SETUSER", "u", "&more");
      await admin.call("ACL", "SETUSER", "u", "resetchannels", "&ch1");
      seen.push(await psub.readUntilClosed(), await admin.call("PUBLISH", "ch1", "m"), await sub.read());
      await admin.call("ACL", "SETUSER", "u", "resetchannels");
      seen.push(await sub.readUntilClosed());
      return seen;
    });
  });

  test("CLIENT LIST shows the user; CLIENT KILL USER closes its connections", async () => {
    await o.same("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*");
    await sameOnBoth(o, async (side) => {
      const a = await as(side, "u");
      const admin = await side.connect();
      const users = (await admin.call("CLIENT", "LIST")).match(/user=\S+/g)!.sort();
      const info = /user=\S+/.exec(await a.call("CLIENT", "INFO"))![0];
      return [users, info, await admin.call("CLIENT", "KILL", "USER", "nope"), await admin.call("CLIENT", "KILL", "USER", "u"), await a.readUntilClosed()];
    });
  });
});

test("a real client (ioredis) authenticates with a username and password", async () => {
  const { default: Redis } = await import("ioredis");
  await o.same("ACL", "SETUSER", "app", "on", ">app-secret", "~app:*", "+@all", "-flushall");
  const client = new Redis({ port: o.redbun.port, username: "app", password: "app-secret", lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    expect(await client.call("ACL", "WHOAMI")).toBe("app");
    expect(await client.set("app:1", "v")).toBe("OK");
    expect(await client.get("app:1")).toBe("v");
    await expect(client.get("other")).rejects.toThrow("NOPERM this user has no permissions to access one of the keys used as arguments");
    await expect(client.flushall()).rejects.toThrow("NOPERM this user has no permissions to run the 'flushall' command");
  } finally {
    client.disconnect();
  }
  const bad = new Redis({ port: o.redbun.port, username: "app", password: "wrong", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const errors: string[] = [];
  bad.on("error", (e: Error) => errors.push(e.message));
  try {
    await bad.connect().catch(() => {});
    expect(errors.join("\n")).toContain("WRONGPASS invalid username-password pair or user is disabled.");
  } finally {
    bad.disconnect();
  }
});

test("passwords never reach the slow log: AUTH, HELLO AUTH and ACL SETUSER arguments are redacted", async () => {
  await o.same("CONFIG", "SET", "slowlog-log-slower-than", "0");
  try {
    await o.same("SLOWLOG", "RESET");
    await o.same("ACL", "SETUSER", "u", "on", ">secret", "+@all", "~*");
    await o.same("AUTH", "u", "secret");
    await o.same("AUTH", "u", "wrong");
    await o.both("HELLO", "2", "AUTH", "u", "secret", "SETNAME", "n");
    await o.same("AUTH", "default", "x");
    const args = async (conn: RespConn) => {
      const entries = decodeReply(await conn.call("SLOWLOG", "GET", "-1")) as Reply[][];
      return entries.map((e) => e[3]);
    };
    const [r, b] = await Promise.all([args(o.r), args(o.b)]);
    expect(b).toEqual(r);
    expect(JSON.stringify(b)).not.toContain("secret");
  } finally {
    await o.same("CONFIG", "SET", "slowlog-log-slower-than", "10000");
    await o.same("CLIENT", "SETNAME", "");
  }
});
