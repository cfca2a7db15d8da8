// Connection commands against the real redis-server: PING ECHO QUIT SELECT SWAPDB HELLO
// RESET AUTH and CLIENT. Replies are compared byte for byte; where they must differ (the
// connection id in HELLO, addresses, ages and buffer sizes in CLIENT LIST) the differing
// values are checked for shape and the rest of the reply byte for byte.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Oracle, RespConn, encodeCommand } from "../oracle/harness.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.both("HELLO", "2");
  await o.same("SELECT", "0");
  await o.same("FLUSHALL");
  await o.same("CLIENT", "SETNAME", "");
});

/** Replace the connection id in a HELLO reply, after checking it is the connection's own. */
async function helloWithoutId(conn: RespConn, reply: string): Promise<string> {
  const id = /\$2\r\nid\r\n:(\d+)\r\n/.exec(reply);
  if (id === null) return reply;
  expect(await conn.call("CLIENT", "ID")).toBe(`:${id[1]}\r\n`);
  return reply.replace(id[0], "$2\r\nid\r\n:ID\r\n");
}

/** HELLO on both connections: identical but for the connection id. */
async function sameHello(...args: string[]): Promise<string> {
  const [want, got] = await o.both("HELLO", ...args);
  const normalized = await helloWithoutId(o.r, want);
  expect(await helloWithoutId(o.b, got)).toBe(normalized);
  return normalized;
}

/** The text of a CLIENT LIST / CLIENT INFO reply, checking its framing (bulk or verbatim). */
function clientText(reply: string): string {
  const m = /^([$=])(\d+)\r\n/.exec(reply)!;
  const body = reply.slice(m[0].length, reply.length - 2);
  expect(Buffer.byteLength(body, "latin1")).toBe(Number(m[2]));
  return m[1] === "=" ? body.slice(4) : body;
}

/** One CLIENT LIST line as [field, value] pairs, in order. */
function fields(line: string): [string, string][] {
  return line.split(" ").map((kv) => {
    const eq = kv.indexOf("=");
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

/** Fields whose values depend on the server's buffers, clock, sockets or ids. */
const VARIABLE_FIELDS = new Set(["id", "addr", "laddr", "fd", "age", "idle", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "oll", "omem", "tot-mem", "events"]);

/** A CLIENT LIST line with its variable values checked for shape and replaced by their names. */
function normalizedLine(line: string): string {
  return fields(line)
    .map(([k, v]) => {
      if (!VARIABLE_FIELDS.has(k)) return `${k}=${v}`;
      if (k === "addr" || k === "laddr") expect(v).toMatch(/^127\.0\.0\.1:\d+$/);
      else if (k === "events") expect(v).toMatch(/^r?w?$/);
      else expect(v).toMatch(/^\d+$/);
      return `${k}=<${k}>`;
    })
    .join(" ");
}

function field(line: string, name: string): string {
  return fields(line).find(([k]) => k === name)![1];
}

describe("PING ECHO QUIT SELECT", () => {
  test("PING and ECHO", async () => {
    expect(await o.same("PING")).toBe("+PONG\r\n");
    await o.same("ping", "hello");
    await o.same("PING", "a", "b");
    await o.same("ECHO", "\xff\x00binary");
    await o.same("ECHO");
    await o.same("ECHO", "a", "b");
  });

  test("PING and ECHO in RESP3", async () => {
    await sameHello("3");
    await o.sameAll([["PING"], ["PING", "x"], ["PING", ""], ["ECHO", "y"]]);
  });

  test("SELECT", async () => {
    await o.sameAll([
      ["SELECT", "1"], ["SELECT", "16"], ["SELECT", "-1"], ["SELECT", "x"], ["SELECT", "01"], ["SELECT", "0"],
      ["SELECT", "99999999999"], ["SELECT", "2147483648"], ["SELECT", "-2147483649"], ["SELECT", "1", "2"],
      ["SELECT", "15"], ["SET", "k", "v"], ["SELECT", "0"], ["GET", "k"], ["SELECT", "15"], ["GET", "k"],
    ]);
  });

  test("QUIT replies OK and closes, ignoring what follows", async () => {
    const [r, b] = await o.connectBoth();
    for (const conn of [r, b]) conn.write(Buffer.concat([encodeCommand(["QUIT", "x"]), encodeCommand(["PING"])]));
    expect(await b.readUntilClosed()).toBe(await r.readUntilClosed());
  });

  test("unknown commands", async () => {
    await o.same("FOO");
    await o.same("foo", "bar", "baz");
    await o.same("foo", "x".repeat(200), "y");
    await o.same("foo", "a\x00b", "c");
  });
});

describe("SWAPDB", () => {
  test("errors", async () => {
    await o.sameAll([
      ["SWAPDB"], ["SWAPDB", "0"], ["SWAPDB", "0", "x"], ["SWAPDB", "x", "0"], ["SWAPDB", "16", "x"],
      ["SWAPDB", "0", "16"], ["SWAPDB", "-1", "0"], ["SWAPDB", "0", "2147483648"], ["SWAPDB", "0", "0"],
      ["SWAPDB", "0", "1", "2"],
    ]);
  });

  test("clients that selected either database see the other's keys, expiries included", async () => {
    const [r1, b1] = await o.connectBoth();
    for (const conn of [r1, b1]) await conn.call("SELECT", "1");
    await o.sameAll([["SET", "in0", "a"], ["SET", "ttl0", "b", "EX", "100"], ["SELECT", "1"], ["SET", "in1", "c"], ["SELECT", "0"]]);
    await o.same("SWAPDB", "0", "1");
    await o.sameAll([["GET", "in0"], ["GET", "in1"], ["DBSIZE"], ["TTL", "ttl0"]]);
    for (const args of [["GET", "in0"], ["GET", "in1"], ["TTL", "ttl0"], ["DBSIZE"]]) {
      expect(await b1.call(...args)).toBe(await r1.call(...args));
    }
    await o.same("SWAPDB", "1", "0");
    await o.sameAll([["GET", "in0"], ["DBSIZE"]]);
    r1.close();
    b1.close();
  });
});

describe("HELLO", () => {
  test("errors", async () => {
    await o.sameAll([
      ["HELLO", "1"], ["HELLO", "4"], ["HELLO", "-1"], ["HELLO", "x"], ["HELLO", "03"], ["HELLO", "3.0"],
      ["HELLO", "99999999999999999999"], ["HELLO", "3", "foo"], ["HELLO", "2", "AUTH", "a"], ["HELLO", "2", "AUTH"],
      ["HELLO", "2", "SETNAME"], ["HELLO", "2", "setname"], ["HELLO", "2", "foo", "bar"], ["HELLO", "3", "SETNAME", "a b"],
      ["HELLO", "3", "SETNAME", "\xe9"], ["HELLO", "2", "SETNAME", "a", "x"], ["HELLO", "2", "AUTH", "nobody", "x"],
      ["HELLO", "2", "x\x00y"], ["HELLO", "2", "AUTH", "a", "b", "c"], ["HELLO", "2", "AUTH", "default", "x", "c"],
      ["CLIENT", "GETNAME"], ["HELLO", "2", "SETNAME", "kept", "bad"], ["CLIENT", "GETNAME"],
    ]);
  });

  test("replies in the protocol it switches to", async () => {
    expect(await sameHello()).toStartWith("*14\r\n");
    expect(await sameHello("3")).toStartWith("%7\r\n");
    await sameHello();
    await o.same("CLIENT", "GETNAME");
    expect(await sameHello("2")).toStartWith("*14\r\n");
  });

  test("SETNAME and AUTH without a password configured", async () => {
    await sameHello("2", "SETNAME", "n1");
    await o.same("CLIENT", "GETNAME");
    await sameHello("3", "SETNAME", "n2", "SETNAME", "n3");
    await o.same("CLIENT", "GETNAME");
    await sameHello("2", "AUTH", "default", "anything", "SETNAME", "n4");
    await o.same("CLIENT", "GETNAME");
    await sameHello("2", "SETNAME", "");
    await o.same("CLIENT", "GETNAME");
  });
});

describe("AUTH without requirepass", () => {
  test("the one-argument form is refused, the two-argument form takes any password", async () => {
    await o.sameAll([
      ["AUTH"], ["AUTH", "x"], ["AUTH", "default", "x"], ["AUTH", "nobody", "x"], ["AUTH", "a", "b", "c"],
      ["AUTH", "Default", "x"], ["PING"],
    ]);
  });
});

describe("RESET", () => {
  test("database, protocol, name and reply mode go back to a new connection's", async () => {
    await sameHello("3", "SETNAME", "named");
    await o.sameAll([["SELECT", "3"], ["CLIENT", "NO-EVICT", "on"]]);
    await o.sameAll([["RESET"], ["CLIENT", "GETNAME"], ["PING"], ["SET", "k", "v"], ["SELECT", "0"], ["GET", "k"], ["RESET", "x"]]);
    // Redis 7.0 keeps CLIENT NO-EVICT across RESET.
    for (const conn of [o.r, o.b]) expect(field(clientText(await conn.call("CLIENT", "INFO")).trim(), "flags")).toBe("e");
    expect(await sameHello()).toContain(":2\r\n");
    await o.same("CLIENT", "NO-EVICT", "off");
  });

  test("replies even after CLIENT REPLY OFF, but not while skipping", async () => {
    const [r, b] = await o.connectBoth();
    const bytes = Buffer.concat([
      encodeCommand(["CLIENT", "REPLY", "OFF"]), encodeCommand(["RESET"]), encodeCommand(["CLIENT", "REPLY", "SKIP"]),
      encodeCommand(["RESET"]), encodeCommand(["PING", "last"]),
    ]);
    for (const conn of [r, b]) conn.write(bytes);
    for (let i = 0; i < 2; i++) expect(await b.read()).toBe(await r.read());
    r.close();
    b.close();
  });
});

describe("CLIENT", () => {
  test("arguments and errors", async () => {
    await o.sameAll([
      ["CLIENT"], ["CLIENT", "FOO"], ["client", "Id", "x"], ["CLIENT", "HELP"], ["CLIENT", "help", "x"],
      ["CLIENT", "GETNAME", "x"], ["CLIENT", "SETNAME"], ["CLIENT", "SETNAME", "x", "y"], ["CLIENT", "SETNAME", "a b"],
      ["CLIENT", "SETNAME", "a\nb"], ["CLIENT", "SETNAME", "\xe9"], ["CLIENT", "SETNAME", "\x7f"], ["CLIENT", "INFO", "x"],
      ["CLIENT", "REPLY"], ["CLIENT", "REPLY", "maybe"], ["CLIENT", "REPLY", "on", "x"], ["CLIENT", "NO-EVICT", "maybe"],
      ["CLIENT", "NO-EVICT", "ON"], ["CLIENT", "NO-EVICT", "off"], ["CLIENT", "LIST", "foo"], ["CLIENT", "LIST", "TYPE"],
      ["CLIENT", "LIST", "TYPE", "foo"], ["CLIENT", "LIST", "TYPE", "normal", "ID", "3"], ["CLIENT", "LIST", "ID"],
      ["CLIENT", "LIST", "ID", "x"], ["CLIENT", "LIST", "ID", "1", "x"], ["CLIENT", "LIST", "ID", "3", "TYPE", "normal"],
      ["CLIENT", "LIST", "ID", "0"], ["CLIENT", "LIST", "ID", "-5"], ["CLIENT", "LIST", "TYPE", "master"],
      ["CLIENT", "LIST", "TYPE", "replica"], ["CLIENT", "LIST", "TYPE", "slave"], ["CLIENT", "LIST", "TYPE", "pubsub"],
      ["CLIENT", "KILL"], ["CLIENT", "KILL", "1.2.3.4:5"], ["CLIENT", "KILL", "ID"], ["CLIENT", "KILL", "ID", "x"],
      ["CLIENT", "KILL", "ID", "0"], ["CLIENT", "KILL", "ID", "-1"], ["CLIENT", "KILL", "ID", "999999"],
      ["CLIENT", "KILL", "ID", "99999999999999999999"], ["CLIENT", "KILL", "TYPE", "x"], ["CLIENT", "KILL", "TYPE", "master"],
      ["CLIENT", "KILL", "TYPE", "pubsub"], ["CLIENT", "KILL", "USER", "nobody"], ["CLIENT", "KILL", "SKIPME", "maybe"],
      ["CLIENT", "KILL", "foo", "bar"], ["CLIENT", "KILL", "MAXAGE", "10"], ["CLIENT", "KILL", "ID", "1", "ID"],
      ["CLIENT", "KILL", "127.0.0.1:1", "x"], ["CLIENT", "KILL", "ADDR", "1.2.3.4:5", "LADDR", "x"],
      ["CLIENT", "UNBLOCK"], ["CLIENT", "UNBLOCK", "x"], ["CLIENT", "UNBLOCK", "5", "foo"], ["CLIENT", "UNBLOCK", "x", "foo"],
      ["CLIENT", "UNBLOCK", "5", "error", "x"], ["CLIENT", "UNBLOCK", "5"], ["CLIENT", "UNBLOCK", "0", "TIMEOUT"],
      ["CLIENT", "UNBLOCK", "-1", "error"],
    ]);
  });

  test("SETNAME, GETNAME and ID", async () => {
    await o.sameAll([["CLIENT", "GETNAME"], ["CLIENT", "SETNAME", "conn-1!~"], ["CLIENT", "GETNAME"], ["CLIENT", "SETNAME", ""], ["CLIENT", "GETNAME"]]);
    for (const conn of [o.r, o.b]) {
      const id = await conn.call("CLIENT", "ID");
      expect(id).toMatch(/^:\d+\r\n$/);
      expect(field(clientText(await conn.call("CLIENT", "INFO")), "id")).toBe(id.slice(1, -2));
    }
  });

  test("CLIENT INFO and CLIENT LIST: Redis 7.0's fields, in order, in RESP2 and RESP3", async () => {
    await o.same("CLIENT", "SETNAME", "me");
    await o.same("SELECT", "2");
    for (const resp of ["2", "3"]) {
      await sameHello(resp);
      for (const args of [["CLIENT", "INFO"], ["CLIENT", "LIST"], ["CLIENT", "LIST", "TYPE", "NORMAL"]]) {
        const [want, got] = await o.both(...args);
        expect(got[0]).toBe(want[0]);
        const wantLines = clientText(want).split("\n");
        const gotLines = clientText(got).split("\n");
        expect(gotLines.at(-1)).toBe("");
        expect(gotLines.length).toBe(wantLines.length);
        for (let i = 0; i < wantLines.length - 1; i++) expect(normalizedLine(gotLines[i]!)).toBe(normalizedLine(wantLines[i]!));
      }
    }
  });

  test("CLIENT LIST of other connections, by ID", async () => {
    const [r, b] = await o.connectBoth();
    await Promise.all([r.call("CLIENT", "SETNAME", "other"), b.call("CLIENT", "SETNAME", "other")]);
    await Promise.all([r.call("ECHO", "x"), b.call("ECHO", "x")]);
    const ids = await Promise.all([r.call("CLIENT", "ID"), b.call("CLIENT", "ID"), o.r.call("CLIENT", "ID"), o.b.call("CLIENT", "ID")]);
    const [rid, bid, rself, bself] = ids.map((s) => s.slice(1, -2));
    const want = clientText(await o.r.call("CLIENT", "LIST", "ID", rid!, "999999", rself!, rid!)).split("\n");
    const got = clientText(await o.b.call("CLIENT", "LIST", "ID", bid!, "999999", bself!, bid!)).split("\n");
    expect(got.map((l) => (l === "" ? l : normalizedLine(l)))).toEqual(want.map((l) => (l === "" ? l : normalizedLine(l))));
    expect(field(got[0]!, "cmd")).toBe("client|id");
    r.close();
    b.close();
  });

  test("cmd= names the last command dispatched, rejected ones included, NULL after an unknown one", async () => {
    const [r, b] = await o.connectBoth();
    const [rid, bid] = await Promise.all([r.call("CLIENT", "ID"), b.call("CLIENT", "ID")]);
    for (const args of [["PING"], ["NOSUCH"], ["GET"], ["CLIENT", "NOSUCH"], ["CLIENT"], ["CLIENT", "KILL", "x", "y"], ["COMMAND"]]) {
      await Promise.all([r.call(...args), b.call(...args)]);
      const want = clientText(await o.r.call("CLIENT", "LIST", "ID", rid.slice(1, -2)));
      const got = clientText(await o.b.call("CLIENT", "LIST", "ID", bid.slice(1, -2)));
      expect(`${args}: ${field(got, "cmd")}`).toBe(`${args}: ${field(want, "cmd")}`);
    }
    r.close();
    b.close();
  });

  test("NO-EVICT shows as flag e", async () => {
    await o.same("CLIENT", "NO-EVICT", "on");
    for (const conn of [o.r, o.b]) expect(field(clientText(await conn.call("CLIENT", "INFO")), "flags")).toBe("e");
    await o.same("CLIENT", "NO-EVICT", "off");
  });

  test("REPLY OFF, ON and SKIP, errors and rejected commands included", async () => {
    const [r, b] = await o.connectBoth();
    const script = [
      ["CLIENT", "REPLY", "OFF"], ["PING", "a"], ["NOSUCH"], ["GET"], ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"],
      ["PING", "b"], ["CLIENT", "REPLY", "SKIP"], ["PING", "c"], ["PING", "d"], ["CLIENT", "REPLY", "SKIP"], ["NOSUCH"],
      ["PING", "e"], ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"], ["PING", "f"], ["CLIENT", "REPLY", "bad"],
    ];
    const bytes = Buffer.concat(script.map((args) => encodeCommand(args)));
    for (const conn of [r, b]) conn.write(bytes);
    for (let i = 0; i < 6; i++) expect(await b.read()).toBe(await r.read());
    r.close();
    b.close();
  });

  test("KILL ID and KILL ADDR close the other connection", async () => {
    for (const form of ["ID", "ADDR", "old"]) {
      const [r, b] = await o.connectBoth();
      const replies: string[] = [];
      for (const [main, victim] of [[o.r, r], [o.b, b]] as const) {
        const info = clientText(await victim.call("CLIENT", "INFO"));
        const args = form === "ID" ? ["ID", field(info, "id")] : form === "ADDR" ? ["ADDR", field(info, "addr")] : [field(info, "addr")];
        replies.push(await main.call("CLIENT", "KILL", ...args));
        expect(await victim.readUntilClosed()).toBe("");
      }
      expect(replies[1]).toBe(replies[0]!);
    }
  });

  test("KILL spares the caller unless SKIPME NO; killing yourself closes after the reply", async () => {
    for (const form of [["SKIPME", "yes"], ["SKIPME", "no"], ["old"]]) {
      const [r, b] = await o.connectBoth();
      const closed: string[] = [];
      for (const conn of [r, b]) {
        const info = clientText(await conn.call("CLIENT", "INFO"));
        const args = form[0] === "old" ? [field(info, "addr")] : ["ID", field(info, "id"), ...form];
        conn.write(Buffer.concat([encodeCommand(["CLIENT", "KILL", ...args]), encodeCommand(["PING"])]));
        closed.push(form[1] === "yes" ? (await conn.read()) + (await conn.read()) : await conn.readUntilClosed());
      }
      expect(closed[1]).toBe(closed[0]!);
      r.close();
      b.close();
    }
  });

  test("KILL by TYPE, LADDR and USER counts the connections it closed", async () => {
    for (const filter of [["TYPE", "normal"], ["LADDR", "self"], ["USER", "default"], ["TYPE", "NORMAL", "USER", "default", "SKIPME", "no"]]) {
      const replies: string[] = [];
      for (const main of [o.r, o.b]) {
        const port = main === o.r ? o.redis.port : o.redbun.port;
        const victims = await Promise.all([RespConn.connect(port), RespConn.connect(port)]);
        for (const v of victims) await v.call("PING");
        const laddr = field(clientText(await main.call("CLIENT", "INFO")), "laddr");
        const args = filter.map((a) => (a === "self" ? laddr : a));
        const skipsSelf = !filter.includes("no");
        if (skipsSelf) {
          replies.push(await main.call("CLIENT", "KILL", ...args));
        } else {
          const own = await RespConn.connect(port);
          own.write(encodeCommand(["CLIENT", "KILL", ...args]));
          replies.push(await own.readUntilClosed());
        }
        for (const v of victims) expect(await v.readUntilClosed()).toBe("");
      }
      expect(`${filter}: ${replies[1]}`).toBe(`${filter}: ${replies[0]}`);
      if (filter.includes("no")) {
        // The oracle's own connections were closed too: replace them.
        await o.stop().catch(() => {});
        o = await Oracle.start();
      }
    }
  });

  test("UNBLOCK of a client that is not blocked", async () => {
    await o.same("CLIENT", "UNBLOCK", "1");
    for (const conn of [o.r, o.b]) expect(await conn.call("CLIENT", "UNBLOCK", (await conn.call("CLIENT", "ID")).slice(1, -2))).toBe(":0\r\n");
  });
});

describe("with requirepass", () => {
  let p: Oracle;
  beforeAll(async () => {
    // Set after start-up: the harness needs PING to answer while it waits for the servers.
    p = await Oracle.start();
    await p.same("CONFIG", "SET", "requirepass", "sekret");
  });
  afterAll(() => p.stop());

  test("everything but AUTH, HELLO AUTH, QUIT and RESET needs authentication", async () => {
    const [r, b] = await p.connectBoth();
    for (const args of [["PING"], ["CLIENT", "ID"], ["ECHO", "a"], ["SELECT", "1"], ["HELLO"], ["HELLO", "3"], ["HELLO", "3", "SETNAME", "x"], ["NOSUCH"], ["AUTH"]]) {
      expect(await b.call(...args)).toBe(await r.call(...args));
    }
    for (const args of [["AUTH", "x"], ["AUTH", "a", "b"], ["AUTH", "default", "x"], ["HELLO", "3", "AUTH", "default", "x"], ["PING"]]) {
      expect(await b.call(...args)).toBe(await r.call(...args));
    }
    r.close();
    b.close();
  });

  test("AUTH and HELLO AUTH authenticate; a failed AUTH later does not undo it; RESET does", async () => {
    const [r, b] = await p.connectBoth();
    for (const args of [["AUTH", "sekret"], ["PING"], ["AUTH", "wrong"], ["PING"], ["AUTH", "default", "sekret"], ["RESET"], ["PING"]]) {
      expect(await b.call(...args)).toBe(await r.call(...args));
    }
    const [want, got] = await Promise.all([r.call("HELLO", "3", "AUTH", "default", "sekret", "SETNAME", "n"), b.call("HELLO", "3", "AUTH", "default", "sekret", "SETNAME", "n")]);
    expect(await helloWithoutId(b, got)).toBe(await helloWithoutId(r, want));
    for (const args of [
      ["CLIENT", "GETNAME"], ["RESET"], ["HELLO", "2", "AUTH", "default", "sekret", "SETNAME", "a b"], ["PING"], ["RESET"],
      // Options take effect as they are read: the name stays although HELLO is refused.
      ["HELLO", "3", "SETNAME", "early"], ["HELLO", "3", "SETNAME", "q", "AUTH", "default", "wrong"], ["AUTH", "sekret"],
      ["CLIENT", "GETNAME"], ["HELLO", "2", "SETNAME", "a", "SETNAME", "b", "c"], ["CLIENT", "GETNAME"], ["PING"],
    ]) {
      expect(await b.call(...args)).toBe(await r.call(...args));
    }
    r.close();
    b.close();
  });
});
