// Loading the multi-part AOF at start-up (Redis's loadAppendOnlyFiles and
// loadSingleAppendOnlyFile): the manifest names a base and the incr files after it, and
// every command in them runs through the real dispatcher for a client without a
// connection, so that loading executes exactly what serving would.
//
// A torn tail of the last incr file (a crash mid-write) is cut back to the last whole
// command when aof-load-truncated is yes; any other damage stops start-up with Redis's
// message and exit code 1.

import { existsSync, readFileSync, statSync, truncateSync } from "node:fs";
import { Argv, ParseState, parseCommand, NEED_MORE, PROTOCOL_ERROR } from "../resp/parser.ts";
import { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { aofManifestFor } from "./aof.ts";
import { RDB_FORMAT_SUFFIX, type AofFileInfo, type AofManifest } from "./aof-manifest.ts";
import { rdbLoadFile } from "./rdb.ts";
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

/** Load the AOF named by the manifest, or exit(1) after logging why it cannot be loaded. */
export function loadAppendOnlyFiles(server: Server): AofLoadResult {
  const manifest = aofManifestFor(server);
  if (!manifest.exists()) return AofLoadResult.NotExist;
  try {
    manifest.load();
    return loadManifestFiles(server, manifest);
  } catch (e) {
    server.log.warning(e instanceof AofFatal ? e.message : `Failed to load the AOF: ${(e as Error).message}`);
    process.exit(1);
  }
}

function loadManifestFiles(server: Server, manifest: AofManifest): AofLoadResult {
  const files: AofFileInfo[] = [];
  if (manifest.base !== null) files.push(manifest.base);
  files.push(...manifest.incrs);
  if (files.length === 0) return AofLoadResult.Empty;
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
  return AofLoadResult.Ok;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function loadFile(server: Server, info: AofFileInfo, path: string, lastFile: boolean): FileEnd {
  if (statSync(path).size === 0) return FileEnd.Empty;
  if (info.name.endsWith(RDB_FORMAT_SUFFIX)) {
    server.log.notice("Reading RDB base file on AOF loading...");
    loadRdbBase(server, info.name, path);
    return FileEnd.Ok;
  }
  const end = replayCommands(server, info.name, readFileSync(path));
  if (end.complete) return FileEnd.Ok;
  return truncatedTail(server, info.name, path, end.validUpTo, lastFile);
}

/** An RDB-preamble base, through the RDB loader; a bad one stops start-up as Redis does. */
function loadRdbBase(server: Server, name: string, path: string): void {
  try {
    rdbLoadFile(server, path);
  } catch (e) {
    // The RDB loader has logged what was wrong with the file.
    if (e instanceof RdbError) throw new AofFatal(`Error reading the RDB base file ${name}, AOF loading aborted`);
    throw e;
  }
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
function replayCommands(server: Server, name: string, buf: Uint8Array): ReplayEnd {
  const client = new Client(AOF_CLIENT_ID, server, null, server.dbs[0]!, "", "");
  client.authenticated = true;
  const argv = server.argv;
  const state = new ParseState();
  state.authRequired = false;
  state.maxBulkLen = Number.MAX_SAFE_INTEGER;
  let pos = 0;
  while (pos < buf.length) {
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
  while (pos < buf.length) {
    const next = parseOne(name, buf, pos, scratch, state);
    if (next === NEED_MORE) return NEED_MORE;
    if (scratch.is(0, "exec")) return next;
    pos = next;
  }
  return NEED_MORE;
}

/** Run the commands of a transaction, from pos up to and without its EXEC at the end. */
function runRange(server: Server, client: Client, name: string, buf: Uint8Array, pos: number, end: number, state: ParseState): void {
  const argv = server.argv;
  while (pos < end) {
    const next = parseOne(name, buf, pos, argv, state);
    if (argv.is(0, "exec")) return;
    runCommand(server, client, name);
    pos = next;
  }
}
