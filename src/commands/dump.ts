// DUMP and RESTORE: a value serialized as Redis 7.0 does (cluster.c createDumpPayload /
// verifyDumpPayload), so payloads move between this server and Redis in both directions:
//
//   <RDB type byte> <RDB value> <RDB version: 2 bytes LE> <CRC-64 of all before: 8 bytes LE>

import type { Client } from "../server/client.ts";
import type { Db } from "../store/db.ts";
import { type CommandDef, keyRange } from "./table.ts";
import { OK } from "../resp/writer.ts";
import { ERR } from "../resp/errors.ts";
import { parseInt64Arg } from "./args.ts";
import { RdbSink, saveObject, saveObjectType } from "../persistence/rdb-value.ts";
import { Crc64 } from "../persistence/crc64.ts";
import { RdbError, RdbReader, isObjectType, loadValue, storeLoaded } from "../persistence/rdb-load.ts";
import { RDB_VERSION, setAccessInfo } from "../persistence/rdb.ts";
import type { PropArg } from "../server/propagate.ts";
import { NOTIFY, notifyArg } from "../server/notify.ts";

/** The RDB version and the checksum after the value. */
export const FOOTER_BYTES = 10;
const CRC_BYTES = 8;

/** DUMP builds every payload here; a reply copies it out. */
const payloadSink = new RdbSink(true);
const payloadCrc = new Crc64();
/** Room for the checksum, filled in once the bytes before it are known. */
const CRC_PLACEHOLDER = new Uint8Array(CRC_BYTES);
/** RESTORE decodes the payload argument in place with this reader. */
const payloadReader = new RdbReader();

export const BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong";
const BAD_FORMAT = "ERR Bad data format";
const BUSYKEY = "BUSYKEY Target key name already exists.";
const INVALID_TTL = "ERR Invalid TTL value, must be >= 0";
const INVALID_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0";
const INVALID_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255";

/** createDumpPayload: the payload of `id` into payloadSink. */
function dumpPayload(c: Client, db: Db, id: number): void {
  const sink = payloadSink;
  sink.clear();
  sink.compress = c.server.config.rdbcompression;
  saveObjectType(sink, db.table, id);
  saveObject(sink, db.table, id);
  sealPayload(sink);
}

/** Append the footer to what `sink` holds: the RDB version and the CRC-64 of everything before. */
export function sealPayload(sink: RdbSink): void {
  sink.writeByte(RDB_VERSION & 0xff);
  sink.writeByte(RDB_VERSION >>> 8);
  payloadCrc.reset();
  payloadCrc.update(sink.bytes, 0, sink.length);
  const at = sink.length;
  sink.writeBytes(CRC_PLACEHOLDER, 0, CRC_BYTES);
  payloadCrc.writeLE(sink.bytes, at);
}

/** The DUMP payload of `id` as a view valid until the next dump (MIGRATE copies or compares it). */
export function dumpView(c: Client, db: Db, id: number): Uint8Array {
  dumpPayload(c, db, id);
  return payloadSink.bytes.subarray(0, payloadSink.length);
}

/** DUMP key */
function dumpCommand(c: Client): void {
  const db = c.db;
  const id = db.lookupReadArg(c.argv, 1);
  if (id < 0) return c.w.addNull();
  dumpPayload(c, db, id);
  c.w.addBulkView(payloadSink.bytes, 0, payloadSink.length);
}

/**
 * verifyDumpPayload: at least the footer, a version this server reads, and a matching
 * CRC-64 of everything before the checksum.
 */
export function verifyPayload(buf: Uint8Array, start: number, len: number): boolean {
  if (len < FOOTER_BYTES) return false;
  const footer = start + len - FOOTER_BYTES;
  const version = buf[footer]! | (buf[footer + 1]! << 8);
  if (version > RDB_VERSION) return false;
  payloadCrc.reset();
  payloadCrc.update(buf, start, len - CRC_BYTES);
  return payloadCrc.equalsLE(buf, footer + 2);
}

/** RESTORE's options, filled by parseRestoreOptions. */
const restoreOptions = { replace: false, absttl: false, idleSeconds: -1, freq: -1 };

/** REPLACE, ABSTTL, IDLETIME seconds, FREQ frequency from argument 4 on; false after replying. */
function parseRestoreOptions(c: Client): boolean {
  const argv = c.argv;
  const o = restoreOptions;
  o.replace = o.absttl = false;
  o.idleSeconds = o.freq = -1;
  for (let i = 4; i < argv.count; i++) {
    const more = argv.count - i - 1;
    if (argv.is(i, "replace")) {
      o.replace = true;
    } else if (argv.is(i, "absttl")) {
      o.absttl = true;
    } else if (argv.is(i, "idletime") && more >= 1 && o.freq === -1) {
      const idle = parseInt64Arg(c, ++i);
      if (idle === null) return false;
      if (idle < 0) return replyFalse(c, INVALID_IDLETIME);
      o.idleSeconds = Number(idle);
    } else if (argv.is(i, "freq") && more >= 1 && o.idleSeconds === -1) {
      const freq = parseInt64Arg(c, ++i);
      if (freq === null) return false;
      if (freq < 0 || freq > 255) return replyFalse(c, INVALID_FREQ);
      o.freq = Number(freq);
    } else {
      c.w.addErrorBytes(ERR.syntax);
      return false;
    }
  }
  return true;
}

function replyFalse(c: Client, error: string): false {
  c.w.addError(error);
  return false;
}

/** RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
function restoreCommand(c: Client): void {
  if (!parseRestoreOptions(c)) return;
  const o = restoreOptions;
  const db = c.db;
  const argv = c.argv;
  if (!o.replace && db.lookupWriteArg(argv, 1) >= 0) return c.w.addError(BUSYKEY);
  const ttlArg = parseInt64Arg(c, 2);
  if (ttlArg === null) return;
  if (ttlArg < 0) return c.w.addError(INVALID_TTL);
  const start = argv.start[3]!;
  const len = argv.len[3]!;
  if (!verifyPayload(argv.buf, start, len)) return c.w.addError(BAD_PAYLOAD);
  if (!decodePayload(c, argv.buf, start, len)) return c.w.addError(BAD_FORMAT);
  const existing = o.replace ? db.lookupWriteArg(argv, 1) : -1;
  if (existing >= 0) db.delete(existing);
  const nowMs = c.server.clock.nowMs;
  let ttl = Number(ttlArg);
  if (ttl !== 0 && !o.absttl) ttl += nowMs;
  if (ttl !== 0 && ttl <= nowMs) return restoredExpired(c, existing >= 0);
  const id = db.insertArg(argv, 1);
  storeLoaded(db, id, payloadReader);
  if (ttl !== 0) db.setExpire(id, ttl);
  setAccessInfo(db, id, c.server.config.maxmemoryPolicy.endsWith("-lfu"), o.freq, o.idleSeconds);
  if (ttl !== 0 && !o.absttl && c.server.propagation.active) propagateAbsoluteTtl(c, ttl);
  notifyArg(c, NOTIFY.GENERIC, "restore", 1);
  c.server.dirty++;
  c.w.addRaw(OK);
}

/**
 * The value in the payload into rdb-load's `loaded`; false when malformed. Like Redis,
 * which reads the payload as one buffer, a value may run into the footer's bytes.
 */
function decodePayload(c: Client, buf: Uint8Array, start: number, len: number): boolean {
  const r = payloadReader;
  r.reset(buf, start, start + len);
  try {
    const type = r.byte();
    if (!isObjectType(type)) return false;
    loadValue(r, type, c.server.config);
    return true;
  } catch (e) {
    // EmptyKeyError is an RdbError too: an empty value is bad data here.
    if (e instanceof RdbError) return false;
    throw e;
  }
}

/**
 * A TTL already in the past restores nothing; a key REPLACE removed is gone, and the
 * command propagates as the DEL it amounted to.
 */
function restoredExpired(c: Client, deleted: boolean): void {
  if (deleted) {
    if (c.server.propagation.active) c.server.propagation.replaceCommand(c.db.id, ["DEL", c.argv.copy(1)]);
    notifyArg(c, NOTIFY.GENERIC, "del", 1);
    c.server.dirty++;
  }
  c.w.addRaw(OK);
}

/** Redis propagates a relative TTL as the absolute time it came to, with ABSTTL appended. */
function propagateAbsoluteTtl(c: Client, whenMs: number): void {
  const argv = c.argv;
  const args: PropArg[] = [];
  for (let i = 0; i < argv.count; i++) args.push(i === 2 ? String(whenMs) : argv.copy(i));
  args.push("ABSTTL");
  c.server.propagation.replaceCommand(c.db.id, args);
}

export const dumpCommands: CommandDef[] = [
  {
    name: "dump", arity: 2, flags: "readonly", acl: "keyspace", group: "generic", since: "2.6.0",
    summary: "Return a serialized version of the value stored at the specified key.",
    complexity:
      "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
    tips: ["nondeterministic_output"],
    keySpecs: [keyRange("RO access", 1)],
    arguments: [{ name: "key", type: "key", key_spec_index: 0 }],
    handler: dumpCommand,
  },
  {
    name: "restore", arity: -4, flags: "write denyoom", acl: "keyspace dangerous", group: "generic", since: "2.6.0",
    summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
    complexity:
      "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
    history: [
      ["3.0.0", "Added the `REPLACE` modifier."],
      ["5.0.0", "Added the `ABSTTL` modifier."],
      ["5.0.0", "Added the `IDLETIME` and `FREQ` options."],
    ],
    keySpecs: [keyRange("OW update", 1)],
    arguments: [
      { name: "key", type: "key", key_spec_index: 0 },
      { name: "ttl", type: "integer" },
      { name: "serialized-value", type: "string" },
      { name: "replace", type: "pure-token", token: "REPLACE", since: "3.0.0", flags: ["optional"] },
      { name: "absttl", type: "pure-token", token: "ABSTTL", since: "5.0.0", flags: ["optional"] },
      { name: "seconds", type: "integer", token: "IDLETIME", since: "5.0.0", flags: ["optional"] },
      { name: "frequency", type: "integer", token: "FREQ", since: "5.0.0", flags: ["optional"] },
    ],
    handler: restoreCommand,
  },
];

/**
 * RESTORE-ASKING: the RESTORE that MIGRATE sends in cluster mode. Its `asking` flag lets it
 * write a key of a slot being imported, as if the client had sent ASKING first.
 */
dumpCommands.push({
  ...dumpCommands.find((d) => d.name === "restore")!,
  name: "restore-asking", flags: "write denyoom asking", group: "server", since: "3.0.0",
  summary: "An internal command for migrating keys in a cluster", docFlags: ["syscmd"],
});
