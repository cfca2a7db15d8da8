// The command-form AOF base (Redis's rewriteAppendOnlyFileRio with aof-use-rdb-preamble
// no): per non-empty database a SELECT, then one command per key that rebuilds its value,
// at most AOF_REWRITE_ITEMS_PER_CMD items per command, and a PEXPIREAT for a time to live.

import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Server } from "../server/server.ts";
import { Db } from "../store/db.ts";
import type { KeyTable } from "../store/keytable.ts";
import { Snapshot, type SnapshotWriter } from "./snapshot.ts";
import { ObjType } from "../store/object.ts";
import { stringBytes } from "../store/string.ts";
import type { Quicklist } from "../encoding/quicklist.ts";
import type { SkiplistZSet } from "../encoding/skiplist.ts";
import { lpFirst, lpGetLatin1, lpNext } from "../encoding/listpack.ts";
import { locatePacked, packedAt } from "../store/packed.ts";
import { metaEnc, Enc } from "../store/object.ts";
import { setMembers } from "../commands/set.ts";
import type { HashTable } from "../commands/hash.ts";
import { streamRewriteCommands } from "../commands/stream.ts";
import type { Stream } from "../store/stream.ts";
import { formatDouble } from "../util/numbers.ts";
import { RdbWriter } from "./rdb.ts";
import { libraryCodes } from "../scripting/lazy.ts";

/** Items per command in a rewrite (AOF_REWRITE_ITEMS_PER_CMD). */
export const AOF_REWRITE_ITEMS_PER_CMD = 64;

/** Collects RESP commands as bytes in one growing buffer (no object per argument). */
class CommandText {
  private buf = new Uint8Array(FLUSH_BYTES * 2);
  bytes = 0;

  command(args: readonly (string | Uint8Array)[]): void {
    this.header(0x2a /* '*' */, args.length);
    for (const arg of args) {
      if (typeof arg === "string") {
        this.header(0x24 /* '$' */, arg.length);
        this.room(arg.length + 2);
        // Arguments are latin1 strings: one byte per char.
        for (let i = 0; i < arg.length; i++) this.buf[this.bytes + i] = arg.charCodeAt(i);
        this.bytes += arg.length;
      } else {
        this.header(0x24 /* '$' */, arg.length);
        this.room(arg.length + 2);
        this.buf.set(arg, this.bytes);
        this.bytes += arg.length;
      }
      this.buf[this.bytes++] = 13;
      this.buf[this.bytes++] = 10;
    }
  }

  /** Text written as it is (latin1), such as an annotation line. */
  raw(text: string): void {
    this.room(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.bytes++] = text.charCodeAt(i);
  }

  /** `*<n>\r\n` or `$<n>\r\n`. */
  private header(prefix: number, n: number): void {
    const digits = String(n);
    this.room(digits.length + 3);
    this.buf[this.bytes++] = prefix;
    for (let i = 0; i < digits.length; i++) this.buf[this.bytes++] = digits.charCodeAt(i);
    this.buf[this.bytes++] = 13;
    this.buf[this.bytes++] = 10;
  }

  private room(n: number): void {
    if (this.bytes + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.bytes + n));
    bigger.set(this.buf.subarray(0, this.bytes));
    this.buf = bigger;
  }

  /** Writes everything collected to `fd` and starts over. */
  writeTo(fd: number): void {
    let done = 0;
    while (done < this.bytes) done += writeSync(fd, this.buf, done, this.bytes - done);
    this.bytes = 0;
  }
}

/**
 * The command-form base written from a snapshot (snapshot.ts), a bounded amount per
 * writeSome call, so that BGREWRITEAOF can spread it over turns of the event loop. Keys a
 * command is about to change are written out of turn (writeKey), after a SELECT when they
 * are of another database than the last one written.
 */
export class CommandBaseWriter implements SnapshotWriter {
  readonly snapshot: Snapshot;
  private readonly text = new CommandText();
  private dbIndex = 0;
  private selectedDb = -1;
  /** Whether the file's opening (the timestamp annotation) is written. */
  private begun = false;
  /** Read-only databases over the snapshot's tables, for the value readers that take a Db. */
  private readonly views = new Map<KeyTable, Db>();

  constructor(
    private readonly server: Server,
    private readonly fd: number,
  ) {
    this.snapshot = new Snapshot(server.dbs.map((db) => db.table));
    this.snapshot.attach(this);
  }

  /**
   * The file opens with a `#TS:<unix seconds>` line when aof-timestamp-enabled is on, as
   * Redis's rewriteAppendOnlyFileRio writes one even for an empty dataset.
   */
  private begin(): void {
    this.begun = true;
    if (this.server.config.aofTimestampEnabled) this.text.raw(`#TS:${Math.floor(Date.now() / 1000)}\r\n`);
    // The function libraries come first (Redis's rewriteFunctions).
    for (const code of libraryCodes(this.server)) this.text.command(["FUNCTION", "LOAD", code]);
  }

  /** Writes about `budgetBytes` more; true once every key is in the file. */
  writeSome(budgetBytes: number): boolean {
    if (!this.begun) this.begin();
    const snapshot = this.snapshot;
    while (this.dbIndex < snapshot.tables.length) {
      const id = snapshot.takeNext(this.dbIndex);
      if (id < 0) {
        this.dbIndex++;
        continue;
      }
      this.writeRecord(this.dbIndex, snapshot.tables[this.dbIndex]!, id);
      if (this.text.bytes >= budgetBytes) {
        this.text.writeTo(this.fd);
        return false;
      }
    }
    this.text.writeTo(this.fd);
    return true;
  }

  writeKey(dbIndex: number, table: KeyTable, id: number): void {
    this.writeRecord(dbIndex, table, id);
    if (this.text.bytes >= FLUSH_BYTES) this.text.writeTo(this.fd);
  }

  private writeRecord(dbIndex: number, table: KeyTable, id: number): void {
    if (!this.begun) this.begin();
    if (this.selectedDb !== dbIndex) {
      this.text.command(["SELECT", String(dbIndex)]);
      this.selectedDb = dbIndex;
    }
    rewriteKey(this.text, this.viewOf(dbIndex, table), id, this.server.clock.nowMs);
  }

  private viewOf(dbIndex: number, table: KeyTable): Db {
    let view = this.views.get(table);
    if (view === undefined) {
      view = new Db(dbIndex, this.server.keyspaceStats, this.server.clock);
      view.table = table;
      this.views.set(table, view);
    }
    return view;
  }
}

/** Collected commands go to the file once they reach this many bytes. */
const FLUSH_BYTES = 64 * 1024;

/**
 * Write the whole dataset as commands to `path` (through a temporary file and a rename,
 * synced, as Redis's rewrite). Throws for a type this form cannot rebuild yet.
 */
export function writeCommandBase(server: Server, path: string): void {
  writeBaseFile(path, "aof", (fd) => {
    const writer = new CommandBaseWriter(server, fd);
    while (!writer.writeSome(Number.MAX_SAFE_INTEGER));
  });
}

/**
 * The RDB-preamble base (aof-use-rdb-preamble yes): the dataset as an RDB file at `path`,
 * written through a temporary file and a rename, synced.
 */
export function writeRdbBase(server: Server, path: string): void {
  writeBaseFile(path, "rdb", (fd) => {
    const writer = new RdbWriter(server, fd, { aofBase: true });
    while (!writer.writeSome(Number.MAX_SAFE_INTEGER));
  });
}

/** Runs `write` on a temporary file beside `path`, syncs it and renames it into place. */
function writeBaseFile(path: string, extension: string, write: (fd: number) => void): void {
  const tmp = join(dirname(path), `temp-rewriteaof-${process.pid}.${extension}`);
  const fd = openSync(tmp, "w");
  try {
    write(fd);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** One key's commands; a key already past its time is left out, as Redis's rewrite skips it. */
function rewriteKey(text: CommandText, db: Db, id: number, nowMs: number): void {
  const expireAt = db.getExpire(id);
  if (expireAt >= 0 && expireAt <= nowMs) return;
  const key = db.table.keyString(id);
  switch (db.typeOf(id)) {
    case ObjType.String:
      text.command(["SET", key, stringBytes(db, id)]);
      break;
    case ObjType.List:
      rewriteItems(text, "RPUSH", key, (db.table.getObject(id) as Quicklist).toArray(), 1);
      break;
    case ObjType.Set:
      rewriteItems(text, "SADD", key, Array.from(setMembers(db, id)), 1);
      break;
    case ObjType.Hash:
      rewriteItems(text, "HMSET", key, hashItems(db, id), 2);
      break;
    case ObjType.ZSet:
      rewriteItems(text, "ZADD", key, zsetItems(db, id), 2);
      break;
    case ObjType.Stream:
      for (const command of streamRewriteCommands(key, db.table.getObject(id) as Stream)) text.command(command);
      break;
    default:
      throw new Error(`the command-form AOF rewrite cannot rebuild values of type ${db.typeOf(id)}`);
  }
  if (expireAt >= 0) text.command(["PEXPIREAT", key, String(expireAt)]);
}

/**
 * `name key item ...` commands of at most AOF_REWRITE_ITEMS_PER_CMD items each, an item
 * being `width` arguments (a field and its value, a score and its member).
 */
function rewriteItems(text: CommandText, name: string, key: string, args: readonly string[], width: number): void {
  const step = AOF_REWRITE_ITEMS_PER_CMD * width;
  for (let i = 0; i < args.length; i += step) text.command([name, key, ...args.slice(i, i + step)]);
}

/** Every entry of a listpack value, in order. */
function listpackEntries(db: Db, id: number): string[] {
  locatePacked(db, id);
  const { buf, base } = packedAt;
  const entries: string[] = [];
  for (let p = lpFirst(buf, base); p >= 0; p = lpNext(buf, p)) entries.push(lpGetLatin1(buf, p));
  return entries;
}

/** A score as a zset listpack holds it: a number's text, or "inf"/"-inf". */
function listpackScore(text: string): number {
  if (text === "inf") return Infinity;
  if (text === "-inf") return -Infinity;
  return Number(text);
}

/** Field, value, field, value ... */
function hashItems(db: Db, id: number): string[] {
  if (metaEnc(db.table.getMeta(id)) === Enc.ListPack) return listpackEntries(db, id);
  const items: string[] = [];
  for (const [field, value] of (db.table.getObject(id) as HashTable).fields.entries()) items.push(field, value);
  return items;
}

/** Score, member, score, member ...; scores as Redis's rioWriteBulkDouble prints them ("%.17g"). */
function zsetItems(db: Db, id: number): string[] {
  const items: string[] = [];
  if (metaEnc(db.table.getMeta(id)) === Enc.ListPack) {
    const entries = listpackEntries(db, id);
    for (let i = 0; i < entries.length; i += 2) items.push(formatDouble(listpackScore(entries[i + 1]!)), entries[i]!);
    return items;
  }
  for (let node = (db.table.getObject(id) as SkiplistZSet).list.first; node !== null; node = node.next) {
    items.push(formatDouble(node.score), node.member);
  }
  return items;
}
