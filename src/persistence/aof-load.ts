// Loading the multi-part AOF at start-up (Redis's loadAppendOnlyFiles and
// loadSingleAppendOnlyFile): the manifest names a base and the incr files after it, and
// every command in them runs through the real dispatcher for a client without a
// connection, so that loading executes exactly what serving would.
//
// A torn tail of the last incr file (a crash mid-write) is cut back to the last whole
// command when aof-load-truncated is yes; any other damage stops start-up with Redis's
// message and exit code 1.
//
// A file may open with an RDB image (an RDB base, or the preamble of a Redis 4-6 AOF):
// that part goes through the RDB loader and the commands after it are replayed. Lines
// starting with `#` (aof-timestamp-enabled annotations) are skipped. A single-file AOF of
// Redis before 7.0 (`appendfilename` in `dir`, no manifest) is first moved into
// `appenddirname` as the base of a new manifest, as aofUpgradePrepare does.

import { existsSync, mkdirSync, readFileSync, renameSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { Argv, ParseState, parseCommand, NEED_MORE, PROTOCOL_ERROR } from "../resp/parser.ts";
import { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { StartupError } from "../server/startup-error.ts";
import { aofManifestFor, aofStatus, errnoOf, strerror } from "./aof.ts";
import { AofFileType, ManifestError, type AofFileInfo, type AofManifest } from "./aof-manifest.ts";
import { rdbLoadBytes } from "./rdb.ts";
import { RdbError } from "./rdb-load.ts";

/** What loading found (Redis's AOF_OK, AOF_NOT_EXIST, AOF_EMPTY). */
export const enum AofLoadResult {
  Ok,
  NotExist,
  Empty,
}

/** How one file ended. */
const enum FileEnd {
  Ok,
  Empty,
  Truncated,
}

/** The loader's client id (Redis's CLIENT_ID_AOF is UINT64_MAX; any id no connection gets). */
const AOF_CLIENT_ID = Number.MAX_SAFE_INTEGER;

/** A failure that stops start-up, carrying the message Redis logs. */
class AofFatal extends Error {}

/** Load the AOF named by the manifest, or throw StartupError after logging why it cannot be loaded. */
export function loadAppendOnlyFiles(server: Server): AofLoadResult {
  const manifest = aofManifestFor(server);
  try {
    if (manifest.exists()) manifest.load();
    const oldAof = join(server.config.dir, server.config.appendfilename);
    if (existsSync(oldAof) && isOldStyleAof(server, manifest)) upgradeOldAof(server, manifest, oldAof);
    if (manifest.base === null && manifest.incrs.length === 0) return AofLoadResult.NotExist;
    return loadManifestFiles(server, manifest);
  } catch (e) {
    if (e instanceof ManifestError) logManifestError(server, e);
    else server.log.warning(e instanceof AofFatal ? e.message : `Failed to load the AOF: ${(e as Error).message}`);
    throw new StartupError([], "The append-only file could not be loaded (see the log)");
  }
}

/**
 * Start-up with appendonly off: Redis still reads the manifest (aofLoadManifestFromDisk
 * runs at every start), so a malformed one stops the server all the same.
 */
export function checkManifestAtStart(server: Server): void {
  const manifest = aofManifestFor(server);
  if (!manifest.exists()) return;
  try {
    manifest.load();
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    logManifestError(server, e);
    throw new StartupError([], "The AOF manifest is malformed (see the log)");
  }
}

/** What Redis logs for a malformed manifest, blank lines included, before it exits. */
function logManifestError(server: Server, e: ManifestError): void {
  const log = server.log;
  log.warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
  if (e.line !== null) {
    log.warning(`Reading the manifest file, at line ${e.lineNumber}\n`);
    log.warning(`>>> '${e.line}'\n`);
  }
  log.warning(`${e.message}\n`);
}

/**
 * Whether the `appendfilename` file in `dir` is a Redis 6 AOF still to migrate: there is
 * no AOF directory or no file in its manifest, or a migration was cut short after the
 * manifest naming it was written but before the file moved.
 */
function isOldStyleAof(server: Server, manifest: AofManifest): boolean {
  const name = server.config.appendfilename;
  if (!existsSync(manifest.dir)) return true;
  if (manifest.base === null) return manifest.incrs.length === 0;
  return manifest.incrs.length === 0 && manifest.base.name === name && !existsSync(join(manifest.dir, name));
}

/**
 * Redis's aofUpgradePrepare: the old file becomes base 1 of a new manifest, written first,
 * then the file moves into the AOF directory. A crash in between only repeats the upgrade
 * at the next start.
 */
function upgradeOldAof(server: Server, manifest: AofManifest, oldAof: string): void {
  const config = server.config;
  try {
    mkdirSync(manifest.dir, { recursive: true });
  } catch (e) {
    throw new AofFatal(`Can't open or create append-only dir ${config.appenddirname}: ${strerror(errnoOf(e))}`);
  }
  manifest.base = { name: config.appendfilename, seq: 1, type: AofFileType.Base };
  manifest.baseSeq = 1;
  manifest.persist();
  try {
    renameSync(oldAof, join(manifest.dir, config.appendfilename));
  } catch (e) {
    throw new AofFatal(`Error trying to move the old AOF file ${config.appendfilename} into dir ${config.appenddirname}: ${strerror(errnoOf(e))}`);
  }
  server.log.notice(`Successfully migrated an old-style AOF file (${config.appendfilename}) into the AOF directory (${config.appenddirname}).`);
}

function loadManifestFiles(server: Server, manifest: AofManifest): AofLoadResult {
  const files: AofFileInfo[] = [];
  if (manifest.base !== null) files.push(manifest.base);
  files.push(...manifest.incrs);
  if (files.length === 0) return AofLoadResult.Empty;
  const sizes = fileSizes(manifest, files);
  const startMs = Date.now();
  let loadedAny = false;
  for (let i = 0; i < files.length; i++) {
    const info = files[i]!;
    const path = manifest.path(info);
    if (!existsSync(path)) throw new AofFatal(`The AOF file ${info.name} doesn't exist`);
    const fileStart = Date.now();
    const end = loadFile(server, info, path, i === files.length - 1);
    if (end === FileEnd.Empty) continue;
    loadedAny = true;
    const kind = info === manifest.base ? "base" : "incr";
    server.log.notice(`DB loaded from ${kind} file ${info.name}: ${seconds(Date.now() - fileStart)} seconds`);
  }
  if (!loadedAny) return AofLoadResult.Empty;
  server.log.notice(`DB loaded from append only file: ${seconds(Date.now() - startMs)} seconds`);
  const status = aofStatus(server);
  status.currentSizeBytes = sizes.totalBytes;
  status.baseSizeBytes = sizes.baseBytes;
  return AofLoadResult.Ok;
}

/**
 * INFO's aof_current_size and aof_base_size as Redis takes them, before loading: a torn
 * tail cut off while loading still counts, as it does in Redis's figures. The base stands
 * in for the size at the last rewrite, which Redis keeps nowhere.
 */
function fileSizes(manifest: AofManifest, files: readonly AofFileInfo[]): { totalBytes: number; baseBytes: number } {
  const sizeOf = (info: AofFileInfo) => (existsSync(manifest.path(info)) ? statSync(manifest.path(info)).size : 0);
  let totalBytes = 0;
  for (const info of files) totalBytes += sizeOf(info);
  return { totalBytes, baseBytes: manifest.base === null ? 0 : sizeOf(manifest.base) };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** The signature every RDB image starts with. */
const RDB_SIGNATURE = "REDIS";

function loadFile(server: Server, info: AofFileInfo, path: string, lastFile: boolean): FileEnd {
  if (statSync(path).size === 0) return FileEnd.Empty;
  const buf = readFileSync(path);
  // Redis tells an RDB image by its first bytes, whatever the file's name.
  const commandsStart = startsWithRdb(buf) ? loadRdbPart(server, info.name, buf) : 0;
  const end = replayCommands(server, info.name, buf, commandsStart);
  if (end.complete) return FileEnd.Ok;
  return truncatedTail(server, info.name, path, end.validUpTo, lastFile);
}

function startsWithRdb(buf: Uint8Array): boolean {
  if (buf.length < RDB_SIGNATURE.length) return false;
  for (let i = 0; i < RDB_SIGNATURE.length; i++) if (buf[i] !== RDB_SIGNATURE.charCodeAt(i)) return false;
  return true;
}

/**
 * The RDB image a file opens with, through the RDB loader (keys already expired kept, as
 * for RDBFLAGS_AOF_PREAMBLE); returns where the commands after it start. A bad image stops
 * start-up as Redis does. The old single-file AOF gets Redis's "preamble" wording.
 */
function loadRdbPart(server: Server, name: string, buf: Uint8Array): number {
  const oldStyle = name === server.config.appendfilename;
  server.log.notice(oldStyle ? "Reading RDB preamble from AOF file..." : "Reading RDB base file on AOF loading...");
  let endOffset: number;
  try {
    endOffset = rdbLoadBytes(server, buf, { aofPreamble: true }).endOffset;
  } catch (e) {
    // The RDB loader has logged what was wrong with the file.
    if (!(e instanceof RdbError)) throw e;
    throw new AofFatal(
      oldStyle
        ? `Error reading the RDB preamble of the AOF file ${name}, AOF loading aborted`
        : `Error reading the RDB base file ${name}, AOF loading aborted`,
    );
  }
  if (oldStyle) server.log.notice("Reading the remaining AOF tail...");
  return endOffset;
}

/** Redis's uxeof handling: a short read is fatal unless allowed and in the last file. */
function truncatedTail(server: Server, name: string, path: string, validUpTo: number, lastFile: boolean): FileEnd {
  const log = server.log;
  if (!server.config.aofLoadTruncated) {
    throw new AofFatal(
      `Unexpected end of file reading the append only file ${name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
    );
  }
  if (!lastFile) throw new AofFatal(`Fatal error: the truncated file is not the last file`);
  log.warning(`!!! Warning: short read while loading the AOF file ${name}!!!`);
  log.warning(`!!! Truncating the AOF ${name} at offset ${validUpTo} !!!`);
  truncateSync(path, validUpTo);
  log.warning(`AOF ${name} loaded anyway because aof-load-truncated is enabled`);
  return FileEnd.Truncated;
}

/** How often a long load says how far it got, in ms. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * A line in the log every PROGRESS_INTERVAL_MS while a big file loads, so that whoever
 * watches a slow start-up sees it move (Redis only shows this in INFO's loading fields,
 * which a server loading at start-up cannot answer here).
 */
class LoadProgress {
  private lastMs = Date.now();

  constructor(
    private readonly server: Server,
    private readonly name: string,
    private readonly totalBytes: number,
  ) {}

  at(offset: number): void {
    const now = Date.now();
    if (now - this.lastMs < PROGRESS_INTERVAL_MS) return;
    this.lastMs = now;
    const perc = ((offset * 100) / this.totalBytes).toFixed(0);
    this.server.log.notice(`Loading the AOF file ${this.name}: ${perc}% (${offset} of ${this.totalBytes} bytes)`);
  }
}

/** Where a file's replay stopped: complete, or the end of its last whole command. */
interface ReplayEnd {
  complete: boolean;
  validUpTo: number;
}

/**
 * Run every command of an AOF in `buf`. A MULTI's commands run only once its EXEC is
 * found, so that a transaction cut off by a crash leaves nothing behind (Redis reverts to
 * the offset before the MULTI).
 */
function replayCommands(server: Server, name: string, buf: Uint8Array, start: number): ReplayEnd {
  const client = new Client(AOF_CLIENT_ID, server, null, server.dbs[0]!, "", "");
  client.authenticated = true;
  const argv = server.argv;
  const state = new ParseState();
  state.authRequired = false;
  state.maxBulkLen = Number.MAX_SAFE_INTEGER;
  let pos = start;
  const progress = new LoadProgress(server, name, buf.length);
  for (let n = 0; ; n++) {
    pos = skipAnnotations(buf, pos);
    if (pos >= buf.length) break;
    if ((n & 4095) === 4095) progress.at(pos);
    const next = parseOne(name, buf, pos, argv, state);
    if (next === NEED_MORE) return { complete: false, validUpTo: pos };
    if (argv.is(0, "multi")) {
      const execEnd = findExec(name, buf, next, state);
      if (execEnd === NEED_MORE) {
        server.log.warning(`Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
        return { complete: false, validUpTo: pos };
      }
      runRange(server, client, name, buf, next, execEnd, state);
      pos = execEnd;
      continue;
    }
    runCommand(server, client, name);
    pos = next;
  }
  return { complete: true, validUpTo: pos };
}

/**
 * Run the command in server.argv for the loader's client, its reply thrown away. Like
 * Redis's loader it calls the handler itself: loaded commands are not counted in the
 * command statistics, and an unknown command stops start-up.
 */
function runCommand(server: Server, client: Client, name: string): void {
  const argv = server.argv;
  let cmd = server.commands.lookup(argv.buf, argv.start[0]!, argv.len[0]!);
  if (cmd !== undefined && cmd.subcommands !== null && argv.count > 1) cmd = cmd.subcommands.get(argv.lower(1));
  if (cmd === undefined || cmd.handler === null) {
    throw new AofFatal(`Unknown command '${argv.str(0)}' reading the append only file ${name}`);
  }
  server.clock.tick();
  server.writer.reset();
  server.writer.resp = client.resp;
  cmd.handler(client);
  server.writer.reset();
}

/**
 * The offset after the `#` lines at pos (annotations such as `#TS:<unix seconds>`), as
 * Redis's loader skips any line starting with `#`. An annotation the file ends in the
 * middle of is skipped too, as Redis's line reader hands back the partial line.
 */
function skipAnnotations(buf: Uint8Array, pos: number): number {
  while (pos < buf.length && buf[pos] === 0x23 /* '#' */) {
    const lf = buf.indexOf(0x0a /* '\n' */, pos);
    pos = lf < 0 ? buf.length : lf + 1;
  }
  return pos;
}

/** Parse the command at pos into argv: the next offset, NEED_MORE at a torn end, or a fatal format error. */
function parseOne(name: string, buf: Uint8Array, pos: number, argv: Argv, state: ParseState): number {
  // An AOF holds multibulk commands only; anything else is damage.
  if (buf[pos] !== 0x2a /* '*' */) throw badFormat(name);
  const next = parseCommand(buf, pos, buf.length, argv, state);
  if (next === PROTOCOL_ERROR || (next !== NEED_MORE && argv.count === 0)) throw badFormat(name);
  return next;
}

function badFormat(name: string): AofFatal {
  return new AofFatal(`Bad file format reading the append only file ${name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`);
}

/** The offset after the EXEC closing a MULTI whose commands start at pos, or NEED_MORE when the file ends first. */
function findExec(name: string, buf: Uint8Array, pos: number, state: ParseState): number {
  const scratch = new Argv();
  for (;;) {
    pos = skipAnnotations(buf, pos);
    if (pos >= buf.length) return NEED_MORE;
    const next = parseOne(name, buf, pos, scratch, state);
    if (next === NEED_MORE) return NEED_MORE;
    if (scratch.is(0, "exec")) return next;
    pos = next;
  }
}

/** Run the commands of a transaction, from pos up to and without its EXEC at the end. */
function runRange(server: Server, client: Client, name: string, buf: Uint8Array, pos: number, end: number, state: ParseState): void {
  const argv = server.argv;
  for (;;) {
    pos = skipAnnotations(buf, pos);
    if (pos >= end) return;
    const next = parseOne(name, buf, pos, argv, state);
    if (argv.is(0, "exec")) return;
    runCommand(server, client, name);
    pos = next;
  }
}
