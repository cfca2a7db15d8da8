// Persistence commands: SAVE here, DEBUG RELOAD's work (reached through commands/debug.ts),
// and the save SHUTDOWN makes (commands/server.ts). LASTSAVE lives with the server
// commands and reads the time rdbSaveFile records.

import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import type { CommandDef } from "./table.ts";
import { OK } from "../resp/writer.ts";
import { rdbLoadFile, rdbPath, rdbSaveFile } from "../persistence/rdb.ts";
import { BackgroundSave } from "../persistence/bgsave.ts";
import { BackgroundRewrite } from "../persistence/bgrewrite.ts";
import { aofManifestFor, aofStatus } from "../persistence/aof.ts";
import { loadAppendOnlyFiles } from "../persistence/aof-load.ts";
import { StartupError } from "../server/startup-error.ts";
import { ERR } from "../resp/errors.ts";

const BGSAVE_IN_PROGRESS = "ERR Background save already in progress";

/** SAVE */
function saveCommand(c: Client): void {
  if (c.server.rdb.bgsave !== null) return c.w.addError(BGSAVE_IN_PROGRESS);
  // Redis answers a failed save with a bare "-ERR"; the reason is in the log.
  if (rdbSaveFile(c.server)) c.w.addRaw(OK);
  else c.w.addError("ERR");
}

/** BGSAVE [SCHEDULE] */
function bgsaveCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count > 2 || (argv.count === 2 && !argv.is(1, "schedule"))) return c.w.addErrorBytes(ERR.syntax);
  const server = c.server;
  if (server.rdb.bgsave !== null) return c.w.addError(BGSAVE_IN_PROGRESS);
  // One background job at a time: behind a rewrite, SCHEDULE has the cron start it later.
  if (server.aofRewrite !== null) {
    if (argv.count === 1) {
      return c.w.addError(
        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
      );
    }
    server.rdb.bgsaveScheduled = true;
    return c.w.addSimple("Background saving scheduled");
  }
  if (startBackgroundSave(server)) c.w.addSimple("Background saving started");
  else c.w.addError("ERR");
}

/** BGREWRITEAOF */
function bgrewriteaofCommand(c: Client): void {
  const server = c.server;
  if (server.aofRewrite !== null) return c.w.addError("ERR Background append only file rewriting already in progress");
  if (server.rdb.bgsave !== null) {
    aofStatus(server).rewriteScheduled = true;
    return c.w.addSimple("Background append only file rewriting scheduled");
  }
  server.aofRewrite = BackgroundRewrite.start(server);
  if (server.aofRewrite !== null) c.w.addSimple("Background append only file rewriting started");
  else c.w.addError("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
}

/** rdbSaveBackground: starts a BGSAVE unless one runs; false when it could not start. */
export function startBackgroundSave(server: Server): boolean {
  if (server.rdb.bgsave !== null) return false;
  server.rdb.lastBgsaveTryMs = Date.now();
  server.rdb.bgsave = BackgroundSave.start(server);
  return server.rdb.bgsave !== null;
}

const RELOAD_OPTIONS_ERROR = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.";
const RELOAD_LOAD_ERROR = "ERR Error trying to load the RDB dump, check server logs.";

/**
 * DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the dataset (unless NOSAVE), empties it
 * (unless NOFLUSH) and loads the RDB file back; MERGE lets loaded keys replace existing ones.
 */
export function debugReload(c: Client): void {
  const argv = c.argv;
  let save = true;
  let flush = true;
  let merge = false;
  for (let i = 2; i < argv.count; i++) {
    if (argv.is(i, "merge")) merge = true;
    else if (argv.is(i, "noflush")) flush = false;
    else if (argv.is(i, "nosave")) save = false;
    else return c.w.addError(RELOAD_OPTIONS_ERROR);
  }
  const server = c.server;
  if (save && !rdbSaveFile(server)) return c.w.addError("ERR");
  if (flush) server.emptyAllDatabases();
  try {
    rdbLoadFile(server, rdbPath(server), { allowDuplicates: merge });
  } catch {
    // rdbLoadFile logged what went wrong.
    return c.w.addError(RELOAD_LOAD_ERROR);
  }
  server.log.warning("DB reloaded by DEBUG RELOAD");
  c.w.addRaw(OK);
}

/**
 * DEBUG LOADAOF: write out what the AOF buffer holds, empty the dataset and load it again
 * from the AOF files the manifest names. As in Redis 7.0, a file that cannot be loaded
 * stops the server (the loader logs why; the binary exits).
 */
export function debugLoadAof(c: Client): void {
  const server = c.server;
  // Redis 7.0 empties the dataset and then exits when there is no AOF to load; redbun
  // refuses first, keeping the data and the server.
  if (!aofManifestFor(server).exists()) return c.w.addError("ERR Error trying to load the AOF files, check server logs.");
  if (server.aof !== null) server.aof.write(true);
  server.emptyAllDatabases();
  // The loader parses into the shared argv: keep this command's to put back.
  const argv = c.argv;
  const command = argv.save();
  try {
    server.propagation.withoutPropagation(() => loadAppendOnlyFiles(server));
  } catch (e) {
    if (!(e instanceof StartupError)) throw e;
    // Redis exits here: the server stops, and the binary's onShutdown ends the process.
    server.close();
    server.onShutdown?.(1);
    return;
  }
  argv.use(command);
  server.dirty = 0;
  // What was loaded is already in the AOF, and so is nothing this command did.
  if (server.propagation.active) server.propagation.preventCommand();
  server.log.warning("Append Only File loaded by DEBUG LOADAOF");
  c.w.addRaw(OK);
}

/**
 * The save SHUTDOWN makes on its way out: asked for (SAVE), or implied by configured save
 * points unless NOSAVE. Returns false when the save failed and the server must stay up
 * (FORCE exits anyway).
 */
export function saveOnShutdown(server: Server, save: boolean, nosave: boolean, force: boolean): boolean {
  if (!save && (nosave || server.config.save.length === 0)) return true;
  server.log.notice("Saving the final RDB snapshot before exiting.");
  if (rdbSaveFile(server)) return true;
  if (force) {
    server.log.warning("Error trying to save the DB. Exit anyway.");
    return true;
  }
  server.log.warning("Error trying to save the DB, can't exit.");
  return false;
}

export const persistenceCommands: CommandDef[] = [
  {
    name: "bgrewriteaof", arity: 1, flags: "admin noscript no_async_loading", group: "server", since: "1.0.0",
    summary: "Asynchronously rewrite the append-only file", complexity: "O(1)",
    handler: bgrewriteaofCommand,
  },
  {
    name: "bgsave", arity: -1, flags: "admin noscript no_async_loading", group: "server", since: "1.0.0",
    summary: "Asynchronously save the dataset to disk", complexity: "O(1)",
    history: [["3.2.2", "Added the `SCHEDULE` option."]],
    arguments: [{ name: "schedule", type: "pure-token", token: "SCHEDULE", flags: ["optional"], since: "3.2.2" }],
    handler: bgsaveCommand,
  },
  {
    name: "save", arity: 1, flags: "admin noscript no_async_loading no_multi", group: "server", since: "1.0.0",
    summary: "Synchronously save the dataset to disk",
    complexity: "O(N) where N is the total number of keys in all databases",
    handler: saveCommand,
  },
];
