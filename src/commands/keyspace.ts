// Keyspace commands (Redis's db.c and object.c): DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY
// RENAME RENAMENX COPY MOVE DBSIZE FLUSHDB FLUSHALL TOUCH OBJECT. Time-to-live commands
// are in expire.ts; SCAN's handler is in scan.ts, which it shares with HSCAN, SSCAN, ZSCAN.

import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { Db } from "../store/db.ts";
import type { Argv } from "../resp/parser.ts";
import { type KeyTable, ValueKind } from "../store/keytable.ts";
import { keyRange, type CommandDef } from "./table.ts";
import { OK, type ReplyWriter } from "../resp/writer.ts";
import { ERR } from "../resp/errors.ts";
import { parseInt32Arg } from "./args.ts";
import { SCAN_ARGUMENTS, scanCommand } from "./scan.ts";
import { Enc, META_UNSHARED, ObjType, encodingName, lfuDecayedCounter, lruIdleSeconds, metaEnc, metaLru, metaType, packMeta, typeName } from "../store/object.ts";
import { globMatch, isMatchAll } from "../util/glob.ts";
import { bytesEqual } from "../util/bytes.ts";
import { rdbSaveFile } from "../persistence/rdb.ts";
import { dupString, stringToInt64 } from "../store/string.ts";
import { NOTIFY, notifyArg, notifyArgIn } from "../server/notify.ts";

// ---------------------------------------------------------------------------------------
// Deleting and testing keys
// ---------------------------------------------------------------------------------------

/** DEL key [key ...] and UNLINK key [key ...]: values are freed by the garbage collector either way. */
function delCommand(c: Client): void {
  const argv = c.argv;
  const db = c.db;
  const now = c.server.clock.nowMs;
  let deleted = 0;
  for (let i = 1; i < argv.count; i++) {
    // The lookup expires a key past its time first, so that it counts as expired rather than deleted.
    const id = db.peekArg(argv, i, now);
    if (id < 0) continue;
    db.delete(id);
    notifyArg(c, NOTIFY.GENERIC, "del", i);
    deleted++;
  }
  c.server.dirty += deleted;
  c.w.addInteger(deleted);
}

/** EXISTS key [key ...]: a key named twice counts twice. */
function existsCommand(c: Client): void {
  c.w.addInteger(countExisting(c, false));
}

/** TOUCH key [key ...]: EXISTS that also updates each key's access time. */
function touchCommand(c: Client): void {
  c.w.addInteger(countExisting(c, true));
}

/** How many of the key arguments exist, each looked up as a read (hit/miss stats). */
function countExisting(c: Client, touch: boolean): number {
  const argv = c.argv;
  const db = c.db;
  const now = c.server.clock.nowMs;
  let found = 0;
  for (let i = 1; i < argv.count; i++) {
    const id = touch ? db.lookupReadArg(argv, i, now) : db.lookupReadNoTouchArg(argv, i, now);
    if (id >= 0) found++;
  }
  return found;
}

/** TYPE key */
function typeCommand(c: Client): void {
  const id = c.db.lookupReadNoTouchArg(c.argv, 1);
  c.w.addSimple(id < 0 ? "none" : typeName(c.db.typeOf(id)));
}

/** DBSIZE: keys past their time but not yet removed still count, as in Redis. */
function dbsizeCommand(c: Client): void {
  c.w.addInteger(c.db.size);
}

/** RANDOMKEY */
function randomkeyCommand(c: Client): void {
  const id = c.db.randomKey();
  if (id < 0) c.w.addNull();
  else addReplyKey(c.w, c.db.table, id);
}

/** Reply with the name of key `id` as a bulk string, straight from the table. */
function addReplyKey(w: ReplyWriter, table: KeyTable, id: number): void {
  w.addBulkView(table.keyPage(id), table.keyOffset(id), table.keyLength(id));
}

// ---------------------------------------------------------------------------------------
// KEYS (SCAN is in scan.ts, with the collection scans)
// ---------------------------------------------------------------------------------------

/** KEYS pattern: reports keys past their time without removing them, as Redis does. */
function keysCommand(c: Client): void {
  const pattern = c.argv.str(1);
  const all = isMatchAll(pattern);
  const db = c.db;
  const now = c.server.clock.nowMs;
  const w = c.w;
  const table = db.table;
  const at = w.deferLen();
  let n = 0;
  for (let id = 0; id < table.idLimit; id++) {
    if (!table.isLive(id)) continue;
    if (!all && !globMatch(pattern, table.keyString(id), false)) continue;
    if (db.isExpired(id, now)) continue;
    addReplyKey(w, table, id);
    n++;
  }
  w.setDeferredLen(at, "array", n);
}

// ---------------------------------------------------------------------------------------
// RENAME, COPY, MOVE
// ---------------------------------------------------------------------------------------

/** RENAME key newkey */
function renameCommand(c: Client): void {
  renameGeneric(c, false);
}

/** RENAMENX key newkey */
function renamenxCommand(c: Client): void {
  renameGeneric(c, true);
}

function renameGeneric(c: Client, nx: boolean): void {
  const db = c.db;
  const argv = c.argv;
  const now = c.server.clock.nowMs;
  const from = db.lookupWriteArg(argv, 1, now);
  if (from < 0) return c.w.addErrorBytes(ERR.noSuchKey);
  // Renaming a key onto itself succeeds without doing anything, once the key is known to exist.
  if (sameArgument(argv, 1, 2)) return nx ? c.w.addInteger(0) : c.w.addRaw(OK);
  const when = db.getExpire(from);
  const existing = db.lookupWriteArg(argv, 2, now);
  if (existing >= 0) {
    if (nx) return c.w.addInteger(0);
    db.delete(existing);
  }
  const to = db.insertArg(argv, 2, db.table.valueLength(from));
  db.takeValue(db, from, to);
  if (when !== -1) db.setExpire(to, when);
  db.delete(from);
  notifyArg(c, NOTIFY.GENERIC, "rename_from", 1);
  notifyArg(c, NOTIFY.GENERIC, "rename_to", 2);
  c.server.dirty++;
  if (nx) c.w.addInteger(1);
  else c.w.addRaw(OK);
}

/** COPY source destination [DB destination-db] [REPLACE] */
function copyCommand(c: Client): void {
  const argv = c.argv;
  const source = c.db;
  let target = source;
  let replace = false;
  for (let i = 3; i < argv.count; i++) {
    if (argv.is(i, "replace")) {
      replace = true;
    } else if (argv.is(i, "db") && i + 1 < argv.count) {
      const db = selectDbArg(c, ++i);
      if (db === null) return;
      if (c.server.cluster !== null && db !== source) return c.w.addError("ERR Copying to another database is not allowed in cluster mode");
      target = db;
    } else {
      return c.w.addErrorBytes(ERR.syntax);
    }
  }
  if (source === target && sameArgument(argv, 1, 2)) return c.w.addErrorBytes(ERR.sameObject);
  const now = c.server.clock.nowMs;
  const id = source.lookupReadArg(argv, 1, now);
  if (id < 0) return c.w.addInteger(0);
  const when = source.getExpire(id);
  const existing = target.lookupWriteArg(argv, 2, now);
  if (existing >= 0) {
    if (!replace) return c.w.addInteger(0);
    target.delete(existing);
  }
  const copy = target.insertArg(argv, 2, source.table.valueLength(id));
  duplicateValue(source, id, target, copy);
  if (when !== -1) target.setExpire(copy, when);
  notifyArgIn(c, target, NOTIFY.GENERIC, "copy_to", 2);
  c.server.dirty++;
  c.w.addInteger(1);
}

/** MOVE key db */
function moveCommand(c: Client): void {
  if (c.server.cluster !== null) return c.w.addError("ERR MOVE is not allowed in cluster mode");
  const target = selectDbArg(c, 2);
  if (target === null) return;
  const source = c.db;
  if (source === target) return c.w.addErrorBytes(ERR.sameObject);
  const argv = c.argv;
  const now = c.server.clock.nowMs;
  const id = source.lookupWriteArg(argv, 1, now);
  if (id < 0) return c.w.addInteger(0);
  const when = source.getExpire(id);
  if (target.lookupWriteArg(argv, 1, now) >= 0) return c.w.addInteger(0);
  const moved = target.insertArg(argv, 1, source.table.valueLength(id));
  target.takeValue(source, id, moved);
  if (when !== -1) target.setExpire(moved, when);
  source.delete(id);
  notifyArg(c, NOTIFY.GENERIC, "move_from", 1);
  notifyArgIn(c, target, NOTIFY.GENERIC, "move_to", 1);
  c.server.dirty++;
  c.w.addInteger(1);
}

/** The database named by argument i, or null after replying as Redis's selectDb does. */
function selectDbArg(c: Client, i: number): Db | null {
  const index = parseInt32Arg(c, i);
  if (index === null) return null;
  const db = c.server.dbs[index];
  if (index < 0 || db === undefined) {
    c.w.addErrorBytes(ERR.dbIndex);
    return null;
  }
  return db;
}

/** What a value encoding must offer so COPY can duplicate it (Redis's listTypeDup, setTypeDup ...). */
export interface Duplicable {
  /** A deep copy in the same encoding, sharing nothing mutable with the original. */
  dup(): unknown;
}

/**
 * Gives `toId` in `to` a copy of the value of `fromId` in `from`, in the same encoding and
 * with a fresh access time (Redis's *Dup functions). A collection is packed bytes (inline,
 * or a Uint8Array: see store/packed.ts) or an object that duplicates itself.
 */
function duplicateValue(from: Db, fromId: number, to: Db, toId: number): void {
  const meta = from.table.getMeta(fromId);
  const type = metaType(meta);
  if (type === ObjType.String) return dupString(from, fromId, to, toId);
  const source = from.table;
  if (source.valueKind(fromId) === ValueKind.Bytes) {
    to.table.setBytes(toId, source.valuePage(fromId), source.valueOffset(fromId), source.valueLength(fromId));
  } else {
    const value = source.getObject(fromId);
    to.table.setObject(toId, value instanceof Uint8Array ? value.slice() : (value as Duplicable).dup());
  }
  to.table.setMeta(toId, packMeta(type, metaEnc(meta), to.clock.newValueLru));
}

/** Whether arguments i and j are the same bytes (RENAME and COPY of a key onto itself). */
function sameArgument(argv: Argv, i: number, j: number): boolean {
  const len = argv.len[i]!;
  if (argv.len[j] !== len) return false;
  return bytesEqual(argv.buf, argv.start[i]!, argv.buf, argv.start[j]!, len);
}

// ---------------------------------------------------------------------------------------
// FLUSHDB, FLUSHALL
// ---------------------------------------------------------------------------------------

/**
 * The optional ASYNC or SYNC of FLUSHDB and FLUSHALL, or false after a syntax error.
 * Both modes free synchronously here: the values become garbage either way, and the reply
 * comes after the keys are gone in both cases, as in Redis.
 */
function parseFlushMode(c: Client): boolean {
  const argv = c.argv;
  if (argv.count === 1 || (argv.count === 2 && (argv.is(1, "sync") || argv.is(1, "async")))) return true;
  c.w.addErrorBytes(ERR.syntax);
  return false;
}

/** FLUSHDB [ASYNC | SYNC] */
function flushdbCommand(c: Client): void {
  if (!parseFlushMode(c)) return;
  c.server.dirty += c.db.flush();
  // Clients blocked in XREADGROUP learn that their stream is gone (Redis's signalFlushedDb).
  c.server.blocking.contentsChanged(c.db);
  // Redis propagates a flush of an empty database too (forceCommandPropagation).
  if (c.server.propagation.active) c.server.propagation.forceCommand();
  c.w.addRaw(OK);
}

/** FLUSHALL [ASYNC | SYNC] */
function flushallCommand(c: Client): void {
  if (!parseFlushMode(c)) return;
  flushAllData(c.server);
  if (c.server.propagation.active) c.server.propagation.forceCommand();
  c.w.addRaw(OK);
}

/**
 * Redis's flushAllDataAndResetRDB: every database emptied, a BGSAVE of the old data
 * stopped, and with save points the empty dataset saved at once. Scripts and function
 * libraries stay, as FLUSHALL leaves them. The caller propagates the flush.
 */
export function flushAllData(server: Server): void {
  let removed = 0;
  for (const db of server.dbs) {
    removed += db.flush();
    // Clients blocked in XREADGROUP learn that their stream is gone (Redis's signalFlushedDb).
    server.blocking.contentsChanged(db);
  }
  server.dirty += removed;
  server.rdb.bgsave?.abort();
  if (server.config.save.length > 0) rdbSaveFile(server);
}

// ---------------------------------------------------------------------------------------
// OBJECT
// ---------------------------------------------------------------------------------------

const OBJECT_HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

const LFU_NOT_SELECTED =
  "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const LFU_SELECTED =
  "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/** Redis's OBJ_SHARED_REFCOUNT: the reference count reported for shared objects. */
const SHARED_REFCOUNT = 2147483647;
/** Redis's OBJ_SHARED_INTEGERS: 0..9999 are shared objects when the eviction policy allows. */
const SHARED_INTEGERS = 10000;

/** The id of the key of an OBJECT subcommand, or NO_KEY after replying null (no touch, as in Redis). */
function objectLookup(c: Client): number {
  const id = c.db.lookupObjectArg(c.argv, 2);
  if (id < 0) c.w.addNull();
  return id;
}

/** OBJECT HELP */
function objectHelpCommand(c: Client): void {
  c.w.addHelp(OBJECT_HELP);
}

/** OBJECT ENCODING key */
function objectEncodingCommand(c: Client): void {
  const id = objectLookup(c);
  if (id >= 0) c.w.addBulkLatin1(encodingName(metaEnc(c.db.table.getMeta(id))));
}

/** OBJECT REFCOUNT key */
function objectRefcountCommand(c: Client): void {
  const id = objectLookup(c);
  if (id >= 0) c.w.addInteger(isSharedInteger(c, id) ? SHARED_REFCOUNT : 1);
}

/**
 * Whether Redis would hold this value as one of its shared integers 0..9999: it does for
 * int-encoded strings in that range unless maxmemory is set with an LRU or LFU policy,
 * because those need a per-key access time a shared object cannot carry.
 */
function isSharedInteger(c: Client, id: number): boolean {
  const meta = c.db.table.getMeta(id);
  if (metaType(meta) !== ObjType.String || metaEnc(meta) !== Enc.Int || (meta & META_UNSHARED) !== 0) return false;
  const v = stringToInt64(c.db, id);
  if (typeof v !== "number" || v < 0 || v >= SHARED_INTEGERS) return false;
  const config = c.server.config;
  return config.maxmemory === 0 || !isLruOrLfu(config.maxmemoryPolicy);
}

function isLruOrLfu(policy: string): boolean {
  return policy.endsWith("-lru") || policy.endsWith("-lfu");
}

/** OBJECT IDLETIME key: seconds since the last access, from the 24-bit LRU clock. */
function objectIdletimeCommand(c: Client): void {
  const id = objectLookup(c);
  if (id < 0) return;
  if (c.server.config.maxmemoryPolicy.endsWith("-lfu")) return c.w.addError(LFU_SELECTED);
  c.w.addInteger(lruIdleSeconds(metaLru(c.db.table.getMeta(id)), c.server.clock.nowMs));
}

/** OBJECT FREQ key: the logarithmic access counter, decayed for the minutes since the last access. */
function objectFreqCommand(c: Client): void {
  const id = objectLookup(c);
  if (id < 0) return;
  const config = c.server.config;
  if (!config.maxmemoryPolicy.endsWith("-lfu")) return c.w.addError(LFU_NOT_SELECTED);
  c.w.addInteger(lfuDecayedCounter(metaLru(c.db.table.getMeta(id)), c.server.clock.nowMs, config.lfuDecayTime));
}

/** LFU decay lives with the LFU data in store/object.ts; the RDB writer imports it from here. */
export { lfuDecayedCounter };

// ---------------------------------------------------------------------------------------
// Command table
// ---------------------------------------------------------------------------------------

const key0 = { name: "key", type: "key", key_spec_index: 0 };
const keys0 = { name: "key", type: "key", key_spec_index: 0, flags: ["multiple"] };
const multiKeyTips = ["request_policy:multi_shard", "response_policy:agg_sum"];
const flushTips = ["request_policy:all_shards", "response_policy:all_succeeded"];
const flushHistory: [string, string][] = [
  ["4.0.0", "Added the `ASYNC` flushing mode modifier."],
  ["6.2.0", "Added the `SYNC` flushing mode modifier."],
];
const flushArguments = [
  {
    name: "async", type: "oneof", flags: ["optional"],
    arguments: [
      { name: "async", type: "pure-token", token: "ASYNC", since: "4.0.0" },
      { name: "sync", type: "pure-token", token: "SYNC", since: "6.2.0" },
    ],
  },
];
const renameArguments = [key0, { name: "newkey", type: "key", key_spec_index: 1 }];

/** OBJECT's subcommands that inspect a key share everything but name, summary and handler. */
function objectKeySubcommand(name: string, since: string, summary: string, handler: (c: Client) => void): CommandDef {
  return {
    name: `object|${name}`, arity: 3, flags: "readonly", acl: "keyspace", group: "generic", since,
    summary, complexity: "O(1)", tips: ["nondeterministic_output"],
    keySpecs: [keyRange("RO", 2)], arguments: [key0], handler,
  };
}

export const keyspaceCommands: CommandDef[] = [
  {
    name: "del", arity: -2, flags: "write", acl: "keyspace", group: "generic", since: "1.0.0",
    summary: "Delete a key",
    complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
    tips: multiKeyTips, keySpecs: [keyRange("RM delete", 1, -1)], arguments: [keys0],
    handler: delCommand,
  },
  {
    name: "unlink", arity: -2, flags: "write fast", acl: "keyspace", group: "generic", since: "4.0.0",
    summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
    complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
    tips: multiKeyTips, keySpecs: [keyRange("RM delete", 1, -1)], arguments: [keys0],
    handler: delCommand,
  },
  {
    name: "exists", arity: -2, flags: "readonly fast", acl: "keyspace", group: "generic", since: "1.0.0",
    summary: "Determine if a key exists", complexity: "O(N) where N is the number of keys to check.",
    history: [["3.0.3", "Accepts multiple `key` arguments."]],
    tips: multiKeyTips, keySpecs: [keyRange("RO", 1, -1)], arguments: [keys0],
    handler: existsCommand,
  },
  {
    name: "type", arity: 2, flags: "readonly fast", acl: "keyspace", group: "generic", since: "1.0.0",
    summary: "Determine the type stored at key", complexity: "O(1)",
    keySpecs: [keyRange("RO", 1)], arguments: [key0],
    handler: typeCommand,
  },
  {
    name: "keys", arity: 2, flags: "readonly", acl: "keyspace dangerous", group: "generic", since: "1.0.0",
    summary: "Find all keys matching the given pattern",
    complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
    tips: ["request_policy:all_shards", "nondeterministic_output_order"],
    arguments: [{ name: "pattern", type: "pattern" }],
    handler: keysCommand,
  },
  {
    name: "scan", arity: -2, flags: "readonly", acl: "keyspace", group: "generic", since: "2.8.0",
    summary: "Incrementally iterate the keys space",
    complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    history: [["6.0.0", "Added the `TYPE` subcommand."]],
    tips: ["nondeterministic_output", "request_policy:special"],
    arguments: [...SCAN_ARGUMENTS, { name: "type", type: "string", token: "TYPE", since: "6.0.0", flags: ["optional"] }],
    handler: scanCommand,
  },
  {
    name: "randomkey", arity: 1, flags: "readonly", acl: "keyspace", group: "generic", since: "1.0.0",
    summary: "Return a random key from the keyspace", complexity: "O(1)",
    tips: ["request_policy:all_shards", "nondeterministic_output"],
    handler: randomkeyCommand,
  },
  {
    name: "rename", arity: 3, flags: "write", acl: "keyspace", group: "generic", since: "1.0.0",
    summary: "Rename a key", complexity: "O(1)",
    keySpecs: [keyRange("RW access delete", 1), keyRange("OW update", 2)], arguments: renameArguments,
    handler: renameCommand,
  },
  {
    name: "renamenx", arity: 3, flags: "write fast", acl: "keyspace", group: "generic", since: "1.0.0",
    summary: "Rename a key, only if the new key does not exist", complexity: "O(1)",
    history: [["3.2.0", "The command no longer returns an error when source and destination names are the same."]],
    keySpecs: [keyRange("RW access delete", 1), keyRange("OW insert", 2)], arguments: renameArguments,
    handler: renamenxCommand,
  },
  {
    name: "copy", arity: -3, flags: "write denyoom", acl: "keyspace", group: "generic", since: "6.2.0",
    summary: "Copy a key",
    complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
    keySpecs: [keyRange("RO access", 1), keyRange("OW update", 2)],
    arguments: [
      { name: "source", type: "key", key_spec_index: 0 },
      { name: "destination", type: "key", key_spec_index: 1 },
      { name: "destination-db", type: "integer", token: "DB", flags: ["optional"] },
      { name: "replace", type: "pure-token", token: "REPLACE", flags: ["optional"] },
    ],
    handler: copyCommand,
  },
  {
    name: "move", arity: 3, flags: "write fast", acl: "keyspace", group: "generic", since: "1.0.0",
    summary: "Move a key to another database", complexity: "O(1)",
    keySpecs: [keyRange("RW access update", 1)],
    arguments: [key0, { name: "db", type: "integer" }],
    handler: moveCommand,
  },
  {
    name: "dbsize", arity: 1, flags: "readonly fast", acl: "keyspace", group: "server", since: "1.0.0",
    summary: "Return the number of keys in the selected database", complexity: "O(1)",
    tips: ["request_policy:all_shards", "response_policy:agg_sum"],
    handler: dbsizeCommand,
  },
  {
    name: "flushdb", arity: -1, flags: "write", acl: "keyspace dangerous", group: "server", since: "1.0.0",
    summary: "Remove all keys from the current database",
    complexity: "O(N) where N is the number of keys in the selected database",
    history: flushHistory, tips: flushTips, arguments: flushArguments,
    handler: flushdbCommand,
  },
  {
    name: "flushall", arity: -1, flags: "write", acl: "keyspace dangerous", group: "server", since: "1.0.0",
    summary: "Remove all keys from all databases",
    complexity: "O(N) where N is the total number of keys in all databases",
    history: flushHistory, tips: flushTips, arguments: flushArguments,
    handler: flushallCommand,
  },
  {
    name: "touch", arity: -2, flags: "readonly fast", acl: "keyspace", group: "generic", since: "3.2.1",
    summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.",
    complexity: "O(N) where N is the number of keys that will be touched.",
    tips: multiKeyTips, keySpecs: [keyRange("RO", 1, -1)], arguments: [keys0],
    handler: touchCommand,
  },
  {
    name: "object", arity: -2, flags: "", group: "generic", since: "2.2.3",
    summary: "A container for object introspection commands", complexity: "Depends on subcommand.",
    // Redis lists subcommands in the order of a hash table seeded per process, so it
    // varies between runs; this is one order it uses.
    subcommands: [
      objectKeySubcommand("freq", "4.0.0", "Get the logarithmic access frequency counter of a Redis object", objectFreqCommand),
      objectKeySubcommand("encoding", "2.2.3", "Inspect the internal encoding of a Redis object", objectEncodingCommand),
      objectKeySubcommand("idletime", "2.2.3", "Get the time since a Redis object was last accessed", objectIdletimeCommand),
      {
        name: "object|help", arity: 2, flags: "loading stale", acl: "keyspace", group: "generic", since: "6.2.0",
        summary: "Show helpful text about the different subcommands", complexity: "O(1)",
        handler: objectHelpCommand,
      },
      objectKeySubcommand("refcount", "2.2.3", "Get the number of references to the value of the key", objectRefcountCommand),
    ],
  },
];
