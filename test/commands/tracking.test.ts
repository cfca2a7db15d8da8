// Client-side caching against the real redis-server 7.0: CLIENT TRACKING (default, OPTIN,
// OPTOUT, BCAST, NOLOOP, REDIRECT), CLIENT CACHING, GETREDIR, TRACKINGINFO, the invalidation
// messages (RESP3 pushes, RESP2 messages on __redis__:invalidate, the null after a flush,
// tracking-redir-broken), tracking-table-max-keys, INFO and CLIENT LIST. Each scenario runs
// on both servers over its own connections, and everything every client received, pushes
// included and in order, is compared. Client ids differ between the servers, so replies are
// compared with each client's id replaced by its name.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { Oracle, type RespConn, encodeCommand } from "../oracle/harness.ts";
import { type Side, onBoth, sameOnBoth } from "../oracle/sides.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());
beforeEach(async () => {
  await o.same("FLUSHALL");
  await o.same("CONFIG", "SET", "tracking-table-max-keys", "1000000");
});

/** A connection of a scenario, with its client id and the name it goes by in the results. */
interface Peer {
  readonly name: string;
  readonly conn: RespConn;
  readonly id: string;
  /** A RESP2 subscriber, which can only be pinged. */
  subscribed: boolean;
}

async function peer(side: Side, name: string, proto = 3): Promise<Peer> {
  const conn = await side.connect();
  if (proto === 3) await conn.call("HELLO", "3");
  // The connection's name is the marker exchange() reads up to.
  await conn.call("CLIENT", "SETNAME", markerName(name));
  const id = (await conn.call("CLIENT", "ID")).slice(1, -2);
  return { name, conn, id, subscribed: false };
}

const markerName = (name: string): string => `tracking-test-${name}`;

/** Replace each peer's id by its name wherever replies show ids. */
function scrub(text: string, peers: Peer[]): string {
  for (const p of peers) {
    text = text.replaceAll(`:${p.id}\r\n`, `:<${p.name}>\r\n`).replaceAll(`redir=${p.id} `, `redir=<${p.name}> `);
  }
  return text;
}

const SUBSCRIBED_PONG = "*2\r\n$4\r\npong\r\n$0\r\n\r\n";

/**
 * Send a command (none: only wait) and return everything the connection received until
 * the reply to a marker command sent behind it: the command's reply and every push or
 * message that reached the client meanwhile, in order. The marker is CLIENT GETNAME, whose
 * reply nothing else gives, and which, like every CLIENT subcommand, leaves CLIENT CACHING
 * in effect; a RESP2 subscriber is pinged instead.
 */
async function exchange(p: Peer, ...args: string[]): Promise<string> {
  if (args.length > 0) p.conn.write(encodeCommand(args));
  const name = markerName(p.name);
  const marker = p.subscribed ? SUBSCRIBED_PONG : `$${name.length}\r\n${name}\r\n`;
  p.conn.write(encodeCommand(p.subscribed ? ["PING"] : ["CLIENT", "GETNAME"]));
  let out = "";
  for (;;) {
    const reply = await p.conn.read();
    if (reply === marker) return out;
    out += reply;
  }
}

/** A command as the results show it, REDIRECT's id given as its client's name. */
function label(args: string[], peers: Peer[]): string {
  return args.map((arg, i) => (args[i - 1]?.toUpperCase() === "REDIRECT" ? peers.find((p) => p.id === arg)?.name : undefined) ?? arg).join(" ");
}

/** A step's command is only sent, its replies read with the next step's (replies off, MULTI). */
const SEND_ONLY = "send-only";

/**
 * A scenario: steps of [peer, command...] run in order, each an exchange (or only sent,
 * after SEND_ONLY); returns what each step saw and what every peer received after the
 * last step, with the ids of the `named` clients (by default the peers) scrubbed.
 */
async function script(peers: Peer[], steps: [Peer, ...string[]][], named = peers): Promise<string[]> {
  const seen: string[] = [];
  for (const [p, ...args] of steps) {
    if (args[0] === SEND_ONLY) p.conn.write(encodeCommand(args.slice(1)));
    else seen.push(`${p.name}> ${label(args, named)}: ${scrub(await exchange(p, ...args), named)}`);
  }
  for (const p of peers) seen.push(`${p.name} after: ${scrub(await exchange(p), named)}`);
  return seen;
}

/** The fields of one client's CLIENT LIST line that tracking sets, `named` clients' ids scrubbed. */
async function listedFlags(admin: Peer, p: Peer, named: Peer[]): Promise<string> {
  const line = await admin.conn.call("CLIENT", "LIST", "ID", p.id);
  return /flags=\S+/.exec(line)![0] + " " + scrub(/redir=\S+ /.exec(line)![0], named);
}

/** Wait until the server has noticed that p's connection closed. */
async function gone(admin: Peer, p: Peer): Promise<void> {
  p.conn.close();
  await p.conn.readUntilClosed();
  while ((await admin.conn.call("CLIENT", "LIST", "ID", p.id)).includes(`id=${p.id} `)) await Bun.sleep(2);
}

/** INFO's tracking fields. */
async function trackingInfo(admin: Peer): Promise<string[]> {
  const text = (await admin.conn.call("INFO", "everything")).split("\r\n");
  return text.filter((line) => line.startsWith("tracking_"));
}

describe("default mode", () => {
  test("read keys are invalidated once when they change, the running client's after its reply", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const b = await peer(side, "b");
      return script(
        [a, b],
        [
          [b, "MSET", "k1", "1", "k2", "2", "k3", "3"],
          [b, "RPUSH", "list", "x"],
          [a, "CLIENT", "TRACKING", "ON"],
          [a, "GET", "k1"],
          [a, "MGET", "k2", "k3", "missing"],
          [a, "LRANGE", "list", "0", "-1"],
          [a, "STRLEN", "k1"],
          [a, "GET", "list"],
          [b, "SET", "k1", "x"],
          [b, "SET", "k1", "y"],
          [b, "DEL", "k2", "k3", "missing"],
          [b, "RPUSH", "list", "y"],
          [a, "EXISTS", "k1"],
          [a, "SET", "k1", "z"],
          [a, "GET", "k1"],
          // Pushes still come with replies off.
          [a, SEND_ONLY, "CLIENT", "REPLY", "OFF"],
          [a, SEND_ONLY, "GET", "k1"],
          [a, SEND_ONLY, "SET", "k1", "w"],
          [a, SEND_ONLY, "GET", "k1"],
          [a, "CLIENT", "REPLY", "ON"],
          [b, "APPEND", "k1", "!"],
          [a, "GET", "k1"],
          // In a transaction the marker would be queued: the replies come with EXEC's.
          [a, SEND_ONLY, "MULTI"],
          [a, SEND_ONLY, "GET", "k1"],
          [a, SEND_ONLY, "SET", "k1", "v"],
          [a, "EXEC"],
          [a, "SET", "k1", "u"],
          [a, "GET", "k1"],
          [a, "EXPIRE", "k1", "100"],
          [a, "GET", "k1"],
          [b, "RENAME", "k1", "k9"],
        ],
      );
    });
  });

  test("NOLOOP skips the client's own changes; RESP2 without redirect hears nothing", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const b = await peer(side, "b", 2);
      const c = await peer(side, "c");
      const seen = await script(
        [a, b, c],
        [
          [a, "CLIENT", "TRACKING", "ON", "NOLOOP"],
          [b, "CLIENT", "TRACKING", "ON"],
          [a, "GET", "k"],
          [b, "GET", "k"],
          [a, "SET", "k", "1"],
          [a, "GET", "k"],
          [b, "GET", "j"],
          [c, "SET", "k", "2"],
          [a, "CLIENT", "TRACKINGINFO"],
          [b, "CLIENT", "TRACKINGINFO"],
        ],
      );
      // Subscribed, but not a redirect target: still no messages.
      seen.push(await b.conn.call("SUBSCRIBE", "x"));
      b.subscribed = true;
      seen.push(...(await script([a, b, c], [[c, "SET", "j", "1"]])));
      return seen;
    });
  });

  test("binary keys", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const b = await peer(side, "b");
      const keys = ["", "\0", "a\r\nb", "\xff\xfe\x80", "x".repeat(300)];
      const steps: [Peer, ...string[]][] = [[a, "CLIENT", "TRACKING", "ON"]];
      for (const key of keys) steps.push([a, "GET", key]);
      for (const key of keys) steps.push([b, "SET", key, "v"]);
      return script([a, b], steps);
    });
  });

  test("a client that turned tracking off, or left, is no longer told", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const b = await peer(side, "b");
      const c = await peer(side, "c");
      const seen = await script(
        [a, b, c],
        [
          [a, "CLIENT", "TRACKING", "ON"],
          [b, "CLIENT", "TRACKING", "ON"],
          [a, "GET", "k"],
          [b, "GET", "k"],
          [a, "GET", "j"],
          [a, "CLIENT", "TRACKING", "OFF"],
          [c, "SET", "k", "1"],
          [a, "CLIENT", "TRACKING", "ON"],
          [c, "SET", "j", "1"],
          [b, "GET", "k"],
          // RESET also drops the name exchange() waits for: name the client again.
          [b, SEND_ONLY, "RESET"],
          [b, "CLIENT", "SETNAME", markerName("b")],
          [c, "SET", "k", "1"],
        ],
      );
      seen.push(...(await trackingInfo(c)));
      return seen;
    });
  });
});

describe("OPTIN and OPTOUT", () => {
  test("CLIENT CACHING covers the next command, through CLIENT subcommands and a transaction", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const c = await peer(side, "c");
      const seen = await script(
        [a, c],
        [
          [a, "CLIENT", "TRACKING", "ON", "OPTIN"],
          [a, "GET", "a"],
          [a, "CLIENT", "CACHING", "YES"],
          [a, "CLIENT", "TRACKINGINFO"],
          [a, "GET", "b"],
          [a, "GET", "c"],
          [a, "CLIENT", "CACHING", "YES"],
          [a, "NOSUCHCOMMAND"],
          [a, "GET", "d"],
          [a, "CLIENT", "CACHING", "YES"],
          [a, "GET", "e", "extra"],
          [a, "GET", "f"],
          [a, "CLIENT", "CACHING", "YES"],
          [a, "CLIENT", "NOSUCH"],
          [a, "GET", "g"],
          [a, "CLIENT", "CACHING", "YES"],
        ],
      );
      // A transaction: the marker would be queued, so its replies are read by count.
      a.conn.write(encodeCommand(["MULTI"]));
      a.conn.write(encodeCommand(["GET", "h"]));
      a.conn.write(encodeCommand(["GET", "i"]));
      a.conn.write(encodeCommand(["EXEC"]));
      seen.push(await a.conn.readReplies(4));
      seen.push(
        ...(await script(
          [a, c],
          [
            [a, "GET", "j"],
            [c, "MSET", "a", "1", "b", "1", "c", "1", "d", "1", "e", "1", "f", "1", "g", "1", "h", "1", "i", "1", "j", "1"],
          ],
        )),
      );
      return seen;
    });
  });

  test("OPTOUT remembers every read but those after CLIENT CACHING NO", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const c = await peer(side, "c");
      return script(
        [a, c],
        [
          [a, "CLIENT", "TRACKING", "ON", "OPTOUT"],
          [a, "GET", "a"],
          [a, "CLIENT", "CACHING", "NO"],
          [a, "CLIENT", "TRACKINGINFO"],
          [a, "GET", "b"],
          [a, "MGET", "c", "d"],
          [c, "MSET", "a", "1", "b", "1", "c", "1", "d", "1"],
          [a, "CLIENT", "TRACKING", "OFF"],
          [a, "CLIENT", "TRACKINGINFO"],
        ],
      );
    });
  });
});

describe("BCAST", () => {
  test("each prefix sends its changed keys sorted, once per event loop turn", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const b = await peer(side, "b");
      const c = await peer(side, "c");
      const admin = await peer(side, "admin");
      const seen = await script(
        [a, b, c],
        [
          [a, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "a", "NOLOOP"],
          [b, "CLIENT", "TRACKING", "ON", "BCAST"],
          [a, "CLIENT", "TRACKINGINFO"],
          [c, "MSET", "user:2", "x", "user:1", "y", "a", "z", "bb", "w", "user:2", "again"],
          [a, "SET", "a", "1"],
          [a, "MSET", "user:9", "2", "ab", "3"],
          [c, "DEL", "user:1", "zz"],
          [a, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b\0\xff"],
          [c, "SET", "b\0\xff!", "1"],
          [a, "CLIENT", "TRACKINGINFO"],
          [a, "GET", "bb"],
          [c, "SET", "bb", "2"],
        ],
      );
      seen.push(...(await trackingInfo(admin)));
      seen.push(await listedFlags(admin, a, [a]));
      return seen;
    });
  });

  test("a client in BCAST mode no longer hears of keys it read before", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const c = await peer(side, "c");
      return script(
        [a, c],
        [
          [a, "CLIENT", "TRACKING", "ON"],
          [a, "GET", "x:1"],
          [a, "CLIENT", "TRACKING", "OFF"],
          [a, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "y:"],
          [c, "SET", "x:1", "1"],
          [c, "SET", "y:1", "1"],
        ],
      );
    });
  });
});

describe("REDIRECT", () => {
  test("to a RESP2 subscriber as __redis__:invalidate messages, nulls in the tracking client's protocol", async () => {
    await sameOnBoth(o, async (side) => {
      const sub = await peer(side, "sub", 2);
      const a = await peer(side, "a", 2);
      const d = await peer(side, "d", 3);
      const e = await peer(side, "e", 2);
      const c = await peer(side, "c");
      const peers = [sub, a, d, e, c];
      const seen = [await sub.conn.call("SUBSCRIBE", "unrelated")];
      sub.subscribed = true;
      seen.push(
        ...(await script(peers, [
          [a, "CLIENT", "TRACKING", "ON", "REDIRECT", sub.id],
          [d, "CLIENT", "TRACKING", "ON", "REDIRECT", sub.id],
          [e, "CLIENT", "TRACKING", "ON", "REDIRECT", e.id],
          [a, "GET", "k"],
          [d, "GET", "z"],
          [e, "GET", "q"],
          [c, "SET", "k", "1"],
          [c, "SET", "z", "1"],
          [e, "SET", "q", "1"],
          [a, "CLIENT", "GETREDIR"],
          [a, "CLIENT", "TRACKINGINFO"],
          [d, "CLIENT", "TRACKINGINFO"],
          [c, "FLUSHDB"],
          [a, "FLUSHALL"],
        ])),
      );
      seen.push(await listedFlags(c, a, peers), await listedFlags(c, sub, peers));
      return seen;
    });
  });

  test("to a RESP3 client as pushes; a redirect that went away breaks", async () => {
    await sameOnBoth(o, async (side) => {
      const target = await peer(side, "target");
      const a = await peer(side, "a");
      const b = await peer(side, "b", 2);
      const c = await peer(side, "c");
      const peers = [target, a, b, c];
      const seen = await script(peers, [
        [a, "CLIENT", "TRACKING", "ON", "REDIRECT", target.id],
        [b, "CLIENT", "TRACKING", "ON", "REDIRECT", target.id],
        [a, "GET", "k"],
        [b, "GET", "k"],
        [c, "SET", "k", "1"],
        [target, "GET", "k"],
        [a, "GET", "k"],
        [b, "GET", "k"],
        [target, "SET", "k", "2"],
      ]);
      await gone(c, target);
      seen.push(
        ...(await script(
          [a, b, c],
          [
            [a, "GET", "k"],
            [b, "GET", "k"],
            [c, "SET", "k", "3"],
            [a, "CLIENT", "TRACKINGINFO"],
            [b, "CLIENT", "TRACKINGINFO"],
            [a, "GET", "k"],
            [a, "SET", "k", "4"],
            [a, "FLUSHALL"],
          ],
          peers,
        )),
      );
      seen.push(await listedFlags(c, a, peers), await listedFlags(c, b, peers));
      return seen;
    });
  });
});

describe("flushes", () => {
  test("FLUSHALL and FLUSHDB send each tracking client one null, the running one after its reply", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const b = await peer(side, "b");
      const c = await peer(side, "c", 2);
      const admin = await peer(side, "admin");
      const seen = await script(
        [a, b, c],
        [
          [a, "CLIENT", "TRACKING", "ON"],
          [b, "CLIENT", "TRACKING", "ON", "BCAST"],
          [c, "CLIENT", "TRACKING", "ON"],
          [a, "GET", "k"],
          [a, "FLUSHALL"],
          [b, "FLUSHDB"],
          [a, "SELECT", "3"],
          [a, "FLUSHDB", "ASYNC"],
          [a, "SET", "k", "1"],
        ],
      );
      a.conn.write(encodeCommand(["MULTI"]));
      a.conn.write(encodeCommand(["FLUSHALL"]));
      a.conn.write(encodeCommand(["FLUSHDB"]));
      a.conn.write(encodeCommand(["EXEC"]));
      seen.push(await a.conn.readReplies(6));
      seen.push(...(await trackingInfo(admin)));
      return seen;
    });
  });
});

describe("tracking-table-max-keys", () => {
  test("reading past the limit invalidates random keys until the table fits", async () => {
    const [want, got] = await onBoth(o, async (side) => {
      const a = await peer(side, "a");
      const b = await peer(side, "b");
      const admin = await peer(side, "admin");
      await admin.conn.call("CONFIG", "SET", "tracking-table-max-keys", "2");
      await a.conn.call("CLIENT", "TRACKING", "ON");
      const seen = [await exchange(a, "MGET", "k1", "k2", "k3", "k4")];
      const info = await trackingInfo(admin);
      // Which two keys go is random: name them by what happens to them, in the order they went.
      const evicted = [...seen[0]!.matchAll(/invalidate\r\n\*1\r\n\$2\r\n(k\d)/g)].map((m) => m[1]!);
      seen.push(await exchange(b, "MSET", "k1", "1", "k2", "1", "k3", "1", "k4", "1"));
      seen.push(await exchange(a));
      let text = seen.join("|");
      for (const [i, key] of evicted.entries()) text = text.replaceAll(`$2\r\n${key}\r\n`, `<evicted ${i}>`);
      return [text.replace(/\$2\r\nk\d\r\n/g, "<kept>"), info, evicted.length];
    });
    expect(got).toEqual(want);
  });

  test("CONFIG GET and a lower limit set at run time", async () => {
    await o.same("CONFIG", "GET", "tracking-table-max-keys");
    await o.same("CONFIG", "SET", "tracking-table-max-keys", "-1");
    await o.same("CONFIG", "SET", "tracking-table-max-keys", "abc");
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a");
      const admin = await peer(side, "admin");
      await a.conn.call("CLIENT", "TRACKING", "ON");
      await exchange(a, "MGET", "a", "b", "c");
      const before = await trackingInfo(admin);
      await admin.conn.call("CONFIG", "SET", "tracking-table-max-keys", "0");
      const unlimited = await trackingInfo(admin);
      await admin.conn.call("CONFIG", "SET", "tracking-table-max-keys", "1");
      return [before, unlimited, await trackingInfo(admin), (await exchange(a)).split("invalidate").length];
    });
  });
});

describe("errors, replies and introspection", () => {
  test("every bad combination of options, in Redis's order of checks", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a", 2);
      const b = await peer(side, "b", 2);
      const steps: string[][] = [
        ["CLIENT", "TRACKING", "on", "REDIRECT", b.id, "REDIRECT", b.id],
        ["CLIENT", "TRACKING", "on", "REDIRECT", b.id, "REDIRECT", "abc"],
        ["CLIENT", "TRACKING", "on", "REDIRECT", "abc", "REDIRECT", b.id],
        ["CLIENT", "TRACKING", "on", "REDIRECT", "0"],
        ["CLIENT", "TRACKING", "on", "REDIRECT", "-1"],
        ["CLIENT", "TRACKING", "on", "REDIRECT", "99999999"],
        ["CLIENT", "TRACKING", "on", "REDIRECT"],
        ["CLIENT", "TRACKING", "on", "PREFIX"],
        ["CLIENT", "TRACKING", "on", "FOO"],
        ["CLIENT", "TRACKING", "maybe", "BCAST"],
        ["CLIENT", "TRACKING", "off", "REDIRECT", "99999999"],
        ["CLIENT", "TRACKING", "off", "BCAST", "PREFIX", "x", "OPTIN", "OPTOUT"],
        ["CLIENT", "TRACKING", "On", "Bcast", "Prefix", "x", "Prefix", "x"],
        ["CLIENT", "TRACKING", "off"],
        ["CLIENT", "TRACKING", "on", "PREFIX", "x", "OPTIN", "OPTOUT"],
        ["CLIENT", "TRACKING", "on", "BCAST", "OPTIN", "OPTOUT"],
        ["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT", "BCAST", "PREFIX", "a", "PREFIX", "ab"],
        ["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
        ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"],
        ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a\0b", "PREFIX", "a\0bc"],
        ["CLIENT", "TRACKINGINFO"],
        ["CLIENT", "CACHING", "yes"],
        ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a\r\n"],
        ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"],
        ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c", "PREFIX", "bb"],
        ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "y", "PREFIX", "yz", "PREFIX", "aa"],
        ["CLIENT", "TRACKINGINFO"],
        ["CLIENT", "TRACKING", "on"],
        ["CLIENT", "TRACKING", "on", "OPTIN"],
        ["CLIENT", "CACHING", "yes"],
        ["CLIENT", "TRACKING", "off"],
        ["CLIENT", "TRACKING", "on", "OPTIN"],
        ["CLIENT", "TRACKING", "on", "OPTOUT"],
        ["CLIENT", "TRACKING", "on", "BCAST"],
        ["CLIENT", "TRACKING", "on", "PREFIX", "a"],
        ["CLIENT", "CACHING", "maybe"],
        ["CLIENT", "CACHING", "no"],
        ["CLIENT", "CACHING", "yes"],
        ["CLIENT", "TRACKING", "on"],
        ["CLIENT", "CACHING", "yes"],
        ["CLIENT", "TRACKING", "on", "NOLOOP", "NOLOOP", "OPTOUT", "OPTOUT", "REDIRECT", b.id],
        ["CLIENT", "CACHING", "NO"],
        ["CLIENT", "TRACKINGINFO"],
        ["CLIENT", "GETREDIR"],
        ["CLIENT", "CACHING"],
        ["CLIENT", "CACHING", "yes", "no"],
        ["CLIENT", "GETREDIR", "x"],
        ["CLIENT", "TRACKINGINFO", "x"],
        ["CLIENT", "TRACKING"],
        ["CLIENT", "TRACKING", "off"],
        ["CLIENT", "TRACKINGINFO"],
        ["CLIENT", "GETREDIR"],
        ["CLIENT", "HELP"],
      ];
      const seen: string[] = [];
      // The overlap Redis reports for a later prefix answers twice: the error, then OK.
      for (const step of steps) seen.push(scrub(await exchange(a, ...step), [a, b]));
      return seen;
    });
  });

  test("TRACKINGINFO and GETREDIR in both protocols; INFO and CLIENT LIST", async () => {
    await sameOnBoth(o, async (side) => {
      const a = await peer(side, "a", 3);
      const b = await peer(side, "b", 2);
      const admin = await peer(side, "admin", 2);
      const seen: string[] = [];
      for (const p of [a, b]) {
        seen.push(scrub(await exchange(p, "CLIENT", "TRACKINGINFO"), [a, b]));
        seen.push(scrub(await exchange(p, "CLIENT", "GETREDIR"), [a, b]));
        seen.push(scrub(await exchange(p, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p", "NOLOOP", "REDIRECT", a.id), [a, b]));
        seen.push(scrub(await exchange(p, "CLIENT", "TRACKINGINFO"), [a, b]));
        seen.push(scrub(await exchange(p, "CLIENT", "GETREDIR"), [a, b]));
        seen.push(await listedFlags(admin, p, [a, b]));
      }
      seen.push(...(await trackingInfo(admin)));
      await exchange(a, "CLIENT", "TRACKING", "OFF");
      await exchange(a, "CLIENT", "TRACKING", "ON", "OPTIN");
      await exchange(a, "CLIENT", "CACHING", "YES");
      await exchange(a, "MGET", "x", "y");
      seen.push(...(await trackingInfo(admin)), await listedFlags(admin, a, [a]));
      await gone(admin, b);
      seen.push(...(await trackingInfo(admin)));
      return seen;
    });
  });

  test("COMMAND INFO and DOCS of the subcommands", async () => {
    for (const sub of ["tracking", "caching", "getredir", "trackinginfo"]) {
      await o.same("COMMAND", "INFO", `client|${sub}`);
      await o.same("COMMAND", "DOCS", `client|${sub}`);
    }
  });
});

test("Bun's RedisClient stays in step through invalidation pushes it does not expose", async () => {
  // Bun's client speaks RESP3 but offers no handler for pushes other than pub/sub messages:
  // what can be checked is that redbun's pushes are well formed enough to be skipped.
  const client = new RedisClient(`redis://127.0.0.1:${o.redbun.port}`);
  const other = new RedisClient(`redis://127.0.0.1:${o.redbun.port}`);
  try {
    expect(await client.send("CLIENT", ["TRACKING", "ON"])).toBe("OK");
    expect(await client.get("bun-key")).toBeNull();
    await other.set("bun-key", "1");
    expect(await client.send("PING", [])).toBe("PONG");
    expect(await client.get("bun-key")).toBe("1");
    await client.set("bun-key", "2");
    expect(await client.get("bun-key")).toBe("2");
    await other.send("FLUSHALL", []);
    expect(await client.send("CLIENT", ["TRACKINGINFO"])).toEqual({ flags: ["on"], redirect: 0, prefixes: [] });
  } finally {
    client.close();
    other.close();
  }
});
