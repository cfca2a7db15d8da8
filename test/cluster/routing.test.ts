// Cluster routing (getNodeByQuery + clusterRedirectClient): every outcome over a fake view,
// then the same command lines sent to a real 3-node Redis 7.0 cluster (slots owned
// elsewhere, a slot being migrated, ASKING, MULTI/EXEC) and to a real node whose cluster is
// down, comparing our refusals byte for byte with Redis's.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RespConn, encodeCommand } from "../oracle/harness.ts";
import { decodeReply } from "../oracle/resp.ts";
import { Argv, ParseState, parseCommand } from "../../src/resp/parser.ts";
import { ReplyWriter } from "../../src/resp/writer.ts";
import { type Command, CommandTable } from "../../src/commands/table.ts";
import { allCommands } from "../../src/commands/index.ts";
import { CLUSTER_SLOTS, keyHashSlot } from "../../src/cluster/slots.ts";
import {
  type ClusterView, type QueuedLike, type RouteClient, ROUTE, Redirect, addRouteError, route,
} from "../../src/cluster/routing.ts";
import { type ClusterNode, startClusterNode, startRedisCluster, waitForClusterInfo } from "./redis-cluster.ts";

// ---------------------------------------------------------------------------------------
// The command table: redbun's, plus Redis's declarations of the commands redbun lacks yet
// (scripting and functions), so that EVAL/FCALL key counts are routed as Redis does.
// ---------------------------------------------------------------------------------------

/** The routing table: redbun's own command table, scripting commands included. */
function buildTable(): CommandTable {
  return new CommandTable(allCommands);
}

// ---------------------------------------------------------------------------------------
// A fake cluster view: nodes are their "host:port" strings
// ---------------------------------------------------------------------------------------

class FakeView implements ClusterView<string> {
  readonly owners: (string | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  readonly migrating = new Map<number, string>();
  readonly importing = new Map<number, string>();
  readonly keys = new Set<string>();
  master: string | null = null;
  ok = true;
  allowReadsWhenDown = false;
  allowPubsubshardWhenDown = true;

  constructor(readonly myself: string) {}

  slotOwner(slot: number): string | null {
    return this.owners[slot]!;
  }
  myMaster(): string | null {
    return this.master;
  }
  migratingTo(slot: number): string | null {
    return this.migrating.get(slot) ?? null;
  }
  importingFrom(slot: number): string | null {
    return this.importing.get(slot) ?? null;
  }
  stateOk(): boolean {
    return this.ok;
  }
  endpoint(node: string): string {
    return node;
  }
  keyExists(buf: Uint8Array, start: number, len: number): boolean {
    return this.keys.has(Buffer.from(buf.subarray(start, start + len)).toString("latin1"));
  }
  assign(from: number, to: number, node: string | null): void {
    for (let s = from; s <= to; s++) this.owners[s] = node;
  }
}

/** The arguments as dispatch sees them: the command line encoded, then parsed. */
function argvOf(args: string[]): Argv {
  const argv = new Argv();
  const line = encodeCommand(args);
  parseCommand(line, 0, line.length, argv, new ParseState());
  return argv;
}

/** The command as dispatch resolves it: a container's subcommand when there is one. */
function lookup(table: CommandTable, args: string[]): Command {
  const cmd = table.byName.get(args[0]!.toLowerCase());
  if (cmd === undefined) throw new Error(`no command ${args[0]}`);
  if (cmd.subcommands === null || args.length < 2) return cmd;
  return cmd.subcommands.get(args[1]!.toLowerCase()) ?? cmd;
}

/** A command queued in MULTI, as transaction.ts keeps it. */
function queued(table: CommandTable, args: string[]): QueuedLike {
  const argv = argvOf(args);
  return { cmd: lookup(table, args), buf: argv.buf, start: argv.start, len: argv.len, count: argv.count };
}

interface ClientFlags {
  asking?: boolean;
  readonly?: boolean;
  multi?: string[][];
}

const SERVE = "SERVE";

/** Routes a command line: "SERVE", or the error reply we would send. */
function ours(table: CommandTable, view: FakeView, args: string[], flags: ClientFlags = {}): string {
  const commands = (flags.multi ?? []).map((line) => queued(table, line));
  let multiFlags = 0;
  for (const q of commands) multiFlags |= q.cmd.flags;
  const client: RouteClient = {
    asking: flags.asking ?? false,
    readonly: flags.readonly ?? false,
    multi: flags.multi === undefined ? null : { commands, flags: multiFlags },
  };
  const redirect = new Redirect<string>();
  const code = route(view, lookup(table, args), argvOf(args), client, redirect);
  if (code === ROUTE.serve) return SERVE;
  const w = new ReplyWriter(256);
  addRouteError(w, view, code, redirect);
  return Buffer.from(w.bytes()).toString("latin1");
}

/** The first tag "{t<n>}" whose slot satisfies the test. */
function tagWhere(ok: (slot: number) => boolean, not: string[] = []): string {
  for (let n = 0; ; n++) {
    const tag = `{t${n}}`;
    if (!not.includes(tag) && ok(keyHashSlot(Buffer.from(tag), 0, tag.length))) return tag;
  }
}

const slotOf = (key: string): number => keyHashSlot(Buffer.from(key, "latin1"), 0, key.length);

// ---------------------------------------------------------------------------------------
// Every outcome over the fake view
// ---------------------------------------------------------------------------------------

describe("route over a fake view", () => {
  let table: CommandTable;
  let redis: ClusterNode;
  beforeAll(async () => {
    redis = await startClusterNode();
    table = buildTable();
  });
  afterAll(async () => {
    await redis.stop();
  });

  const ME = "127.0.0.1:7000";
  const OTHER = "127.0.0.1:7001";
  const THIRD = "127.0.0.1:7002";
  /** Slots 0-8191 are mine, the rest OTHER's. */
  function twoNodes(): FakeView {
    const view = new FakeView(ME);
    view.assign(0, 8191, ME);
    view.assign(8192, CLUSTER_SLOTS - 1, OTHER);
    return view;
  }
  const mine = tagWhere((s) => s < 8192);
  const mine2 = tagWhere((s) => s < 8192 && s !== slotOf(mine), [mine]);
  const theirs = tagWhere((s) => s >= 8192);

  test("keys of my slots are served, others are MOVED, mixed slots are CROSSSLOT", () => {
    const view = twoNodes();
    expect(ours(table, view, ["GET", mine + "a"])).toBe(SERVE);
    expect(ours(table, view, ["GET", theirs])).toBe(`-MOVED ${slotOf(theirs)} ${OTHER}\r\n`);
    expect(ours(table, view, ["MGET", mine + "a", mine + "b"])).toBe(SERVE);
    expect(ours(table, view, ["MGET", mine, mine2])).toBe("-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    // The first key decides the node: a second key elsewhere is a cross-slot request, not a redirect.
    expect(ours(table, view, ["MSET", theirs, "1", mine, "2"])).toBe("-CROSSSLOT Keys in request don't hash to the same slot\r\n");
  });

  test("commands without keys are served in every state", () => {
    const view = twoNodes();
    view.ok = false;
    view.assign(0, CLUSTER_SLOTS - 1, null);
    for (const line of [["PING"], ["PUBLISH", theirs, "m"], ["DBSIZE"], ["SUNSUBSCRIBE"], ["EVAL", "return 1", "0"]]) {
      expect(`${line[0]} ${ours(table, view, line)}`).toBe(`${line[0]} ${SERVE}`);
    }
  });

  test("key counts of EVAL and FCALL, and key functions (SORT STORE, SET GET)", () => {
    const view = twoNodes();
    expect(ours(table, view, ["EVAL", "s", "1", theirs])).toStartWith("-MOVED ");
    expect(ours(table, view, ["EVAL", "s", "1", mine, theirs])).toBe(SERVE);
    expect(ours(table, view, ["FCALL", "f", "2", mine, theirs])).toStartWith("-CROSSSLOT ");
    // A key count that is not one, or too large, finds no keys: the command reports it.
    expect(ours(table, view, ["EVAL", "s", "x", theirs])).toBe(SERVE);
    expect(ours(table, view, ["EVAL", "s", "3", theirs])).toBe(SERVE);
    expect(ours(table, view, ["SORT", mine, "STORE", theirs])).toStartWith("-CROSSSLOT ");
    expect(ours(table, view, ["SET", theirs, "v", "GET"])).toStartWith("-MOVED ");
  });

  test("shard channels route by their slot", () => {
    const view = twoNodes();
    expect(ours(table, view, ["SPUBLISH", theirs, "m"])).toBe(`-MOVED ${slotOf(theirs)} ${OTHER}\r\n`);
    expect(ours(table, view, ["SSUBSCRIBE", mine, mine2])).toStartWith("-CROSSSLOT ");
    expect(ours(table, view, ["SSUBSCRIBE", mine + "x", mine + "y"])).toBe(SERVE);
  });

  test("an unowned slot is CLUSTERDOWN Hash slot not served, even when the state is ok", () => {
    const view = twoNodes();
    view.owners[slotOf(theirs)] = null;
    expect(ours(table, view, ["GET", theirs])).toBe("-CLUSTERDOWN Hash slot not served\r\n");
    // Only the first key's slot is looked up: after it, another slot is cross-slot.
    expect(ours(table, view, ["MGET", mine, theirs])).toStartWith("-CROSSSLOT ");
  });

  test("a cluster that is down refuses keys, except reads (and shard channels) when allowed", () => {
    const view = twoNodes();
    view.ok = false;
    expect(ours(table, view, ["GET", mine])).toBe("-CLUSTERDOWN The cluster is down\r\n");
    expect(ours(table, view, ["SPUBLISH", mine, "m"])).toBe(SERVE);
    view.allowPubsubshardWhenDown = false;
    expect(ours(table, view, ["SPUBLISH", mine, "m"])).toBe("-CLUSTERDOWN The cluster is down\r\n");
    view.allowReadsWhenDown = true;
    expect(ours(table, view, ["GET", mine])).toBe(SERVE);
    expect(ours(table, view, ["GET", theirs])).toStartWith("-MOVED ");
    expect(ours(table, view, ["SET", mine, "v"])).toBe("-CLUSTERDOWN The cluster is down and only accepts read commands\r\n");
  });

  test("a migrating slot: ASK when all keys are gone, TRYAGAIN when some are", () => {
    const view = twoNodes();
    const slot = slotOf(mine);
    view.migrating.set(slot, THIRD);
    view.keys.add(mine + "a");
    expect(ours(table, view, ["GET", mine + "a"])).toBe(SERVE);
    expect(ours(table, view, ["GET", mine + "b"])).toBe(`-ASK ${slot} ${THIRD}\r\n`);
    expect(ours(table, view, ["MGET", mine + "b", mine + "c"])).toBe(`-ASK ${slot} ${THIRD}\r\n`);
    expect(ours(table, view, ["MGET", mine + "a", mine + "b"])).toBe("-TRYAGAIN Multiple keys request during rehashing of slot\r\n");
    expect(ours(table, view, ["SPUBLISH", mine + "b", "m"])).toBe(SERVE);
    // MIGRATE runs on both ends of an open slot, to move the keys.
    const migrate = ["MIGRATE", "h", "1", mine + "b", "0", "100"];
    expect(ours(table, view, migrate)).toBe(SERVE);
  });

  test("an importing slot serves ASKING clients, once per command unless in MULTI", () => {
    const view = twoNodes();
    const slot = slotOf(theirs);
    view.importing.set(slot, OTHER);
    view.keys.add(theirs + "a");
    expect(ours(table, view, ["GET", theirs + "a"])).toBe(`-MOVED ${slot} ${OTHER}\r\n`);
    expect(ours(table, view, ["GET", theirs + "b"], { asking: true })).toBe(SERVE);
    expect(ours(table, view, ["MGET", theirs + "b", theirs + "b"], { asking: true })).toBe(SERVE);
    expect(ours(table, view, ["MGET", theirs + "a", theirs + "b"], { asking: true })).toStartWith("-TRYAGAIN ");
    expect(ours(table, view, ["MGET", theirs + "a", theirs + "a"], { asking: true })).toBe(SERVE);
    // RESTORE-ASKING carries the asking flag itself.
    expect(ours(table, view, ["RESTORE-ASKING", theirs + "z", "0", "x"])).toBe(SERVE);
  });

  test("EXEC routes by all queued commands", () => {
    const view = twoNodes();
    expect(ours(table, view, ["EXEC"])).toBe(SERVE);
    expect(ours(table, view, ["EXEC"], { multi: [] })).toBe(SERVE);
    expect(ours(table, view, ["EXEC"], { multi: [["SET", mine + "a", "1"], ["GET", mine + "b"]] })).toBe(SERVE);
    expect(ours(table, view, ["EXEC"], { multi: [["SET", mine, "1"], ["GET", mine2]] })).toStartWith("-CROSSSLOT ");
    expect(ours(table, view, ["EXEC"], { multi: [["PING"], ["GET", theirs]] })).toStartWith("-MOVED ");
  });

  test("a READONLY replica reads its master's slots, never writes them", () => {
    const view = new FakeView(ME);
    view.assign(0, CLUSTER_SLOTS - 1, OTHER);
    view.master = OTHER;
    expect(ours(table, view, ["GET", theirs])).toStartWith("-MOVED ");
    expect(ours(table, view, ["GET", theirs], { readonly: true })).toBe(SERVE);
    expect(ours(table, view, ["SET", theirs, "v"], { readonly: true })).toStartWith("-MOVED ");
    // Shard channels are read on replicas without READONLY.
    expect(ours(table, view, ["SPUBLISH", theirs, "m"])).toBe(SERVE);
    const reads = [["GET", theirs], ["STRLEN", theirs]];
    expect(ours(table, view, ["EXEC"], { readonly: true, multi: reads })).toBe(SERVE);
    expect(ours(table, view, ["EXEC"], { readonly: true, multi: [...reads, ["DEL", theirs]] })).toStartWith("-MOVED ");
    // A replica of another master is redirected.
    view.master = THIRD;
    expect(ours(table, view, ["GET", theirs], { readonly: true })).toStartWith("-MOVED ");
  });
});

// ---------------------------------------------------------------------------------------
// Against real Redis nodes
// ---------------------------------------------------------------------------------------

const REFUSALS = ["-MOVED ", "-ASK ", "-CROSSSLOT ", "-TRYAGAIN ", "-CLUSTERDOWN "];

/** Sends the lines in one pipeline and returns the reply to each. */
async function send(conn: RespConn, lines: string[][]): Promise<string[]> {
  conn.write(Buffer.concat(lines.map((l) => encodeCommand(l))));
  const replies: string[] = [];
  for (let i = 0; i < lines.length; i++) replies.push(await conn.read());
  return replies;
}

/** Our answer must be Redis's refusal byte for byte, or we serve what Redis served. */
function expectSame(line: string[], real: string, ourReply: string): void {
  const label = line.join(" ");
  if (ourReply === SERVE) {
    const refused = REFUSALS.some((p) => real.startsWith(p));
    expect(`${label} => ${refused ? real : SERVE}`).toBe(`${label} => ${SERVE}`);
  } else {
    expect(`${label} => ${ourReply}`).toBe(`${label} => ${real}`);
  }
}

/** A view of the real cluster as `node` sees it (CLUSTER NODES), nodes named "ip:port". */
async function viewFrom(node: ClusterNode): Promise<FakeView> {
  const text = decodeReply(await node.conn.call("CLUSTER", "NODES")) as string;
  let view: FakeView | null = null;
  const owned: [string, string[]][] = [];
  for (const line of text.trim().split("\n")) {
    const fields = line.split(" ");
    const address = fields[1]!.split("@")[0]!;
    if (fields[2]!.includes("myself")) view = new FakeView(address);
    owned.push([address, fields.slice(8)]);
  }
  for (const [address, ranges] of owned) {
    for (const range of ranges) {
      const [from, to] = range.split("-").map(Number);
      view!.assign(from!, to ?? from!, address);
    }
  }
  return view!;
}

describe("refusals compared with a real 3-node Redis cluster", () => {
  let table: CommandTable;
  let nodes: ClusterNode[];
  let a: ClusterNode;
  let viewA: FakeView;
  beforeAll(async () => {
    nodes = await startRedisCluster(3);
    a = nodes[0]!;
    table = buildTable();
    viewA = await viewFrom(a);
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  const addressOf = (n: ClusterNode): string => `127.0.0.1:${n.port}`;

  test("MOVED, CROSSSLOT and served lines on a node", async () => {
    const myTag = tagWhere((s) => viewA.owners[s] === viewA.myself);
    const myTag2 = tagWhere((s) => viewA.owners[s] === viewA.myself && s !== slotOf(myTag), [myTag]);
    const far = tagWhere((s) => viewA.owners[s] !== viewA.myself);
    const lines = [
      ["GET", far + "k"], ["GET", myTag + "k"], ["SET", far, "v"], ["SET", far, "v", "GET"], ["MGET", myTag, far],
      ["MGET", far + "a", far + "b"], ["MSET", myTag + "a", "1", myTag + "b", "2"], ["DEL", myTag, myTag2],
      ["EVAL", "return 1", "1", far], ["EVAL", "return 1", "2", myTag, far], ["EVAL", "return 1", "0"],
      ["EVAL", "return 1", "x", far], ["EVAL", "return 1", "5", far], ["FCALL", "f", "1", far], ["FCALL_RO", "f", "1", far],
      ["SORT", myTag, "STORE", far], ["SORT", far], ["ZUNIONSTORE", far, "3", "a", "b"], ["PING"], ["PUBLISH", far, "m"],
      ["SPUBLISH", far, "m"], ["SPUBLISH", myTag, "m"], ["SSUBSCRIBE", myTag, far], ["SSUBSCRIBE", far], ["EXEC"],
      ["SINTERCARD", "2", myTag, far], ["ZUNION", "2", myTag + "a", myTag + "b"], ["RENAME", myTag + "a", far], ["OBJECT", "ENCODING", far],
      ["RESTORE-ASKING", far, "0", "x"], ["LMPOP", "2", myTag, far, "LEFT"], ["TOUCH", myTag + "a", myTag + "a"],
      ["MIGRATE", "127.0.0.1", "1", far, "0", "100"], ["MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS", myTag, far],
    ];
    const replies = await send(a.conn, lines);
    lines.forEach((line, i) => expectSame(line, replies[i]!, ours(table, viewA, line)));
  });

  test("EXEC checks the keys of every queued command", async () => {
    const myTag = tagWhere((s) => viewA.owners[s] === viewA.myself);
    const myTag2 = tagWhere((s) => viewA.owners[s] === viewA.myself && s !== slotOf(myTag), [myTag]);
    const queuedLines = [["SET", myTag, "1"], ["GET", myTag2]];
    const replies = await send(a.conn, [["MULTI"], ...queuedLines, ["EXEC"]]);
    expect(replies.slice(0, 3)).toEqual(["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n"]);
    expectSame(["EXEC"], replies[3]!, ours(table, viewA, ["EXEC"], { multi: queuedLines }));
    expect(replies[3]).toStartWith("-CROSSSLOT ");
  });

  test("a slot migrating from one node to another: ASK, TRYAGAIN, ASKING", async () => {
    const source = nodes[1]!;
    const target = nodes[2]!;
    const viewSource = await viewFrom(source);
    const tag = tagWhere((s) => viewSource.owners[s] === viewSource.myself);
    const slot = slotOf(tag);
    const ids = await Promise.all([source, target].map(async (n) => decodeReply(await n.conn.call("CLUSTER", "MYID")) as string));
    await send(source.conn, [["SET", tag + "a", "1"]]);
    expect(await send(source.conn, [["CLUSTER", "SETSLOT", String(slot), "MIGRATING", ids[1]!]])).toEqual(["+OK\r\n"]);
    expect(await send(target.conn, [["CLUSTER", "SETSLOT", String(slot), "IMPORTING", ids[0]!]])).toEqual(["+OK\r\n"]);
    viewSource.migrating.set(slot, addressOf(target));
    viewSource.keys.add(tag + "a");

    const sourceLines = [
      ["GET", tag + "a"], ["GET", tag + "b"], ["MGET", tag + "a", tag + "b"], ["MGET", tag + "b", tag + "c"],
      ["MGET", tag + "b", tag + "b"], ["EXISTS", tag + "a", tag + "a"], ["SET", tag + "b", "2"], ["SPUBLISH", tag + "b", "m"],
      ["MIGRATE", "127.0.0.1", String(target.port), tag + "b", "0", "1000"],
    ];
    const sourceReplies = await send(source.conn, sourceLines);
    sourceLines.forEach((line, i) => expectSame(line, sourceReplies[i]!, ours(table, viewSource, line)));
    expect(sourceReplies[1]).toBe(`-ASK ${slot} ${addressOf(target)}\r\n`);
    expect(sourceReplies[2]).toBe("-TRYAGAIN Multiple keys request during rehashing of slot\r\n");

    const viewTarget = await viewFrom(target);
    viewTarget.importing.set(slot, addressOf(source));
    // [line, whether ASKING precedes it]: ASKING lasts for one command only.
    const targetLines: [string[], boolean][] = [
      [["GET", tag + "b"], false], [["GET", tag + "b"], true], [["MGET", tag + "b", tag + "c"], true],
      [["MGET", tag + "b", tag + "b"], true], [["SPUBLISH", tag + "x", "m"], true], [["SPUBLISH", tag + "x", "m"], false],
      [["SET", tag + "b", "1"], true],
    ];
    for (const [line, asking] of targetLines) {
      const replies = await send(target.conn, asking ? [["ASKING"], line] : [line]);
      expectSame(line, replies[replies.length - 1]!, ours(table, viewTarget, line, { asking }));
    }
    viewTarget.keys.add(tag + "b");
    for (const line of [["MGET", tag + "b", tag + "c"], ["MGET", tag + "b"], ["GET", tag + "b"]]) {
      const replies = await send(target.conn, [["ASKING"], line]);
      expectSame(line, replies[1]!, ours(table, viewTarget, line, { asking: true }));
    }
    // In MULTI, ASKING covers the queued commands and EXEC.
    const queuedLines = [["GET", tag + "b"], ["GET", tag + "b"]];
    const replies = await send(target.conn, [["ASKING"], ["MULTI"], ...queuedLines, ["EXEC"]]);
    expect(replies.slice(1, 4)).toEqual(["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n"]);
    expectSame(["EXEC"], replies[4]!, ours(table, viewTarget, ["EXEC"], { asking: true, multi: queuedLines }));
  });

  test("READONLY on a replica: reads of its master's slots are served, writes are MOVED", async () => {
    const replica = await startClusterNode();
    try {
      const masterId = decodeReply(await a.conn.call("CLUSTER", "MYID")) as string;
      await send(replica.conn, [["CLUSTER", "MEET", "127.0.0.1", String(a.port)]]);
      // REPLICATE needs the master known to the new node, which the handshake takes a moment for.
      const deadline = Date.now() + 8000;
      while ((await replica.conn.call("CLUSTER", "REPLICATE", masterId)) !== "+OK\r\n") {
        if (Date.now() > deadline) throw new Error("the replica never learned its master");
        await Bun.sleep(20);
      }
      await waitForClusterInfo(replica.conn, "cluster_state", "ok");
      const view = await viewFrom(replica);
      view.master = addressOf(a);
      const masterTag = tagWhere((s) => view.owners[s] === view.master);
      const otherTag = tagWhere((s) => view.owners[s] !== view.master);
      const lines = [
        ["GET", masterTag], ["SET", masterTag, "v"], ["GET", otherTag], ["SPUBLISH", masterTag, "m"], ["SPUBLISH", otherTag, "m"],
      ];
      for (const readonly of [false, true]) {
        if (readonly) expect(await send(replica.conn, [["READONLY"]])).toEqual(["+OK\r\n"]);
        const replies = await send(replica.conn, lines);
        lines.forEach((line, i) => expectSame(line, replies[i]!, ours(table, view, line, { readonly })));
      }
      const queuedLines = [["GET", masterTag], ["STRLEN", masterTag]];
      const replies = await send(replica.conn, [["MULTI"], ...queuedLines, ["EXEC"]]);
      expect(replies.slice(0, 3)).toEqual(["+OK\r\n", "+QUEUED\r\n", "+QUEUED\r\n"]);
      expectSame(["EXEC"], replies[3]!, ours(table, view, ["EXEC"], { readonly: true, multi: queuedLines }));
      expect(replies[3]).toStartWith("*2\r\n");
    } finally {
      await replica.stop();
    }
  });
});

describe("refusals compared with a real node whose cluster is down", () => {
  let table: CommandTable;
  let node: ClusterNode;
  let view: FakeView;
  const LAST_OWNED = 8000;
  beforeAll(async () => {
    node = await startClusterNode();
    table = buildTable();
    await send(node.conn, [["CLUSTER", "ADDSLOTSRANGE", "0", String(LAST_OWNED)]]);
    await waitForClusterInfo(node.conn, "cluster_slots_assigned", String(LAST_OWNED + 1));
    await waitForClusterInfo(node.conn, "cluster_state", "fail");
    view = await viewFrom(node);
    view.ok = false;
  });
  afterAll(async () => {
    await node.stop();
  });

  async function compare(lines: string[][]): Promise<void> {
    const replies = await send(node.conn, lines);
    lines.forEach((line, i) => expectSame(line, replies[i]!, ours(table, view, line)));
  }

  const owned = tagWhere((s) => s <= LAST_OWNED);
  const unowned = tagWhere((s) => s > LAST_OWNED);

  test("CLUSTERDOWN for unserved slots and for a failed state", async () => {
    await compare([
      ["GET", owned], ["GET", unowned], ["SET", owned, "v"], ["MGET", owned, unowned], ["MGET", unowned, owned],
      ["PING"], ["SPUBLISH", owned, "m"], ["SPUBLISH", unowned, "m"], ["EVAL", "return 1", "0"],
    ]);
    expect(await send(node.conn, [["GET", owned], ["GET", unowned]])).toEqual([
      "-CLUSTERDOWN The cluster is down\r\n", "-CLUSTERDOWN Hash slot not served\r\n",
    ]);
  });

  test("cluster-allow-reads-when-down and cluster-allow-pubsubshard-when-down", async () => {
    await send(node.conn, [["CONFIG", "SET", "cluster-allow-reads-when-down", "yes"]]);
    await send(node.conn, [["CONFIG", "SET", "cluster-allow-pubsubshard-when-down", "no"]]);
    view.allowReadsWhenDown = true;
    view.allowPubsubshardWhenDown = false;
    await compare([
      ["GET", owned], ["SET", owned, "v"], ["GET", unowned], ["MSET", owned + "a", "1", owned + "b", "2"],
      ["SPUBLISH", owned, "m"], ["EVAL", "return 1", "1", owned],
    ]);
    expect(await send(node.conn, [["SET", owned, "v"]])).toEqual([
      "-CLUSTERDOWN The cluster is down and only accepts read commands\r\n",
    ]);
  });
});
