/**
 * RDB files in Redis 7.0's format (rdb.c): writing the dataset (SAVE, SHUTDOWN, DEBUG
 * RELOAD) and loading it (start-up, DEBUG RELOAD).
 *
 * ## Layout (RDB version 10)
 *
 *   "REDIS0010"
 *   AUX (0xFA) name value ...          redis-ver, redis-bits, ctime, used-mem, aof-base
 *   per non-empty database:
 *     SELECTDB (0xFE) <db number>      then RESIZEDB (0xFB) <keys> <keys with a TTL>
 *     per key: [EXPIRETIME_MS (0xFC) <8 bytes LE>] [IDLE (0xF8) <len> | FREQ (0xF9) <byte>]
 *              <type byte> <key string> <value>  (see rdb-value.ts)
 *   EOF (0xFF) <CRC-64 of everything before, 8 bytes LE; zeros with rdbchecksum no>
 *
 * The repl-stream-db, repl-id and repl-offset fields follow used-mem when the server has a
 * replication history (a backlog as master, or a master as replica), as Redis writes them. The loader also reads what older versions wrote: EXPIRETIME
 * in seconds (0xFD), the legacy value types (rdb-load.ts), and it refuses module data
 * (0xF7) and function libraries (0xF5, 0xF6) by name, which it cannot hold.
 *
 * ## Writing
 *
 * `RdbWriter` writes a bounded slice at a time (`writeSome(budget)` returns true when the
 * file is complete), so that BGSAVE can later spread it over turns of the event loop; SAVE
 * runs it to the end at once. Records go into one pooled RdbSink and leave in large writes,
 * the CRC folded over each write. As in Redis, the file is written to `temp-<pid>.rdb`,
 * fsynced, and renamed over `dir/dbfilename`, so a crash never leaves half a file there.
 *
 * ## Loading
 *
 * The file is read once into memory and walked with an RdbReader; keys are inserted by
 * their bytes with a hash computed once (no JS string per key), into tables reserved to
 * the size RESIZEDB announces. Any malformed or short input stops the load with an
 * RdbError naming the problem and the offset.
 */

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import type { Server } from "../server/server.ts";
import { StartupError } from "../server/startup-error.ts";
import type { Db } from "../store/db.ts";
import { lruClock, metaLru, withLru } from "../store/object.ts";
import { hashBytes } from "../util/hash.ts";
import { latin1 } from "../resp/parser.ts";
import { RdbSink, saveLength, saveObject, saveObjectType, saveRawString, saveInt64String } from "./rdb-value.ts";
import { Crc64, crcHex } from "./crc64.ts";
import { Snapshot, type SnapshotWriter } from "./snapshot.ts";
import type { SlicedJob } from "./bgsave.ts";
import type { KeyTable } from "../store/keytable.ts";
import { EmptyKeyError, KEY_SLOT, RdbError, RdbReader, isObjectType, loadValue, storeLoaded } from "./rdb-load.ts";
import { REDIS_VERSION } from "../version.ts";
import { libraryCodes, loadLibrary } from "../scripting/lazy.ts";
import { lfuDecayedCounter } from "../commands/keyspace.ts";

/** The RDB format version Redis 7.0 writes and the newest it reads. */
export const RDB_VERSION = 10;

/** Opcodes (rdb.h's RDB_OPCODE_*). */
/** A function library's code (FUNCTION DUMP payloads hold these records too). */
export const OP_FUNCTION2 = 245;
const OP_FUNCTION = 246;
const OP_MODULE_AUX = 247;
const OP_IDLE = 248;
const OP_FREQ = 249;
const OP_AUX = 250;
const OP_RESIZEDB = 251;
const OP_EXPIRETIME_MS = 252;
const OP_EXPIRETIME = 253;
const OP_SELECTDB = 254;
const OP_EOF = 255;

const MAGIC = "REDIS";
/** Bytes of "REDIS" and the four version digits. */
const HEADER_BYTES = 9;
const CHECKSUM_BYTES = 8;
/** Versions from this one on end with a checksum. */
const FIRST_CHECKSUMMED_VERSION = 5;

/** Records gather in the sink until this many bytes, then go to the file in one write. */
const FLUSH_BYTES = 64 * 1024;
/** How many bytes SAVE asks of writeSome per call: everything. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;
/** Redis's LRU_CLOCK_MAX: the 24-bit LRU clock wraps here. */
const LRU_CLOCK_MAX = 0xffffff;
/** Empty keys Redis names in the log on load before it stops naming them. */
const EMPTY_KEYS_LOGGED = 10;

// ---------------------------------------------------------------------------------------
// State kept for LASTSAVE, INFO persistence and DEBUG RELOAD
// ---------------------------------------------------------------------------------------

/** What the server remembers about saves and loads (Redis keeps these in `server`). */
export class RdbState {
  /** Whether the last save succeeded (INFO rdb_last_bgsave_status). */
  lastSaveOk = true;
  /** Saves completed since start-up (INFO rdb_saves). */
  saves = 0;
  /** The last load's counts (INFO rdb_last_load_keys_loaded / _expired). */
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /** True while a load runs (INFO loading). */
  loading = false;
  /** The BGSAVE under way, if any: to a file, or to replicas' sockets (a diskless sync). */
  bgsave: SlicedJob | null = null;
  /** How long the last BGSAVE took, in whole seconds (INFO rdb_last_bgsave_time_sec). */
  lastBgsaveTimeSec = -1;
  /** BGSAVE SCHEDULE behind a rewrite: the cron starts the save once the rewrite is over. */
  bgsaveScheduled = false;
  /** When a BGSAVE was last started (the save points' retry delay after a failure). */
  lastBgsaveTryMs = 0;
}

/** Where `dir` and `dbfilename` put the RDB file. */
export function rdbPath(server: Server): Buffer {
  return joinDir(server.config.dir, server.config.dbfilename);
}

/**
 * dir and dbfilename are latin1 strings of the bytes Redis would use, so the path is
 * handed to the file system as those bytes, whatever their encoding.
 */
function joinDir(dir: string, name: string): Buffer {
  return Buffer.from(dir.endsWith("/") ? dir + name : `${dir}/${name}`, "latin1");
}

/** A path for a log line, as the latin1 string of its bytes. */
const shown = (path: Buffer | string): string => (typeof path === "string" ? path : path.toString("latin1"));

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

const enum Phase {
  Header,
  Databases,
  End,
  Done,
}

/** The sink records are built in; one per process is enough while saves run one at a time. */
let pooledSink: RdbSink | null = null;

/**
 * Writes the dataset of `server` as an RDB file into `fd`, a bounded amount per
 * writeSome call. Keys are visited by id in each database.
 */
export class RdbWriter implements SnapshotWriter {
  private readonly sink: RdbSink;
  private readonly crc = new Crc64();
  private phase = Phase.Header;
  /** The database whose keys are being written in turn. */
  private dbIndex = 0;
  /** The database the last SELECTDB named, -1 before the first. */
  private outputDb = -1;
  /** Per database: whether its RESIZEDB hint is written (once, with its first SELECTDB). */
  private readonly sized: boolean[] = [];
  /** The keys to write: every database as it was when the writer was made. */
  readonly snapshot: Snapshot;
  private readonly checksum: boolean;
  private readonly saveLru: boolean;
  private readonly saveLfu: boolean;
  /** Bytes written to the file so far. */
  written = 0;
  keysWritten = 0;

  constructor(
    private readonly server: Server,
    private readonly fd: number | RdbChunks,
    private readonly options: { aofBase?: boolean } = {},
  ) {
    this.snapshot = new Snapshot(server.dbs.map((db) => db.table));
    this.snapshot.attach(this);
    const config = server.config;
    if (pooledSink === null) pooledSink = new RdbSink(config.rdbcompression, false, 2 * FLUSH_BYTES);
    // A save into memory may run while a background save holds the pooled sink.
    this.sink = typeof fd === "number" ? pooledSink : new RdbSink(config.rdbcompression, false, 2 * FLUSH_BYTES);
    this.sink.clear();
    this.sink.compress = config.rdbcompression;
    this.checksum = config.rdbchecksum;
    const policy = config.maxmemoryPolicy;
    this.saveLru = policy.endsWith("-lru");
    this.saveLfu = policy.endsWith("-lfu");
  }

  /** Writes about `budgetBytes` more (at least one record); true once the file is complete. */
  writeSome(budgetBytes: number): boolean {
    const target = this.written + this.sink.length + budgetBytes;
    while (this.phase !== Phase.Done && this.written + this.sink.length < target) {
      switch (this.phase) {
        case Phase.Header:
          this.writeHeader();
          this.phase = Phase.Databases;
          break;
        case Phase.Databases:
          if (!this.writeNextKey()) this.phase = Phase.End;
          break;
        case Phase.End:
          this.writeEnd();
          this.phase = Phase.Done;
          break;
      }
      if (this.sink.length >= FLUSH_BYTES) this.flush();
    }
    this.flush();
    return this.phase === Phase.Done;
  }

  private flush(): void {
    const sink = this.sink;
    let off = 0;
    if (typeof this.fd === "number") {
      while (off < sink.length) off += writeSync(this.fd, sink.bytes, off, sink.length - off);
    } else this.fd.push(sink.bytes.slice(0, sink.length));
    if (this.checksum) this.crc.update(sink.bytes, 0, sink.length);
    this.written += sink.length;
    sink.clear();
  }

  private writeHeader(): void {
    const sink = this.sink;
    sink.writeLatin1(`${MAGIC}${String(RDB_VERSION).padStart(4, "0")}`);
    this.auxString("redis-ver", REDIS_VERSION);
    this.auxInteger("redis-bits", 64);
    this.auxInteger("ctime", Math.floor(Date.now() / 1000));
    this.auxInteger("used-mem", usedMemory());
    // Where the replication stream stood at the snapshot, so that a replica loading this
    // file (sent by a full resync, or its own after a restart) can continue from there.
    const repl = this.options.aofBase === true ? null : this.server.replication.saveInfo();
    if (repl !== null) {
      this.auxInteger("repl-stream-db", repl.streamDb);
      this.auxString("repl-id", repl.replId);
      this.auxInteger("repl-offset", repl.offset);
    }
    // 1 when the file is an AOF's base (its RDB preamble).
    this.auxInteger("aof-base", this.options.aofBase === true ? 1 : 0);
    // The function libraries come before the keys (rdbSaveFunctions).
    saveLibraries(this.sink, libraryCodes(this.server));
  }

  private auxName(name: string): void {
    this.sink.writeByte(OP_AUX);
    saveLength(this.sink, name.length);
    this.sink.writeLatin1(name);
  }

  /** rdbSaveAuxFieldStrStr: the value goes through rdbSaveRawString like any string. */
  private auxString(name: string, value: string): void {
    this.auxName(name);
    const bytes = Buffer.from(value, "latin1");
    saveRawString(this.sink, bytes, 0, bytes.length);
  }

  /** rdbSaveAuxFieldStrInt: the number's decimal text, which the string encoding stores as an integer. */
  private auxInteger(name: string, value: number): void {
    this.auxName(name);
    saveInt64String(this.sink, value);
  }

  /** Writes the next key the snapshot owes in turn; false when none is left. */
  private writeNextKey(): boolean {
    const snapshot = this.snapshot;
    while (this.dbIndex < snapshot.tables.length) {
      const id = snapshot.takeNext(this.dbIndex);
      if (id >= 0) {
        this.writeRecord(this.dbIndex, snapshot.tables[this.dbIndex]!, id);
        return true;
      }
      this.dbIndex++;
    }
    return false;
  }

  /**
   * SnapshotWriter: a key about to change, written out of turn while the save is under way
   * (between slices, so the header may not be written yet).
   */
  writeKey(dbIndex: number, table: KeyTable, id: number): void {
    if (this.phase === Phase.Header) {
      this.writeHeader();
      this.phase = Phase.Databases;
    }
    this.writeRecord(dbIndex, table, id);
    if (this.sink.length >= FLUSH_BYTES) this.flush();
  }

  /**
   * SELECTDB before a key of another database than the last one written; the first one of
   * a database carries the RESIZEDB hint. Keys written out of turn make the file switch
   * databases more than once, which loaders (Redis's included) take as they come.
   */
  private selectDb(dbIndex: number, table: KeyTable): void {
    if (this.outputDb === dbIndex) return;
    const sink = this.sink;
    sink.writeByte(OP_SELECTDB);
    saveLength(sink, dbIndex);
    if (!this.sized[dbIndex]) {
      this.sized[dbIndex] = true;
      sink.writeByte(OP_RESIZEDB);
      saveLength(sink, table.size);
      saveLength(sink, table.volatileCount);
    }
    this.outputDb = dbIndex;
  }

  /** rdbSaveKeyValuePair: expiry, access time or frequency, type, key, value. */
  private writeRecord(dbIndex: number, table: KeyTable, id: number): void {
    this.selectDb(dbIndex, table);
    const sink = this.sink;
    const expireAt = table.expireAt(id);
    if (expireAt >= 0) {
      sink.writeByte(OP_EXPIRETIME_MS);
      writeInt64LE(sink, expireAt);
    }
    if (this.saveLru) {
      sink.writeByte(OP_IDLE);
      saveLength(sink, idleSeconds(metaLru(table.getMeta(id)), this.server.clock.nowMs));
    } else if (this.saveLfu) {
      sink.writeByte(OP_FREQ);
      sink.writeByte(lfuDecayedCounter(metaLru(table.getMeta(id)), Date.now(), this.server.config.lfuDecayTime));
    }
    saveObjectType(sink, table, id);
    saveRawString(sink, table.keyPage(id), table.keyOffset(id), table.keyLength(id));
    saveObject(sink, table, id);
    this.keysWritten++;
  }

  private writeEnd(): void {
    this.sink.writeByte(OP_EOF);
    // The checksum covers everything before it, the EOF byte included.
    this.flush();
    const tail = new Uint8Array(CHECKSUM_BYTES);
    if (this.checksum) this.crc.writeLE(tail, 0);
    this.sink.writeBytes(tail, 0, CHECKSUM_BYTES);
  }
}

/** `v` (a safe integer, possibly negative) in 8 bytes, least significant first. */
function writeInt64LE(sink: RdbSink, v: number): void {
  const lo = v % 2 ** 32;
  const low = lo < 0 ? lo + 2 ** 32 : lo;
  const high = Math.floor(v / 2 ** 32);
  for (let i = 0; i < 4; i++) sink.writeByte(Math.floor(low / 2 ** (8 * i)) & 0xff);
  for (let i = 0; i < 4; i++) sink.writeByte((high >> (8 * i)) & 0xff);
}

/** estimateObjectIdleTime in seconds, from the 24-bit LRU clock. */
function idleSeconds(lru: number, nowMs: number): number {
  const now = lruClock(nowMs);
  return now >= lru ? now - lru : now + (LRU_CLOCK_MAX - lru);
}

/** What INFO reports as used_memory, for the used-mem aux field. */
function usedMemory(): number {
  const mem = process.memoryUsage();
  return mem.heapUsed + mem.external;
}

/**
 * rdbSave: writes the whole dataset to `path` (by default dir/dbfilename) through a temp
 * file, fsynced and renamed into place. Logs like Redis and returns whether it worked;
 * on success the change counter restarts and LASTSAVE moves.
 */
export function rdbSaveFile(server: Server, path: Buffer | string = rdbPath(server)): boolean {
  // A failed synchronous save leaves rdb_last_bgsave_status (and so the writes
  // stop-writes-on-bgsave-error refuses) as it was, as Redis's rdbSave does.
  const lastSaveOk = server.rdb.lastSaveOk;
  const saved = saveNow(server, path);
  if (!saved) server.rdb.lastSaveOk = lastSaveOk;
  return saved;
}

function saveNow(server: Server, path: Buffer | string): boolean {
  // Both would write temp-<pid>.rdb: a synchronous save (DEBUG RELOAD) supersedes a background one.
  server.rdb.bgsave?.abort();
  const temp = tempRdbPath(server);
  const fd = openTempRdb(server, temp);
  if (fd < 0) return saveFailed(server);
  try {
    const writer = new RdbWriter(server, fd);
    while (!writer.writeSome(UNBOUNDED));
    fsyncSync(fd);
    closeSync(fd);
  } catch (e) {
    return rdbWriteFailed(server, fd, temp, e);
  }
  if (!commitRdbFile(server, temp, path)) return false;
  server.log.notice("DB saved on disk");
  savedNow(server, server.dirty);
  return true;
}

/**
 * Where a save into memory collects the file, a flush at a time: a diskless full resync
 * takes the chunks to its replicas' sockets between slices.
 */
export type RdbChunks = Uint8Array[];

/** Where a save writes before the rename: `temp-<pid>.rdb` in `dir`, as Redis names it. */
export function tempRdbPath(server: Server): Buffer {
  return joinDir(server.config.dir, `temp-${process.pid}.rdb`);
}

/** Opens the temp file for writing; logs Redis's message and returns -1 when it cannot. */
export function openTempRdb(server: Server, temp: Buffer): number {
  try {
    return openSync(temp, "w");
  } catch (e) {
    server.log.warning(
      `Failed opening the temp RDB file temp-${process.pid}.rdb (in server root dir ${server.config.dir}) for saving: ${errorText(e)}`,
    );
    return -1;
  }
}

/** A write or fsync of the temp file failed: log, drop the temp file, count the failure. */
export function rdbWriteFailed(server: Server, fd: number, temp: Buffer, e: unknown): false {
  server.log.warning(`Write error saving DB on disk: ${errorText(e)}`);
  closeQuietly(fd);
  unlinkQuietly(temp);
  return saveFailed(server);
}

/** Renames the complete, synced temp file over `path` and syncs the directory. */
export function commitRdbFile(server: Server, temp: Buffer, path: Buffer | string): boolean {
  try {
    renameSync(temp, path);
  } catch (e) {
    server.log.warning(`Error moving temp DB file temp-${process.pid}.rdb on the final destination ${shown(path)} (in server root dir ${server.config.dir}): ${errorText(e)}`);
    unlinkQuietly(temp);
    return saveFailed(server);
  }
  fsyncDir(server.config.dir);
  return true;
}

/**
 * A save of the dataset as it was when `dirtyAtStart` changes had been made is on disk:
 * the changes made since (during a background save) still count as unsaved.
 */
export function savedNow(server: Server, dirtyAtStart: number): void {
  server.dirty -= dirtyAtStart;
  server.lastSaveMs = Date.now();
  server.rdb.lastSaveOk = true;
  server.rdb.saves++;
}

export function saveFailed(server: Server): false {
  server.rdb.lastSaveOk = false;
  return false;
}

/** A failed call's message as Redis's strerror words it where we know them. */
function errorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "No such file or directory";
  if (code === "EACCES") return "Permission denied";
  if (code === "ENOSPC") return "No space left on device";
  return (e as Error).message;
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing to release.
  }
}

export function unlinkQuietly(path: Buffer): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

/** fsyncFileDir: makes the rename durable. Failure only costs durability, as in Redis's log-and-go-on. */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(Buffer.from(dir, "latin1"), "r");
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // Some file systems refuse to fsync a directory; the data itself is synced.
  }
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

export interface LoadOptions {
  /** DEBUG RELOAD MERGE (RDBFLAGS_ALLOW_DUP): a key already present is replaced, not an error. */
  allowDuplicates?: boolean;
  /**
   * An AOF's RDB preamble (RDBFLAGS_AOF_PREAMBLE): keys already expired are loaded all the
   * same, since the commands after the preamble may still touch them.
   */
  aofPreamble?: boolean;
  /** A replica's load (from its master or its own file): expired keys stay, for the master's DEL. */
  keepExpired?: boolean;
}

/** The repl-* AUX fields of a file (Redis's rdbSaveInfo): where the stream stood at the save. */
export interface ReplSaveInfo {
  streamDb: number;
  replId: string;
  offset: number;
}

export interface LoadResult {
  keysLoaded: number;
  keysExpired: number;
  /** Where the RDB image ended (after its checksum): an AOF's commands start there. */
  endOffset: number;
  /** The repl-* fields when the file had a valid set of them, else null. */
  repl: ReplSaveInfo | null;
}

const reader = new RdbReader();

/**
 * rdbLoad: loads the RDB file at `path` into the server's databases (added to what they
 * hold). Throws RdbError for a malformed file, after logging what Redis logs; a missing
 * file throws the fs error (code ENOENT).
 */
export function rdbLoadFile(server: Server, path: Buffer | string, options: LoadOptions = {}): LoadResult {
  const bytes = readFileSync(path);
  return rdbLoadBytes(server, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), options);
}

/** rdbLoadFile over an image already in memory (an AOF base file with an RDB preamble). */
export function rdbLoadBytes(server: Server, buf: Uint8Array, options: LoadOptions = {}): LoadResult {
  server.rdb.loading = true;
  try {
    const result = loadRdbBytes(server, buf, options);
    server.rdb.lastLoadKeysLoaded = result.keysLoaded;
    server.rdb.lastLoadKeysExpired = result.keysExpired;
    server.log.notice(`Done loading RDB, keys loaded: ${result.keysLoaded}, keys expired: ${result.keysExpired}.`);
    return result;
  } catch (e) {
    if (e instanceof RdbError) logLoadError(server, e);
    throw e;
  } finally {
    server.rdb.loading = false;
  }
}

/** The log lines of a failed load: Redis's short-read line first when the file ended early. */
function logLoadError(server: Server, e: RdbError): void {
  if (e.truncated) server.log.warning("Short read or OOM loading DB. Unrecoverable error, aborting now.");
  server.log.warning(`Internal error in RDB reading offset ${e.offset}, function at rdb.ts -> ${e.message}`);
}

/** Per-key metadata opcodes seen before the key's type byte. */
const pending = { expireMs: -1, idleSeconds: -1, freq: -1 };

/** Walks a whole RDB image: header, opcodes and keys, EOF and checksum. */
function loadRdbBytes(server: Server, buf: Uint8Array, options: LoadOptions): LoadResult {
  const r = reader;
  r.reset(buf, 0, buf.length);
  const version = readHeader(r);
  const result: LoadResult = { keysLoaded: 0, keysExpired: 0, endOffset: 0, repl: null };
  auxRepl.streamDb = 0;
  auxRepl.replId = "";
  auxRepl.offset = -1;
  const allowDuplicates = options.allowDuplicates === true;
  const nowMs = Date.now();
  // Keys whose time has passed are dropped, as a master does, except in an AOF preamble and
  // on a replica.
  const expiredBeforeMs = options.aofPreamble === true || options.keepExpired === true ? -Infinity : nowMs;
  let db = server.dbs[0]!;
  let emptyKeys = 0;
  pending.expireMs = pending.idleSeconds = pending.freq = -1;
  for (;;) {
    const at = r.pos;
    const op = r.byte();
    if (op === OP_EOF) break;
    if (op === OP_SELECTDB) db = selectDb(server, r, at);
    else if (op === OP_RESIZEDB) resizeDb(r, db);
    else if (op === OP_EXPIRETIME_MS) pending.expireMs = r.int64LE();
    else if (op === OP_EXPIRETIME) pending.expireMs = r.uint32LE() * 1000;
    else if (op === OP_IDLE) pending.idleSeconds = r.readLength();
    else if (op === OP_FREQ) pending.freq = r.byte();
    else if (op === OP_AUX) readAux(server, r, nowMs);
    else if (op === OP_MODULE_AUX) r.fail("The RDB file contains AUX module data this server cannot load (no modules)", at);
    else if (op === OP_FUNCTION2) loadLibraryRecord(server, r, allowDuplicates, at);
    else if (op === OP_FUNCTION) {
      r.fail("The RDB file holds a library in the pre-release format of Redis 7.0 release candidates, which this server does not read", at);
    } else if (isObjectType(op)) {
      const outcome = loadKey(server, r, db, op, expiredBeforeMs, allowDuplicates);
      if (outcome === KeyOutcome.Loaded) result.keysLoaded++;
      else if (outcome === KeyOutcome.Expired) result.keysExpired++;
      else if (emptyKeys++ < EMPTY_KEYS_LOGGED) server.log.notice(`rdbLoadObject skipping empty key: ${latin1(keyView.buf, keyView.start, keyView.len)}`);
      pending.expireMs = pending.idleSeconds = pending.freq = -1;
    } else {
      r.fail(`Unknown RDB encoding type ${op}`, at);
    }
  }
  if (version >= FIRST_CHECKSUMMED_VERSION) verifyChecksum(server, r);
  result.endOffset = r.pos;
  // Redis trusts the fields only with a whole 40-character ID and an offset.
  if (auxRepl.replId.length === 40 && auxRepl.offset !== -1) result.repl = { ...auxRepl };
  return result;
}

/** Each library's code as an RDB_OPCODE_FUNCTION2 record (rdbSaveFunctions). */
export function saveLibraries(sink: RdbSink, codes: readonly Uint8Array[]): void {
  for (const code of codes) {
    sink.writeByte(OP_FUNCTION2);
    saveRawString(sink, code, 0, code.length);
  }
}

/** An RDB_OPCODE_FUNCTION2 record: the library loads now (replacing its namesake on a merge). */
function loadLibraryRecord(server: Server, r: RdbReader, replace: boolean, at: number): void {
  r.readString();
  const error = loadLibrary(server, r.sBuf.slice(r.sStart, r.sStart + r.sLen), replace);
  if (error !== null) r.fail(`Failed loading library, ${error.startsWith("ERR ") ? error.slice(4) : error}`, at);
}

/** "REDIS" and four digits; returns the version. */
function readHeader(r: RdbReader): number {
  r.need(HEADER_BYTES);
  const buf = r.buf;
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC.charCodeAt(i)) r.fail("Wrong signature trying to load DB from file", 0);
  }
  let version = 0;
  for (let i = MAGIC.length; i < HEADER_BYTES; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) r.fail("Wrong signature trying to load DB from file", i);
    version = version * 10 + d;
  }
  if (version < 1 || version > RDB_VERSION) r.fail(`Can't handle RDB format version ${version}`, MAGIC.length);
  r.pos = HEADER_BYTES;
  return version;
}

function selectDb(server: Server, r: RdbReader, at: number): Db {
  const n = r.readLength();
  if (n >= server.dbs.length) {
    r.fail(`FATAL: Data file was created with a Redis server configured to handle more than ${server.dbs.length} databases. Exiting`, at);
  }
  return server.dbs[n]!;
}

/** RESIZEDB: room for the keys to come, so the table never rehashes while loading. */
function resizeDb(r: RdbReader, db: Db): void {
  const keys = r.readLength();
  r.readLength();
  // A count no file of this size could hold is not trusted with memory.
  if (keys <= r.end - r.pos) db.table.reserve(db.table.size + keys);
}

/** The repl-* fields of the file being loaded, as read so far. */
const auxRepl: ReplSaveInfo = { streamDb: 0, replId: "", offset: -1 };

/** An AUX field: the ones Redis logs are logged, the rest read and passed over. */
function readAux(server: Server, r: RdbReader, nowMs: number): void {
  const name = r.readLatin1(0);
  r.readString(1);
  const value = latin1(r.sBuf, r.sStart, r.sLen);
  switch (name) {
    case "redis-ver":
      server.log.notice(`Loading RDB produced by version ${value}`);
      break;
    case "ctime": {
      const age = Math.floor(nowMs / 1000) - Number(value);
      server.log.notice(`RDB age ${age < 0 ? 0 : age} seconds`);
      break;
    }
    case "used-mem":
      server.log.notice(`RDB memory usage when created ${(Number(value) / (1024 * 1024)).toFixed(2)} Mb`);
      break;
    case "repl-stream-db":
      auxRepl.streamDb = Number(value);
      break;
    case "repl-id":
      auxRepl.replId = value;
      break;
    case "repl-offset":
      auxRepl.offset = Number(value);
      break;
    case "redis-bits":
    case "aof-base":
    case "aof-preamble":
    case "lua":
      break;
    default:
      server.log.debug(`Unrecognized RDB AUX field: '${name}'`);
  }
}

const enum KeyOutcome {
  Loaded,
  Expired,
  Empty,
}

/** The key of the record being loaded (a view valid until the next key is read). */
const keyView = { buf: new Uint8Array(0) as Uint8Array, start: 0, len: 0 };

/** One key: its name, its value, then into the database unless it has already expired. */
function loadKey(server: Server, r: RdbReader, db: Db, type: number, expiredBeforeMs: number, allowDuplicates: boolean): KeyOutcome {
  const keyAt = r.pos;
  r.readString(KEY_SLOT);
  keyView.buf = r.sBuf;
  keyView.start = r.sStart;
  keyView.len = r.sLen;
  try {
    loadValue(r, type, server.config);
  } catch (e) {
    if (e instanceof EmptyKeyError) return KeyOutcome.Empty;
    throw e;
  }
  if (pending.expireMs !== -1 && pending.expireMs < expiredBeforeMs) return KeyOutcome.Expired;
  const { buf, start, len } = keyView;
  const table = db.table;
  const hash = hashBytes(buf, start, len);
  let id = table.findHashed(hash, buf, start, len);
  if (id >= 0) {
    if (!allowDuplicates) {
      server.log.warning(`RDB has duplicated key '${latin1(buf, start, len)}' in DB ${db.id}`);
      r.fail("Duplicated key found in RDB file", keyAt);
    }
    table.clearExpire(id);
  } else {
    id = table.insertHashed(hash, buf, start, len);
  }
  storeLoaded(db, id, r);
  if (pending.expireMs !== -1) table.setExpire(id, pending.expireMs);
  applyAccessInfo(server, db, id);
  return KeyOutcome.Loaded;
}

/** objectSetLRUOrLFU from the IDLE or FREQ opcode, by the eviction policy in force. */
function applyAccessInfo(server: Server, db: Db, id: number): void {
  const lfuPolicy = server.config.maxmemoryPolicy.endsWith("-lfu");
  setAccessInfo(db, id, lfuPolicy, lfuPolicy ? pending.freq : -1, lfuPolicy ? -1 : pending.idleSeconds);
}

/**
 * Redis's objectSetLRUOrLFU: under an LFU policy a frequency becomes the counter (with
 * the time now), otherwise an idle time in seconds sets the LRU clock back by that much.
 */
export function setAccessInfo(db: Db, id: number, lfuPolicy: boolean, freq: number, idleSeconds: number): void {
  const table = db.table;
  if (lfuPolicy) {
    if (freq < 0) return;
    const minutes = Math.floor(Date.now() / 60000) & 65535;
    table.setMeta(id, withLru(table.getMeta(id), (minutes << 8) | freq));
    return;
  }
  if (idleSeconds < 0) return;
  let lru = lruClock(Date.now()) - idleSeconds;
  if (lru < 0) lru += LRU_CLOCK_MAX;
  table.setMeta(id, withLru(table.getMeta(id), lru));
}

/**
 * The 8 bytes after EOF: the CRC-64 of everything before them. Zeros mean the writer
 * had rdbchecksum off, and rdbchecksum off here skips the check, as in Redis.
 */
function verifyChecksum(server: Server, r: RdbReader): void {
  const end = r.pos;
  r.need(CHECKSUM_BYTES);
  r.pos += CHECKSUM_BYTES;
  if (!server.config.rdbchecksum) return;
  const buf = r.buf;
  let zero = true;
  for (let i = 0; i < CHECKSUM_BYTES; i++) if (buf[end + i] !== 0) zero = false;
  if (zero) return;
  const crc = new Crc64();
  crc.update(buf, 0, end);
  if (crc.equalsLE(buf, end)) return;
  const storedLo = (buf[end]! | (buf[end + 1]! << 8) | (buf[end + 2]! << 16) | (buf[end + 3]! << 24)) >>> 0;
  const storedHi = (buf[end + 4]! | (buf[end + 5]! << 8) | (buf[end + 6]! << 16) | (buf[end + 7]! << 24)) >>> 0;
  server.log.warning(`Wrong RDB checksum expected: (${crc.hex()}) but got (${crcHex(storedHi, storedLo)}). Aborting now.`);
  r.fail("RDB CRC error", end);
}

/**
 * Start-up (loadDataFromDisk): loads dir/dbfilename when it exists, logging as Redis
 * does; a file that cannot be loaded ends the process with status 1.
 */
export function loadRdbAtStartup(server: Server): void {
  const path = rdbPath(server);
  if (!existsSync(path)) return;
  const started = performance.now();
  // A replica keeps expired keys for its master's DEL, and the file's place in the
  // master's stream, to continue from there.
  const replica = server.config.replicaof !== null;
  try {
    const loaded = rdbLoadFile(server, path, { keepExpired: replica });
    if (loaded.repl !== null) {
      if (replica) server.upstream.restoreHistory(loaded.repl);
      else server.replication.restoreHistory(loaded.repl);
    }
  } catch (e) {
    if (!(e instanceof RdbError)) server.log.warning(`Fatal error loading the DB: ${errorText(e)}. Exiting.`);
    throw new StartupError([], "The RDB file could not be loaded (see the log)");
  }
  server.log.notice(`DB loaded from disk: ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
}
