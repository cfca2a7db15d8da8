// MIGRATE against the real thing: the same commands run from a redis-server to another
// redis-server (the oracle), from redbun to a redis-server and from redbun to redbun, and the
// replies, the source's keys and the target's keys must come out the same. A fake target in
// this process checks the bytes sent on the wire, holds replies back (a write while the
// transfer is in flight) or never answers (the read timeout, with redbun serving others).

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RespConn, type ServerProcess, encodeCommand, freePort, replyEnd, startRedbun, startRedis } from "../oracle/harness.ts";

/** A source and the target its MIGRATEs go to. */
interface Pair {
  name: string;
  src: RespConn;
  dst: RespConn;
  dstPort: number;
}

let servers: ServerProcess[] = [];
let conns: RespConn[] = [];
/** redis -> redis first (the expected outcome), then redbun -> redis and redbun -> redbun. */
let pairs: Pair[] = [];
let redisSrc: RespConn;
let redbunSrc: RespConn;
let redbunSrcPort = 0;

/** Directories of the servers: a SYNC makes Redis write an RDB there, which must not land in /tmp. */
const dirs: string[] = [];

function ownDir(): string[] {
  const dir = mkdtempSync(join(tmpdir(), "redbun-migrate-"));
  dirs.push(dir);
  return ["--dir", dir];
}

beforeAll(async () => {
  const flags = ["--enable-debug-command", "yes"];
  const start = (kind: typeof startRedis) => kind([...flags, ...ownDir()]);
  servers = await Promise.all([start(startRedis), start(startRedis), start(startRedis), start(startRedbun), start(startRedbun)]);
  const [, r2, r3, b1, b2] = servers as [ServerProcess, ServerProcess, ServerProcess, ServerProcess, ServerProcess];
  conns = await Promise.all(servers.map((s) => RespConn.connect(s.port)));
  const [c1, c2, c3, cb1, cb2] = conns as [RespConn, RespConn, RespConn, RespConn, RespConn];
  redisSrc = c1;
  redbunSrc = cb1;
  redbunSrcPort = b1.port;
  pairs = [
    { name: "redis -> redis", src: c1, dst: c2, dstPort: r2.port },
    { name: "redbun -> redis", src: cb1, dst: c3, dstPort: r3.port },
    { name: "redbun -> redbun", src: cb1, dst: cb2, dstPort: b2.port },
  ];
});

afterAll(async () => {
  for (const c of conns) c.close();
  await Promise.all(servers.map((s) => s.stop()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await Promise.all(conns.map((c) => c.call("FLUSHALL")));
});

/** Each pair in turn, from empty servers: what `scenario` returned, expected equal to the oracle's. */
async function samePairs<T>(scenario: (p: Pair) => Promise<T>): Promise<T> {
  const results: T[] = [];
  for (const p of pairs) {
    await Promise.all([p.src.call("FLUSHALL"), p.dst.call("FLUSHALL")]);
    results.push(await scenario(p));
  }
  for (let i = 1; i < results.length; i++) expect({ pair: pairs[i]!.name, got: results[i] }).toEqual({ pair: pairs[i]!.name, got: results[0] });
  return results[0]!;
}

/**
 * A key as a server holds it: its value's digest (DUMP would depend on a hash table's order)
 * and its TTL in tens of seconds (-1 none, -2 no key).
 */
async function keyState(conn: RespConn, key: string): Promise<[string, number]> {
  const dump = await conn.call("DEBUG", "DIGEST-VALUE", key);
  const ttl = Number((await conn.call("TTL", key)).slice(1, -2));
  return [dump, ttl < 0 ? ttl : Math.round(ttl / 10)];
}

async function states(conn: RespConn, keys: string[]): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for (const k of keys) out.push(await keyState(conn, k));
  return out;
}

/** Run commands on the source, in order; `$PORT` stands for the pair's target port. */
async function run(p: Pair, commands: string[][]): Promise<string[]> {
  const replies: string[] = [];
  for (const cmd of commands) replies.push(await p.src.call(...cmd.map((a) => (a === "$PORT" ? String(p.dstPort) : a))));
  return replies;
}

/** Replies, then the keys on the source and on the target. */
async function outcome(p: Pair, setup: string[][], commands: string[][], keys: string[]) {
  await run(p, setup);
  const replies = await run(p, commands);
  return { replies, src: await states(p.src, keys), dst: await states(p.dst, keys) };
}

describe("MIGRATE against redis-server", () => {
  test("one key: moved, then NOKEY", async () => {
    const got = await samePairs((p) =>
      outcome(p, [["SET", "k", "hello"]], [["MIGRATE", "127.0.0.1", "$PORT", "k", "0", "5000"], ["MIGRATE", "127.0.0.1", "$PORT", "k", "0", "5000"]], ["k"]),
    );
    expect(got.replies).toEqual(["+OK\r\n", "+NOKEY\r\n"]);
    expect(got.src[0]![1]).toBe(-2);
  });

  test("KEYS form: several keys, a missing one skipped, another database", async () => {
    const got = await samePairs((p) =>
      outcome(
        p,
        [["SET", "a", "1"], ["RPUSH", "b", "x", "y"], ["SADD", "c", "m"]],
        [
          ["MIGRATE", "127.0.0.1", "$PORT", "", "3", "5000", "KEYS", "a", "nosuch", "b", "c"],
          ["MIGRATE", "127.0.0.1", "$PORT", "", "0", "5000", "KEYS", "nosuch"],
          ["MIGRATE", "127.0.0.1", "$PORT", "", "0", "5000", "KEYS"],
          ["MIGRATE", "127.0.0.1", "$PORT", "", "0", "5000"],
        ],
        ["a", "b", "c"],
      ).then(async (r) => ({ ...r, db3: (await p.dst.call("SELECT", "3")) + (await p.dst.call("DBSIZE")) + (await p.dst.call("SELECT", "0")) })),
    );
    expect(got.replies).toEqual(["+OK\r\n", "+NOKEY\r\n", "+NOKEY\r\n", "+NOKEY\r\n"]);
    expect(got.db3).toBe("+OK\r\n:3\r\n+OK\r\n");
  });

  test("COPY keeps the source; REPLACE overwrites, BUSYKEY without it", async () => {
    const got = await samePairs((p) =>
      outcome(
        p,
        [["SET", "k", "v1"]],
        [
          ["MIGRATE", "127.0.0.1", "$PORT", "k", "0", "5000", "COPY"],
          ["SET", "k", "v2"],
          ["MIGRATE", "127.0.0.1", "$PORT", "k", "0", "5000"],
          ["MIGRATE", "127.0.0.1", "$PORT", "k", "0", "5000", "copy", "replace"],
          ["SET", "k", "v3"],
          ["MIGRATE", "127.0.0.1", "$PORT", "", "0", "5000", "REPLACE", "KEYS", "k"],
        ],
        ["k"],
      ),
    );
    expect(got.replies).toEqual([
      "+OK\r\n", "+OK\r\n", "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n",
      "+OK\r\n", "+OK\r\n", "+OK\r\n",
    ]);
  });

  test("a KEYS batch where one key fails: the others move, the error is reported", async () => {
    await samePairs(async (p) => {
      await p.dst.call("SET", "b", "there");
      return outcome(p, [["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]], [["MIGRATE", "127.0.0.1", "$PORT", "", "0", "5000", "KEYS", "a", "b", "c"]], ["a", "b", "c"]);
    });
  });

  test("all types with TTLs, and binary keys and values", async () => {
    const big = Array.from({ length: 300 }, (_, i) => `member-${i}`);
    const binKey = "bin\x00\r\n\xff\x80key";
    const setup = [
      ["SET", "int", "12345"], ["SET", "raw", "x".repeat(100)], ["SET", binKey, "\x00\x01\r\n\xfe"],
      ["RPUSH", "list", "a", "1", "b"], ["RPUSH", "biglist", ...big],
      ["SADD", "intset", "1", "2", "3"], ["SADD", "set", ...big],
      ["HSET", "hash", "f", "v", "g", "1"], ["HSET", "bighash", ...big.flatMap((m) => [m, m])],
      ["ZADD", "zset", "1", "a", "2.5", "b"], ["ZADD", "bigzset", ...big.flatMap((m, i) => [String(i / 3), m])],
      ["EXPIRE", "int", "1000"], ["PEXPIRE", "biglist", "2000000"], ["EXPIRE", "set", "500"], ["EXPIRE", "bigzset", "3000"],
    ];
    const keys = ["int", "raw", binKey, "list", "biglist", "intset", "set", "hash", "bighash", "zset", "bigzset"];
    const got = await samePairs((p) =>
      outcome(p, setup, [["MIGRATE", "127.0.0.1", "$PORT", "", "0", "5000", "KEYS", ...keys], ["DBSIZE"]], keys),
    );
    expect(got.replies).toEqual(["+OK\r\n", ":0\r\n"]);
    expect(got.dst.every(([digest]) => !digest.includes("0000000000000000000000000000000000000000"))).toBe(true);
  });

  test("AUTH and AUTH2 to a password-protected target, over a connection the target closed", async () => {
    const migrate = (...extra: string[]) => ["MIGRATE", "127.0.0.1", "$PORT", "k", "0", "5000", ...extra];
    const got = await samePairs(async (p) => {
      await run(p, [["SET", "k", "v"], migrate("COPY")]);
      // The source's cached connection was authenticated before the password: cut it.
      await p.dst.call("CONFIG", "SET", "requirepass", "secret");
      await p.dst.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
      try {
        return await run(p, [
          migrate("REPLACE"), migrate("REPLACE", "AUTH", "wrong"), migrate("REPLACE", "AUTH2", "default", "wrong"),
          migrate("COPY", "REPLACE", "AUTH", "secret"), migrate("REPLACE"),
          ["SET", "k", "v"], migrate("AUTH2", "default", "secret", "REPLACE"), ["EXISTS", "k"],
        ]);
      } finally {
        await p.dst.call("CONFIG", "SET", "requirepass", "");
      }
    });
    expect(got).toEqual([
      "-ERR Target instance replied with error: NOAUTH Authentication required.\r\n",
      "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n",
      "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n",
      "+OK\r\n", "+OK\r\n", "+OK\r\n", "+OK\r\n", ":0\r\n",
    ]);
  });

  test("unreachable targets: a refused port, an unknown host, a bad database", async () => {
    const dead = String(freePort());
    const got = await samePairs((p) =>
      outcome(
        p,
        [["SET", "k", "v"]],
        [
          ["MIGRATE", "127.0.0.1", dead, "k", "0", "300"],
          ["MIGRATE", "nosuchhost.invalid", "6379", "k", "0", "300"],
          ["MIGRATE", "", "6379", "k", "0", "300"],
          ["MIGRATE", "127.0.0.1", "-5", "k", "0", "300"],
          ["MIGRATE", "127.0.0.1", "$PORT", "k", "99", "300"],
        ],
        ["k"],
      ),
    );
    expect(got.replies).toEqual([
      "-IOERR error or timeout writing to target instance\r\n",
      "-IOERR error or timeout connecting to the client\r\n",
      "-IOERR error or timeout connecting to the client\r\n",
      "-IOERR error or timeout connecting to the client\r\n",
      "-ERR Target instance replied with error: ERR DB index is out of range\r\n",
    ]);
    expect(got.src[0]![1]).toBe(-1);
  });

  test("argument errors, byte for byte", async () => {
    const cases = [
      ["MIGRATE", "h", "1", "k", "0", "10", "AUTH"], ["MIGRATE", "h", "1", "k", "0", "10", "AUTH2", "u"],
      ["MIGRATE", "h", "1", "k", "0", "10", "foo"], ["MIGRATE", "h", "1", "k", "x", "y"], ["MIGRATE", "h", "1", "k", "0", "1.5"],
      ["MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a"], ["MIGRATE", "h", "1", "k", "0", "10", "copy", "KEYS"],
      ["MIGRATE", "h", "1", "k", "0"], ["MIGRATE", "h", "1", "nokey", "0", "10", "COPY", "REPLACE", "AUTH", "p", "AUTH2", "u", "p"],
      ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "AUTH", "KEYS", "a"],
      ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "AUTH2", "KEYS", "KEYS", "x", "y"],
      ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "10", "COPY", "KEYS", "x", "y"],
      ["COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "10", "KEYS", "x"],
      ["COMMAND", "GETKEYSANDFLAGS", "MIGRATE", "h", "1", "k", "0", "10"],
      ["COMMAND", "INFO", "MIGRATE", "RESTORE-ASKING"], ["COMMAND", "DOCS", "MIGRATE", "RESTORE-ASKING"],
    ];
    for (const cmd of cases) expect(await redbunSrc.call(...cmd)).toBe(await redisSrc.call(...cmd));
  });

  test("RESTORE-ASKING restores like RESTORE", async () => {
    await redisSrc.call("SET", "k", "v");
    const payload = await redisSrc.call("DUMP", "k");
    const bytes = payload.slice(payload.indexOf("\r\n") + 2, -2);
    for (const conn of [redisSrc, redbunSrc]) {
      await conn.call("DEL", "k");
      const replies = [
        await conn.call("RESTORE-ASKING", "k", "0", bytes), await conn.call("RESTORE-ASKING", "k", "0", bytes),
        await conn.call("RESTORE-ASKING", "k", "0", bytes, "REPLACE"), await conn.call("GET", "k"),
      ];
      expect(replies).toEqual(["+OK\r\n", "-BUSYKEY Target key name already exists.\r\n", "+OK\r\n", "$1\r\nv\r\n"]);
    }
  });
});

/** A target in this process: records what it receives and answers +OK per command, unless held. */
class FakeTarget {
  private readonly listener: TCPSocketListener<{ buf: Uint8Array }>;
  /** Everything received, as latin1, over all connections. */
  received = "";
  commands = 0;
  connections = 0;
  /** Replies owed while held, and the socket to send them on. */
  private owed = 0;
  private last: Socket<{ buf: Uint8Array }> | null = null;

  constructor(public hold = false) {
    this.listener = Bun.listen<{ buf: Uint8Array }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (s) => {
          s.data = { buf: new Uint8Array(0) };
          this.connections++;
        },
        data: (s, chunk) => this.take(s, chunk),
      },
    });
  }

  get port(): number {
    return this.listener.port;
  }

  private take(s: Socket<{ buf: Uint8Array }>, chunk: Uint8Array): void {
    this.received += Buffer.from(chunk).toString("latin1");
    let buf = Buffer.concat([s.data.buf, chunk]);
    let end: number;
    while (buf.length > 0 && (end = replyEnd(buf, 0)) > 0) {
      buf = buf.subarray(end);
      this.commands++;
      if (this.hold) this.owed++;
      else s.write("+OK\r\n");
    }
    s.data.buf = new Uint8Array(buf);
    this.last = s;
  }

  /** Answer +OK to every command held so far. */
  release(): void {
    this.last?.write("+OK\r\n".repeat(this.owed));
    this.owed = 0;
  }

  async until(commands: number): Promise<void> {
    while (this.commands < commands) await Bun.sleep(2);
  }

  stop(): void {
    this.listener.stop(true);
  }
}

describe("MIGRATE on the wire", () => {
  test("the request is Redis's: SELECT once per connection, RESTORE with TTL and payload, REPLACE", async () => {
    const sent: string[] = [];
    for (const src of [redisSrc, redbunSrc]) {
      const fake = new FakeTarget();
      await src.call("SET", "a", "1");
      await src.call("RPUSH", "b\x00", "x");
      expect(await src.call("MIGRATE", "127.0.0.1", String(fake.port), "", "2", "5000", "KEYS", "a", "b\x00")).toBe("+OK\r\n");
      await src.call("SET", "a", "2");
      expect(await src.call("MIGRATE", "127.0.0.1", String(fake.port), "a", "2", "5000", "REPLACE", "COPY", "AUTH2", "u", "p")).toBe("+OK\r\n");
      expect(fake.connections).toBe(1);
      sent.push(fake.received);
      fake.stop();
    }
    expect(sent[1]).toBe(sent[0]);
    expect(sent[0]).toContain(Buffer.from(encodeCommand(["SELECT", "2"])).toString("latin1"));
  });

  test("a TTL goes as the time left", async () => {
    const fake = new FakeTarget();
    await redbunSrc.call("SET", "k", "v", "PX", "100000");
    await redbunSrc.call("MIGRATE", "127.0.0.1", String(fake.port), "k", "0", "5000");
    const ttl = Number(/\$7\r\nRESTORE\r\n\$1\r\nk\r\n\$\d+\r\n(\d+)\r\n/.exec(fake.received)![1]);
    expect(ttl).toBeGreaterThan(90000);
    expect(ttl).toBeLessThanOrEqual(100000);
    fake.stop();
  });

  test("a target that never answers: the read times out while redbun serves other clients", async () => {
    const fake = new FakeTarget(true);
    const replies: string[] = [];
    for (const src of [redisSrc, redbunSrc]) {
      await src.call("SET", "k", "v");
      const started = Date.now();
      const pending = src.call("MIGRATE", "127.0.0.1", String(fake.port), "k", "0", "400");
      if (src === redbunSrc) {
        const other = await RespConn.connect(redbunSrcPort);
        expect(await other.call("PING")).toBe("+PONG\r\n");
        expect(Date.now() - started).toBeLessThan(300);
        other.close();
      }
      replies.push(await pending);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(await src.call("EXISTS", "k")).toBe(":1\r\n");
    }
    expect(replies).toEqual(["-IOERR error or timeout reading to target instance\r\n", "-IOERR error or timeout reading to target instance\r\n"]);
    fake.stop();
  });

  test("a command on a key in transfer waits for the transfer, as behind Redis's blocking MIGRATE; others go on", async () => {
    const fake = new FakeTarget(true);
    await redbunSrc.call("SET", "a", "1");
    await redbunSrc.call("SET", "b", "1");
    const pending = redbunSrc.call("MIGRATE", "127.0.0.1", String(fake.port), "", "0", "5000", "KEYS", "a", "b");
    await fake.until(3);
    const other = await RespConn.connect(redbunSrcPort);
    const write = other.call("SET", "a", "2");
    const third = await RespConn.connect(redbunSrcPort);
    // Keys the transfer does not hold are served meanwhile.
    expect(await third.call("SET", "c", "3")).toBe("+OK\r\n");
    let written = false;
    void write.then(() => (written = true));
    await Bun.sleep(50);
    expect(written).toBe(false);
    fake.release();
    expect(await pending).toBe("+OK\r\n");
    // The write ran after the move, on a key that was gone: a new one.
    expect(await write).toBe("+OK\r\n");
    expect(await other.call("MGET", "a", "b", "c")).toBe("*3\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n");
    other.close();
    third.close();
    fake.stop();
  });

  test("CLIENT UNBLOCK ends the wait with the read error; the keys stay", async () => {
    const fake = new FakeTarget(true);
    await redbunSrc.call("SET", "k", "v");
    const id = (await redbunSrc.call("CLIENT", "ID")).slice(1, -2);
    const pending = redbunSrc.call("MIGRATE", "127.0.0.1", String(fake.port), "k", "0", "5000");
    await fake.until(2);
    const other = await RespConn.connect(redbunSrcPort);
    expect(await other.call("CLIENT", "UNBLOCK", id)).toBe(":1\r\n");
    expect(await pending).toBe("-IOERR error or timeout reading to target instance\r\n");
    fake.hold = false;
    fake.release();
    // Transfers to one target take turns: this one ends after the abandoned one did, whose
    // late acknowledgement must not have deleted the key.
    expect(await other.call("MIGRATE", "127.0.0.1", String(fake.port), "k", "0", "5000", "COPY")).toBe("+OK\r\n");
    expect(await other.call("EXISTS", "k")).toBe(":1\r\n");
    other.close();
    fake.stop();
  });

  test("inside MULTI/EXEC redbun answers an error and moves nothing", async () => {
    const fake = new FakeTarget();
    await redbunSrc.call("SET", "k", "v");
    await redbunSrc.call("MULTI");
    await redbunSrc.call("MIGRATE", "127.0.0.1", String(fake.port), "k", "0", "5000");
    expect(await redbunSrc.call("EXEC")).toBe("*1\r\n-ERR MIGRATE is not supported inside MULTI/EXEC\r\n");
    expect(await redbunSrc.call("EXISTS", "k")).toBe(":1\r\n");
    expect(fake.commands).toBe(0);
    fake.stop();
  });

  test("the move propagates as DEL of the moved keys", async () => {
    const streams: string[] = [];
    for (const src of [redisSrc, redbunSrc]) {
      const port = src === redisSrc ? servers[0]!.port : redbunSrcPort;
      const fake = new FakeTarget();
      let stream = "";
      const replica = await Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: { data: (_s, d) => void (stream += Buffer.from(d).toString("latin1")) },
      });
      replica.write("SYNC\r\n");
      while (!stream.includes("REDIS")) await Bun.sleep(2);
      await src.call("MSET", "a", "1", "b", "2", "c", "3");
      await src.call("MIGRATE", "127.0.0.1", String(fake.port), "", "0", "5000", "COPY", "KEYS", "c");
      await src.call("MIGRATE", "127.0.0.1", String(fake.port), "", "0", "5000", "KEYS", "a", "nosuch", "b");
      await src.call("SET", "done", "1");
      while (!stream.includes("done")) await Bun.sleep(2);
      streams.push(stream.slice(stream.indexOf("*7\r\n$4\r\nMSET")));
      replica.end();
      fake.stop();
    }
    expect(streams[1]).toBe(streams[0]);
    expect(streams[0]).toContain(Buffer.from(encodeCommand(["DEL", "a", "b"])).toString("latin1"));
  });
});
