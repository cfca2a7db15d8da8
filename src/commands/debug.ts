// DEBUG: the introspection and fault hooks Redis's own test suite and tools rely on. Gated
// by `enable-debug-command` exactly as Redis 7.0 gates it (default: refused).

import type { Client } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import { OK } from "../resp/writer.ts";
import { ERR } from "../resp/errors.ts";
import { datasetDigest, valueDigest } from "../store/digest.ts";
import { Enc, encodingName, metaEnc, metaLru } from "../store/object.ts";
import { savedObjectLength } from "../persistence/rdb-value.ts";
import { locatePacked, packedAt } from "../store/packed.ts";
import { lpRepr } from "../encoding/listpack.ts";
import { type Quicklist, quicklistLimitsOf } from "../encoding/quicklist.ts";
import { memtoull } from "../config/params.ts";
import { debugLoadAof, debugReload } from "./persistence.ts";
import { sleepSync } from "../util/runtime.ts";

const HELP = [
  "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DIGEST",
  "    Output a hex signature representing the current DB content.",
  "DIGEST-VALUE <key> [<key> ...]",
  "    Output a hex signature of the values of all the specified keys.",
  "ERROR <string>",
  "    Return a Redis protocol error with <string> as message. Useful for clients",
  "    unit tests to simulate Redis errors.",
  "LOG <message>",
  "    Write <message> to the server log.",
  "LOADAOF",
  "    Flush the AOF buffers on disk and reload the AOF in memory.",
  "OBJECT <key>",
  "    Show low level info about `key` and associated value.",
  "PROTOCOL <type>",
  "    Reply with a test value of the specified type. <type> can be: string,",
  "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
  "    true, false.",
  "RELOAD [option ...]",
  "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
  "    * MERGE: conflicting keys will be loaded from RDB.",
  "    * NOFLUSH: the existing database will not be removed before load, but",
  "      conflicting keys will generate an exception and kill the server.",
  "    * NOSAVE: the database will be loaded from an existing RDB file.",
  "    Examples:",
  "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
  "      the database.",
  "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
  "      existing RDB file.",
  "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
  "      file to the database.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default.",
  "QUICKLIST-PACKED-THRESHOLD <size>",
  "    Sets the threshold for elements to be inserted as plain vs packed nodes",
  "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed.",
  "LISTPACK <key>",
  "    Show low level info about the listpack encoding of <key>.",
  "QUICKLIST <key> [<0|1>]",
  "    Show low level info about the quicklist encoding of <key>.",
  "    The optional argument (0 by default) sets the level of detail",
  "HELP",
  "    Prints this help.",
];

/** DEBUG subcommand [arg ...]; `enable-debug-command` is checked at dispatch (flag protected). */
function debugCommand(c: Client): void {
  const argv = c.argv;
  const n = argv.count;
  const sub = argv.lower(1);
  if (sub === "help" && n === 2) return c.w.addHelp(HELP);
  if (sub === "digest" && n === 2) return c.w.addSimple(datasetDigest(c.server.dbs));
  if (sub === "digest-value" && n >= 2) return digestValues(c);
  if (sub === "object" && n === 3) return debugObject(c);
  if (sub === "protocol" && n === 3) return debugProtocol(c, argv.lower(2));
  if (sub === "sleep" && n === 3) return debugSleep(c);
  if (sub === "set-active-expire" && n === 3) {
    c.server.activeExpireEnabled = atoi(argv.str(2)) !== 0;
    return c.w.addRaw(OK);
  }
  if (sub === "error" && n === 3) return c.w.addError(argv.str(2));
  if (sub === "listpack" && n === 3) return debugListpack(c);
  if (sub === "reload") return debugReload(c);
  if (sub === "loadaof") return debugLoadAof(c);
  if (sub === "quicklist" && (n === 3 || n === 4)) return debugQuicklist(c);
  if (sub === "quicklist-packed-threshold" && n === 3) return debugPackedThreshold(c);
  if (sub === "log" && n === 3) {
    c.server.log.warning(`DEBUG LOG: ${argv.str(2)}`);
    return c.w.addRaw(OK);
  }
  c.w.addError(`ERR unknown subcommand or wrong number of arguments for '${argv.str(1)}'. Try DEBUG HELP.`);
}

function digestValues(c: Client): void {
  const argv = c.argv;
  c.w.addArrayLen(argv.count - 2);
  for (let i = 2; i < argv.count; i++) c.w.addSimple(valueDigest(c.db, c.db.peekArg(argv, i)));
}

function debugObject(c: Client): void {
  const db = c.db;
  const id = db.peekArg(c.argv, 2);
  if (id < 0) return c.w.addErrorBytes(ERR.noSuchKey);
  const meta = db.table.getMeta(id);
  const lru = metaLru(meta);
  const line =
    `Value at:0x${valueAddress(id).toString(16)} refcount:1 encoding:${encodingName(metaEnc(meta))}` +
    ` serializedlength:${savedObjectLength(db.table, id, c.server.config.rdbcompression)} lru:${lru} lru_seconds_idle:${idleSeconds(lru, c.server.clock.nowMs)}`;
  const extra = metaEnc(meta) === Enc.QuickList ? (db.table.getObject(id) as Quicklist).debugFields() : "";
  c.w.addSimple(line + extra);
}

/**
 * Redis prints the value's address. Values here live in a table rather than at addresses
 * of their own, so each key gets a made-up one from its entry id, the same every time it
 * is asked for while the key lives.
 */
function valueAddress(id: number): number {
  return 0x7f0000000000 + id * 16;
}

function idleSeconds(lru: number, nowMs: number): number {
  const now = Math.floor(nowMs / 1000) & 0xffffff;
  return now >= lru ? now - lru : now + 0x1000000 - lru;
}

/** DEBUG LISTPACK key: a listpack-encoded value's entries, printed on stdout as Redis's lpRepr does. */
function debugListpack(c: Client): void {
  const db = c.db;
  const id = db.lookupObjectArg(c.argv, 2);
  if (id < 0) return c.w.addErrorBytes(ERR.noSuchKey);
  if (metaEnc(db.table.getMeta(id)) !== Enc.ListPack) return c.w.addErrorBytes(ERR.notListpack);
  locatePacked(db, id);
  // Redis writes the listing with printf: bytes, not UTF-8.
  process.stdout.write(Buffer.from(lpRepr(packedAt.buf, packedAt.base, valueAddress(id)), "latin1"));
  c.w.addSimple("Listpack structure printed on stdout");
}

/** DEBUG QUICKLIST key [0|1]: a list's nodes (and with 1 their elements) printed on stdout. */
function debugQuicklist(c: Client): void {
  const db = c.db;
  const argv = c.argv;
  const id = db.lookupObjectArg(argv, 2);
  if (id < 0) return c.w.addErrorBytes(ERR.noSuchKey);
  if (metaEnc(db.table.getMeta(id)) !== Enc.QuickList) return c.w.addErrorBytes(ERR.notQuicklist);
  const full = argv.count === 4 && atoi(argv.str(3)) !== 0;
  process.stdout.write((db.table.getObject(id) as Quicklist).repr(full));
  c.w.addSimple("Quicklist structure printed on stdout");
}

/** DEBUG QUICKLIST-PACKED-THRESHOLD size: elements of at least size bytes get plain nodes. */
function debugPackedThreshold(c: Client): void {
  const bytes = memtoull(c.argv.str(2));
  if (bytes === null || !quicklistLimitsOf(c.server.config).setPackedThreshold(Number(bytes))) {
    return c.w.addErrorBytes(ERR.packedThreshold);
  }
  c.w.addRaw(OK);
}

/** DEBUG SLEEP seconds: block the whole server, as Redis does, for tests of timeouts. */
function debugSleep(c: Client): void {
  const seconds = strtodPrefix(c.argv.str(2));
  // Redis sleeps whole microseconds; a negative or unreadable time does not sleep.
  const ms = Math.floor(seconds * 1e6) / 1000;
  if (ms > 0) sleepSync(ms);
  c.w.addRaw(OK);
}

/**
 * C's atoi, as Redis reads DEBUG's integer flags: optional blanks and sign, then digits up
 * to the first other byte; 0 when there are none ("x" is 0, "1x" is 1).
 */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m === null ? 0 : Number(m[1]);
}

/** C's strtod over the longest decimal prefix ("0.1s" is 0.1, "x" is 0), as DEBUG SLEEP reads it. */
function strtodPrefix(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(s);
  return m === null ? 0 : Number(m[1]);
}

/** DEBUG PROTOCOL type: one sample of each reply type, in the client's protocol. */
function debugProtocol(c: Client, type: string): void {
  const w = c.w;
  switch (type) {
    case "string":
      return w.addBulkLatin1("Hello World");
    case "integer":
      return w.addInteger(12345);
    case "double":
      return w.addDouble(3.141);
    case "bignum":
      return w.addBigNumber("1234567999999999999999999999999999999");
    case "null":
      return w.addNull();
    case "array":
    case "set":
      if (type === "array") w.addArrayLen(3);
      else w.addSetLen(3);
      for (let j = 0; j < 3; j++) w.addInteger(j);
      return;
    case "map":
      w.addMapLen(3);
      for (let j = 0; j < 3; j++) {
        w.addInteger(j);
        w.addBool(j === 1);
      }
      return;
    case "attrib":
      if (c.resp >= 3) {
        w.addAttributeLen(1);
        w.addBulkLatin1("key-popularity");
        w.addArrayLen(2);
        w.addBulkLatin1("key:123");
        w.addInteger(90);
      }
      return w.addBulkLatin1("Some real reply following the attribute");
    case "push":
      if (c.resp < 3) return w.addError("ERR RESP2 is not supported by this command");
      w.addPushLen(2);
      w.addBulkLatin1("server-cpu-usage");
      w.addInteger(42);
      return w.addBulkLatin1("Some real reply following the push reply");
    case "true":
      return w.addBool(true);
    case "false":
      return w.addBool(false);
    case "verbatim":
      return w.addVerbatim("This is a verbatim\nstring");
    default:
      w.addError(
        "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
      );
  }
}

export const debugCommands: CommandDef[] = [
  {
    name: "debug", arity: -2, flags: "admin noscript loading stale protected", group: "server", since: "1.0.0",
    summary: "A container for debugging commands", complexity: "Depends on subcommand.",
    docFlags: ["syscmd"],
    handler: debugCommand,
  },
];
