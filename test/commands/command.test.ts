// COMMAND and its subcommands against the real redis-server.
//
// Two kinds of checks. First, the reply writers and the key-spec logic are fed every command
// Redis 7.0 has (rebuilt as CommandDefs from the real server's own COMMAND INFO and COMMAND
// DOCS) and must reproduce Redis's bytes, so their correctness does not depend on which
// commands redbun implements yet. Second, over sockets, every command in redbun's table must
// be described exactly as Redis describes it, which also catches metadata mistakes in the
// command files. Redis orders subcommands (and COMMAND's full listing) by hash-table accident,
// an order that even changes between calls while its tables rehash, so subcommands are
// matched by name.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Oracle, RespConn, encodeCommand } from "../oracle/harness.ts";
import { decodeReply, rawItems, withObjects } from "../oracle/resp.ts";
import { Argv } from "../../src/resp/parser.ts";
import { ReplyWriter } from "../../src/resp/writer.ts";
import { Command, CommandTable, type CommandDef, type KeySpec } from "../../src/commands/table.ts";
import { addCommandDocs, addCommandInfo, addCommandKeys } from "../../src/commands/command.ts";

let o: Oracle;
beforeAll(async () => {
  o = await Oracle.start();
});
afterAll(() => o.stop());

// ---------------------------------------------------------------------------------------
// Reading replies
// ---------------------------------------------------------------------------------------

/** Decode a reply into JS values: maps become objects (in order), sets and arrays arrays. */
function decode(reply: string): unknown {
  return withObjects(decodeReply(reply));
}

// ---------------------------------------------------------------------------------------
// Redis's own command table, rebuilt as CommandDefs
// ---------------------------------------------------------------------------------------

type InfoEntry = [string, number, string[], number, number, number, string[], string[], RedisKeySpec[], InfoEntry[]];
interface RedisKeySpec {
  notes?: string;
  flags: string[];
  begin_search: { type: string; spec: Record<string, number | string> };
  find_keys: { type: string; spec: Record<string, number> };
}
type Docs = Record<string, unknown> & { subcommands?: Record<string, Docs> };

/** ACL categories Redis adds by itself from the flags (left out of CommandDef.acl). */
function impliedCategories(flags: string[]): Set<string> {
  const implied = new Set<string>();
  if (flags.includes("write")) implied.add("write");
  if (flags.includes("readonly")) implied.add("read");
  if (flags.includes("admin")) implied.add("admin").add("dangerous");
  if (flags.includes("pubsub")) implied.add("pubsub");
  if (flags.includes("blocking")) implied.add("blocking");
  implied.add(flags.includes("fast") ? "fast" : "slow");
  return implied;
}

function keySpecFrom(s: RedisKeySpec): KeySpec {
  const b = s.begin_search;
  const f = s.find_keys;
  const begin = b.type === "index" ? { index: b.spec.index as number } : b.type === "keyword" ? { keyword: b.spec.keyword as string, startfrom: b.spec.startfrom as number } : {};
  const find = f.type === "range" ? { lastkey: f.spec.lastkey!, keystep: f.spec.keystep!, limit: f.spec.limit! } : f.type === "keynum" ? { keynumidx: f.spec.keynumidx!, firstkey: f.spec.firstkey!, keystep: f.spec.keystep! } : {};
  const spec = { flags: s.flags.join(" "), begin, find } as KeySpec;
  if (s.notes !== undefined) spec.notes = s.notes;
  return spec;
}

/** A CommandDef that says what Redis's COMMAND INFO and COMMAND DOCS say. */
function defFrom(info: InfoEntry, docs: Docs): CommandDef {
  const flags = info[2].filter((f) => f !== "movablekeys");
  const implied = impliedCategories(flags);
  const def: CommandDef = {
    name: info[0],
    arity: info[1],
    flags: flags.join(" "),
    acl: info[6].map((c) => c.slice(1)).filter((c) => !implied.has(c)).join(" "),
    group: docs.group as string,
    since: docs.since as string,
    summary: docs.summary as string,
    handler: () => {},
  };
  if (docs.complexity !== undefined) def.complexity = docs.complexity as string;
  if (docs.doc_flags !== undefined) def.docFlags = docs.doc_flags as string[];
  if (docs.deprecated_since !== undefined) def.deprecatedSince = docs.deprecated_since as string;
  if (docs.replaced_by !== undefined) def.replacedBy = docs.replaced_by as string;
  if (docs.history !== undefined) def.history = docs.history as [string, string][];
  if (info[7].length > 0) def.tips = info[7];
  if (info[8].length > 0) def.keySpecs = info[8].map(keySpecFrom);
  if (docs.arguments !== undefined) def.arguments = docs.arguments as unknown[];
  if (info[9].length > 0) {
    def.subcommands = info[9].map((sub) => defFrom(sub, docs.subcommands![sub[0]]!));
    delete def.handler;
  }
  return def;
}

let redisDefs: CommandDef[];
/** Redis's replies to COMMAND INFO <name> and COMMAND DOCS <name>, by protocol, then name. */
const redisInfo = new Map<number, Map<string, string>>();
const redisDocs = new Map<number, Map<string, string>>();

beforeAll(async () => {
  const conn = await RespConn.connect(o.redis.port);
  await conn.call("HELLO", "3"); // Maps decode as maps.
  const info = decode(await conn.call("COMMAND", "INFO")) as InfoEntry[];
  const docs = decode(await conn.call("COMMAND", "DOCS")) as Record<string, Docs>;
  redisDefs = info.map((entry) => defFrom(entry, docs[entry[0]]!));
  for (const resp of [2, 3]) {
    await conn.call("HELLO", String(resp));
    const infos = new Map<string, string>();
    const docMaps = new Map<string, string>();
    for (const def of redisDefs) {
      infos.set(def.name, rawItems(await conn.call("COMMAND", "INFO", def.name))[0]!);
      docMaps.set(def.name, rawItems(await conn.call("COMMAND", "DOCS", def.name))[1]!);
    }
    redisInfo.set(resp, infos);
    redisDocs.set(resp, docMaps);
  }
  conn.close();
});

function written(resp: number, write: (w: ReplyWriter) => void): string {
  const w = new ReplyWriter(1024);
  w.resp = resp;
  write(w);
  return Buffer.from(w.bytes()).toString("latin1");
}

describe("reply writers against every Redis command", () => {
  for (const resp of [2, 3]) {
    test(`COMMAND INFO, RESP${resp}: flags, derived key range and movablekeys, categories, tips, key specs`, () => {
      expect(redisDefs.length).toBeGreaterThan(200);
      const problems: string[] = [];
      for (const def of redisDefs) {
        const cmd = new Command(def, null);
        compareEntry(def.name, redisInfo.get(resp)!.get(def.name)!, written(resp, (w) => addCommandInfo(w, cmd)), "info", problems);
      }
      expect(problems.join("\n")).toBe("");
    });

    test(`COMMAND DOCS, RESP${resp}: history, doc flags, deprecation, argument trees, subcommands`, () => {
      const problems: string[] = [];
      for (const def of redisDefs) {
        const cmd = new Command(def, null);
        compareEntry(def.name, redisDocs.get(resp)!.get(def.name)!, written(resp, (w) => addCommandDocs(w, cmd)), "docs", problems);
      }
      expect(problems.join("\n")).toBe("");
    });
  }
});

describe("COMMAND GETKEYS from key specs, against every Redis command", () => {
  let table: CommandTable;
  beforeAll(() => {
    table = new CommandTable(redisDefs);
  });

  /** The reply our table gives to COMMAND <sub> <line...>. */
  function ours(sub: string, line: string[]): string {
    const args = ["COMMAND", sub, ...line];
    const argv = new Argv();
    argv.buf = Buffer.from(args.join(""), "latin1");
    let at = 0;
    for (const a of args) {
      argv.push(at, a.length);
      at += a.length;
    }
    return written(2, (w) => addCommandKeys(w, table, argv, sub === "GETKEYSANDFLAGS"));
  }

  // Lines whose keys Redis finds from the key specs alone. SET, BITFIELD, SORT, SORT_RO and
  // MIGRATE are left out: Redis asks their own key functions, which the table cannot declare.
  const lines = [
    "get a", "mset a 1 b 2 c 3", "del a b c", "lmove a b left right", "blpop a b c 0", "rename a b",
    "eval s 2 a b c", "eval s 0", "eval s 5 a", "eval s x a", "eval s -1 a", "evalsha x 1 k", "fcall f 2 a b x",
    "zunionstore d 2 a b", "zinterstore d 2 a b weights 1 2", "zunion 2 a b", "zunionstore d 0 a",
    "zunionstore d 3 a b", "zdiff 1 a withscores", "sintercard 2 a b limit 1", "zintercard 1 a",
    "xread count 1 streams a b 0 0", "xread streams a b 0", "xreadgroup group g c streams a 0",
    "georadius k 0 0 1 m store d", "georadius k 0 0 1 m storedist d", "georadius k 0 0 1 m",
    "geosearchstore d s frommember m byradius 1 m", "lmpop 2 a b left", "blmpop 0 2 a b left count 1",
    "zmpop 1 a min", "bzmpop 0 1 a max", "object encoding k", "xinfo stream k", "pfcount a b",
    "smove a b m", "bitop and d a b", "memory usage k", "restore k 0 x", "touch a b", "watch a b",
    "spublish ch m", "publish ch m", "client list", "config get x", "nosuch a", "get a b",
    "object nosuch k", "xgroup create k g $", "pfmerge d a b", "msetnx a 1 b", "geoadd k 0 0 m",
    "lcs a b", "copy a b db 1", "blmove a b left right 0", "brpoplpush a b 0", "hello 3",
  ];
  for (const sub of ["GETKEYS", "GETKEYSANDFLAGS"]) {
    test(sub, async () => {
      for (const line of lines) {
        const args = line.split(" ");
        const want = await o.r.call("COMMAND", sub, ...args);
        expect(`${line} => ${ours(sub, args)}`).toBe(`${line} => ${want}`);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------
// redbun's own table, over sockets
// ---------------------------------------------------------------------------------------

/** Every command name redbun has: containers first, then their subcommands. */
async function redbunNames(): Promise<{ top: string[]; all: string[] }> {
  const all = decode(await o.b.call("COMMAND", "LIST")) as string[];
  return { top: all.filter((n) => !n.includes("|")), all };
}

/**
 * Compare one COMMAND INFO (or DOCS) entry: byte for byte, except that a container's
 * subcommands are matched by name, and subcommands redbun does not have are listed apart.
 */
function compareEntry(name: string, want: string, got: string, kind: "info" | "docs", problems: string[]): void {
  if (want === got) return;
  const wantItems = rawItems(want);
  const gotItems = rawItems(got);
  const subsAt = kind === "info" ? 9 : wantItems.indexOf("$11\r\nsubcommands\r\n") + 1;
  if (subsAt <= 0 || wantItems.length !== gotItems.length) {
    problems.push(`${kind} ${name}\n  redis:  ${JSON.stringify(want)}\n  redbun: ${JSON.stringify(got)}`);
    return;
  }
  for (let i = 0; i < wantItems.length; i++) {
    if (i !== subsAt && wantItems[i] !== gotItems[i]) {
      problems.push(`${kind} ${name} (item ${i})\n  redis:  ${JSON.stringify(wantItems[i])}\n  redbun: ${JSON.stringify(gotItems[i])}`);
    }
  }
  const subsByName = (raw: string): Map<string, string> => {
    const items = rawItems(raw);
    const byName = new Map<string, string>();
    if (kind === "docs") for (let i = 0; i < items.length; i += 2) byName.set(decode(items[i]!) as string, items[i + 1]!);
    else for (const item of items) byName.set(rawItems(item)[0]!.split("\r\n")[1]!, item);
    return byName;
  };
  const wantSubs = subsByName(wantItems[subsAt]!);
  for (const [sub, entry] of subsByName(gotItems[subsAt]!)) {
    const expected = wantSubs.get(sub);
    if (expected === undefined) problems.push(`${kind} ${sub}: Redis has no such subcommand`);
    else if (expected !== entry) problems.push(`${kind} ${sub}\n  redis:  ${JSON.stringify(expected)}\n  redbun: ${JSON.stringify(entry)}`);
  }
}

describe("redbun's table described as Redis describes it", () => {
  for (const resp of [2, 3]) {
    test(`COMMAND INFO and COMMAND DOCS of every command, RESP${resp}`, async () => {
      await o.both("HELLO", String(resp)); // The replies differ in the connection id.
      const { top } = await redbunNames();
      const problems: string[] = [];
      for (const name of top) {
        const [wantInfo, gotInfo] = await o.both("COMMAND", "INFO", name);
        compareEntry(name, rawItems(wantInfo)[0]!, rawItems(gotInfo)[0]!, "info", problems);
        const [wantDocs, gotDocs] = await o.both("COMMAND", "DOCS", name);
        const wantDoc = rawItems(wantDocs);
        if (wantDoc.length === 0) problems.push(`docs ${name}: Redis has no such command`);
        else compareEntry(name, wantDoc[1]!, rawItems(gotDocs)[1]!, "docs", problems);
      }
      await o.both("HELLO", "2");
      expect(problems.join("\n")).toBe("");
    });
  }

  test("COMMAND, COMMAND COUNT, COMMAND INFO and COMMAND LIST agree with one another", async () => {
    const { top, all } = await redbunNames();
    const count = await o.b.call("COMMAND", "COUNT");
    expect(count).toBe(`:${top.length}\r\n`);
    for (const args of [["COMMAND"], ["COMMAND", "INFO"]]) {
      const entries = rawItems(await o.b.call(...args));
      expect(entries.length).toBe(top.length);
      const byName = new Map(entries.map((e) => [rawItems(e)[0]!.split("\r\n")[1]!, e]));
      expect([...byName.keys()].sort()).toEqual([...top].sort());
      for (const name of top) expect(`*1\r\n${byName.get(name)}`).toBe(await o.b.call("COMMAND", "INFO", name));
    }
    const docs = rawItems(await o.b.call("COMMAND", "DOCS"));
    expect(docs.length).toBe(2 * top.length);
    // Every subcommand COMMAND LIST names is found by COMMAND INFO container|sub.
    for (const name of all.filter((n) => n.includes("|"))) {
      expect(rawItems(rawItems(await o.b.call("COMMAND", "INFO", name))[0]!)[0]).toBe(`$${name.length}\r\n${name}\r\n`);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Subcommand arguments and errors
// ---------------------------------------------------------------------------------------

describe("COMMAND subcommands", () => {
  test("errors and arity", async () => {
    await o.sameAll([
      ["COMMAND", "FOO"], ["COMMAND", "COUNT", "x"], ["COMMAND", "HELP", "x"], ["COMMAND", "HELP"],
      ["command", "help"], ["COMMAND", "GETKEYS"], ["COMMAND", "GETKEYS", "get"], ["COMMAND", "GETKEYSANDFLAGS", "get"],
      ["COMMAND", "LIST", "x"], ["COMMAND", "LIST", "FILTERBY"], ["COMMAND", "LIST", "FILTERBY", "foo", "bar"],
      ["COMMAND", "LIST", "FILTERBY", "pattern", "a", "b"], ["COMMAND", "LIST", "FILTERBY", "module", "x"],
      ["COMMAND", "LIST", "FILTERBY", "aclcat", "nosuch"],
    ]);
  });

  test("COMMAND INFO and COMMAND DOCS of names that are not commands", async () => {
    for (const args of [
      ["nosuch"], ["client|"], ["|list"], ["client|list|x"], ["ping|x"], ["CLIENT|LIST"], ["PING", "nosuch", "ping"],
      [""], ["client|nosuch"], ["Command|Info"],
    ]) {
      await o.same("COMMAND", "INFO", ...args);
      await o.same("COMMAND", "DOCS", ...args);
    }
  });

  test("COMMAND GETKEYS errors over sockets", async () => {
    await o.sameAll([
      ["COMMAND", "GETKEYS", "nosuch", "a"], ["COMMAND", "GETKEYS", "ping", "x"], ["COMMAND", "GETKEYS", "client", "list"],
      ["COMMAND", "GETKEYS", "client", "nosuch"], ["COMMAND", "GETKEYS", "command", "count"],
      ["COMMAND", "GETKEYSANDFLAGS", "echo", "x"], ["COMMAND", "GETKEYS", "command", "getkeys", "get"],
    ]);
  });

  test("COMMAND LIST filters, restricted to the commands redbun has", async () => {
    const { all } = await redbunNames();
    const known = new Set(all);
    for (const [by, value] of [["pattern", "cl*"], ["pattern", "CLIENT|L*"], ["pattern", "*"], ["pattern", "[a-d]*"], ["aclcat", "connection"], ["aclcat", "CONNECTION"], ["aclcat", "dangerous"], ["aclcat", "keyspace"], ["aclcat", "slow"]]) {
      const [want, got] = await o.both("COMMAND", "LIST", "FILTERBY", by!, value!);
      const wanted = (decode(want) as string[]).filter((n) => known.has(n)).sort();
      expect(`${by} ${value}: ${(decode(got) as string[]).sort()}`).toBe(`${by} ${value}: ${wanted}`);
    }
  });

  test("COMMAND with a container's handler runs it when called bare, in both protocols", async () => {
    for (const resp of ["2", "3"]) {
      const reply = await o.b.call("HELLO", resp);
      expect(reply.length).toBeGreaterThan(0);
      const all = await o.b.call("COMMAND");
      expect(all.startsWith(`*${rawItems(all).length}\r\n*10\r\n`)).toBe(true);
    }
    await o.b.call("HELLO", "2");
  });

  test("pipelined, and split across writes", async () => {
    const [r, b] = await o.connectBoth();
    const bytes = Buffer.concat([encodeCommand(["COMMAND", "COUNT"]), encodeCommand(["COMMAND", "INFO", "ping", "echo"]), encodeCommand(["COMMAND", "HELP"])]);
    for (const conn of [r, b]) {
      for (let i = 0; i < bytes.length; i += 7) conn.write(bytes.subarray(i, i + 7));
    }
    await r.read();
    await b.read();
    for (let i = 0; i < 2; i++) expect(await b.read()).toBe(await r.read());
    r.close();
    b.close();
  });
});

describe("COMMAND GETKEYS from a command's key function", () => {
  test("SET's key flags depend on GET, as Redis's setGetKeys", async () => {
    for (const line of [["k", "v"], ["k", "v", "GET"], ["k", "v", "EX", "10", "get"], ["k", "v", "NX"], ["k", "GET", "v"]]) {
      await o.same("COMMAND", "GETKEYSANDFLAGS", "SET", ...line);
      await o.same("COMMAND", "GETKEYS", "SET", ...line);
    }
  });
});
