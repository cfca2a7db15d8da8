// Function commands (Redis 7.0's functions.c): FCALL and FCALL_RO run a function a library
// registered, FUNCTION LOAD / DELETE / FLUSH / LIST / STATS / DUMP / RESTORE / KILL manage
// the libraries. The libraries and their Lua state live in src/scripting/functions.ts.

import type { Client } from "../server/client.ts";
import type { CommandDef } from "./table.ts";
import { OK } from "../resp/writer.ts";
import { parseLongLong } from "../util/numbers.ts";
import { killBusyScript, numkeysArg } from "./scripting.ts";
import { libraryCodes, scriptRunner } from "../scripting/lazy.ts";
import { ScriptFlag, SCRIPT_FLAG_NAMES, RestorePolicy, scriptFlagsRefusal } from "../scripting/flags.ts";
import type { Library, LuaFunction } from "../scripting/functions.ts";
import { BAD_PAYLOAD, FOOTER_BYTES, sealPayload, verifyPayload } from "./dump.ts";
import { RdbSink } from "../persistence/rdb-value.ts";
import { OP_FUNCTION2, saveLibraries } from "../persistence/rdb.ts";
import { RdbError, RdbReader } from "../persistence/rdb-load.ts";

const NOT_FOUND = "ERR Function not found";

/** FCALL function numkeys [key ...] [arg ...], FCALL_RO the same for no-writes functions. */
function fcallGeneric(c: Client, readonlyCommand: boolean): void {
  const runner = scriptRunner(c.server);
  const fn = runner.functions.functions.get(c.argv.str(1).toLowerCase());
  if (fn === undefined) return c.w.addError(NOT_FOUND);
  const numkeys = fcallNumkeys(c);
  if (numkeys === null) return;
  const refusal = scriptFlagsRefusal(c, fn.flags, readonlyCommand);
  if (refusal !== null) return c.w.addError(refusal);
  runner.runFunction(c, fn, 3, numkeys, readonlyCommand || (fn.flags & ScriptFlag.NoWrites) !== 0);
}

/** FCALL's numkeys: as EVAL's, but a non-number is "Bad number of keys provided". */
function fcallNumkeys(c: Client): number | null {
  const argv = c.argv;
  if (!parseLongLong(argv.buf, argv.start[2]!, argv.len[2]!)) {
    c.w.addError("ERR Bad number of keys provided");
    return null;
  }
  return numkeysArg(c);
}

/** FUNCTION LOAD [REPLACE] function-code */
function functionLoadCommand(c: Client): void {
  const argv = c.argv;
  let replace = false;
  for (let i = 2; i < argv.count - 1; i++) {
    if (argv.is(i, "replace")) replace = true;
    else return c.w.addError(`ERR Unknown option given: ${argv.str(i)}`);
  }
  const loaded = scriptRunner(c.server).functions.load(argv.copy(argv.count - 1), replace);
  if (typeof loaded === "string") return c.w.addError(loaded);
  c.server.dirty++;
  c.w.addBulkLatin1(loaded.name);
}

/** FUNCTION DELETE library-name */
function functionDeleteCommand(c: Client): void {
  if (!scriptRunner(c.server).functions.delete(c.argv.str(2))) return c.w.addError("ERR Library not found");
  c.server.dirty++;
  c.w.addRaw(OK);
}

/** FUNCTION FLUSH [ASYNC|SYNC] */
function functionFlushCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count > 3 || (argv.count === 3 && !argv.is(2, "sync") && !argv.is(2, "async"))) {
    return c.w.addError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  }
  scriptRunner(c.server).functions.flush();
  c.server.dirty++;
  c.w.addRaw(OK);
}

/** FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE] */
function functionListCommand(c: Client): void {
  const argv = c.argv;
  let pattern: string | null = null;
  let withCode = false;
  for (let i = 2; i < argv.count; i++) {
    if (argv.is(i, "withcode") && !withCode) {
      withCode = true;
    } else if (argv.is(i, "libraryname") && pattern === null) {
      if (i + 1 >= argv.count) return c.w.addError("ERR library name argument was not given");
      pattern = argv.str(++i);
    } else {
      return c.w.addError(`ERR Unknown argument ${argv.str(i)}`);
    }
  }
  const libraries = scriptRunner(c.server).functions.matching(pattern);
  const w = c.w;
  w.addArrayLen(libraries.length);
  for (const library of libraries) writeLibrary(c, library, withCode);
}

function writeLibrary(c: Client, library: Library, withCode: boolean): void {
  const w = c.w;
  w.addMapLen(withCode ? 4 : 3);
  w.addBulkLatin1("library_name");
  w.addBulkLatin1(library.name);
  w.addBulkLatin1("engine");
  w.addBulkLatin1("LUA");
  w.addBulkLatin1("functions");
  w.addArrayLen(library.functions.length);
  for (const fn of library.functions) writeFunction(c, fn);
  if (withCode) {
    w.addBulkLatin1("library_code");
    w.addBulk(library.code);
  }
}

function writeFunction(c: Client, fn: LuaFunction): void {
  const w = c.w;
  w.addMapLen(3);
  w.addBulkLatin1("name");
  w.addBulkLatin1(fn.name);
  w.addBulkLatin1("description");
  if (fn.description === null) w.addNull();
  else w.addBulkLatin1(fn.description);
  w.addBulkLatin1("flags");
  const names = SCRIPT_FLAG_NAMES.filter(([, flag]) => fn.flags & flag);
  w.addSetLen(names.length);
  for (const [name] of names) w.addBulkLatin1(name);
}

/** FUNCTION STATS: the busy function, if one runs now, and the engine's counts. */
function functionStatsCommand(c: Client): void {
  const runner = scriptRunner(c.server);
  const w = c.w;
  w.addMapLen(2);
  w.addBulkLatin1("running_script");
  const busy = runner.busyFunction();
  if (busy === null) {
    w.addNull();
  } else {
    w.addMapLen(3);
    w.addBulkLatin1("name");
    w.addBulkLatin1(busy.name);
    w.addBulkLatin1("command");
    w.addArrayLen(busy.command.length);
    for (const arg of busy.command) w.addBulk(arg);
    w.addBulkLatin1("duration_ms");
    w.addInteger(busy.durationMs);
  }
  w.addBulkLatin1("engines");
  w.addMapLen(1);
  w.addBulkLatin1("LUA");
  w.addMapLen(2);
  w.addBulkLatin1("libraries_count");
  w.addInteger(runner.functionsIfAny?.libraries.size ?? 0);
  w.addBulkLatin1("functions_count");
  w.addInteger(runner.functionsIfAny?.functionCount ?? 0);
}

/** FUNCTION DUMP: every library's code, with DUMP's footer. */
function functionDumpCommand(c: Client): void {
  const sink = new RdbSink(c.server.config.rdbcompression);
  saveLibraries(sink, libraryCodes(c.server));
  sealPayload(sink);
  c.w.addBulkView(sink.bytes, 0, sink.length);
}

/** FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE] */
function functionRestoreCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count > 4) return c.w.addError(`ERR unknown subcommand or wrong number of arguments for '${argv.str(1)}'. Try FUNCTION HELP.`);
  let policy = RestorePolicy.Append;
  if (argv.count === 4) {
    if (argv.is(3, "flush")) policy = RestorePolicy.Flush;
    else if (argv.is(3, "append")) policy = RestorePolicy.Append;
    else if (argv.is(3, "replace")) policy = RestorePolicy.Replace;
    else return c.w.addError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
  }
  const start = argv.start[2]!;
  const len = argv.len[2]!;
  if (!verifyPayload(argv.buf, start, len)) return c.w.addError(BAD_PAYLOAD);
  const codes = readLibraryCodes(argv.buf, start, start + len - FOOTER_BYTES);
  if (typeof codes === "string") return c.w.addError(codes);
  const error = scriptRunner(c.server).functions.restore(codes, policy);
  if (error !== null) return c.w.addError(error);
  c.server.dirty++;
  c.w.addRaw(OK);
}

/** The library codes of a FUNCTION DUMP payload's records, or the error to reply. */
function readLibraryCodes(buf: Uint8Array, start: number, end: number): Uint8Array[] | string {
  const reader = new RdbReader();
  reader.reset(buf, start, end);
  const codes: Uint8Array[] = [];
  try {
    while (reader.pos < end) {
      if (reader.byte() !== OP_FUNCTION2) return "ERR given type is not a function";
      reader.readString();
      codes.push(reader.sBuf.slice(reader.sStart, reader.sStart + reader.sLen));
    }
  } catch (e) {
    if (e instanceof RdbError) return "ERR DUMP payload version or checksum are wrong";
    throw e;
  }
  return codes;
}

const FUNCTION_HELP = [
  "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Library description",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance of failure",
  "      in case of functions name collision with another library).",
  "HELP",
  "    Prints this help.",
];

function fcallDef(name: string, readonly: boolean): CommandDef {
  return {
    name, arity: -3, flags: `${readonly ? "readonly " : ""}noscript stale skip_monitor no_mandatory_keys movablekeys`,
    acl: "scripting", group: "scripting", since: "7.0.0",
    summary: readonly ? "Invoke a read-only function" : "Invoke a function",
    complexity: "Depends on the function that is executed.",
    keySpecs: [
      {
        notes: readonly
          ? "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"
          : "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE",
        flags: readonly ? "RO access" : "RW access update",
        begin: { index: 2 },
        find: { keynumidx: 0, firstkey: 1, keystep: 1 },
      },
    ],
    arguments: [
      { name: "function", type: "string" },
      { name: "numkeys", type: "integer" },
      { name: "key", type: "key", key_spec_index: 0, flags: ["optional", "multiple"] },
      { name: "arg", type: "string", flags: ["optional", "multiple"] },
    ],
    handler: (c) => fcallGeneric(c, readonly),
  };
}

const ALL_SHARDS_SUCCEED = ["request_policy:all_shards", "response_policy:all_succeeded"];

export const functionCommands: CommandDef[] = [
  fcallDef("fcall", false),
  fcallDef("fcall_ro", true),
  {
    name: "function", arity: -2, flags: "", group: "scripting", since: "7.0.0",
    summary: "A container for function commands", complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "function|delete", arity: 3, flags: "write noscript", acl: "scripting", group: "scripting", since: "7.0.0",
        summary: "Delete a function by name", complexity: "O(1)", tips: ALL_SHARDS_SUCCEED,
        arguments: [{ name: "library-name", type: "string" }],
        handler: functionDeleteCommand,
      },
      {
        name: "function|stats", arity: 2, flags: "noscript allow_busy", acl: "scripting", group: "scripting", since: "7.0.0",
        summary: "Return information about the function currently running (name, description, duration)", complexity: "O(1)",
        tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
        handler: functionStatsCommand,
      },
      {
        name: "function|list", arity: -2, flags: "noscript", acl: "scripting", group: "scripting", since: "7.0.0",
        summary: "List information about all the functions", complexity: "O(N) where N is the number of functions",
        tips: ["nondeterministic_output_order"],
        arguments: [
          { name: "library-name-pattern", type: "string", token: "LIBRARYNAME", flags: ["optional"] },
          { name: "withcode", type: "pure-token", token: "WITHCODE", flags: ["optional"] },
        ],
        handler: functionListCommand,
      },
      {
        name: "function|flush", arity: -2, flags: "write noscript", acl: "scripting", group: "scripting", since: "7.0.0",
        summary: "Deleting all functions", complexity: "O(N) where N is the number of functions deleted", tips: ALL_SHARDS_SUCCEED,
        arguments: [
          {
            name: "async", type: "oneof", flags: ["optional"],
            arguments: [
              { name: "async", type: "pure-token", token: "ASYNC" },
              { name: "sync", type: "pure-token", token: "SYNC" },
            ],
          },
        ],
        handler: functionFlushCommand,
      },
      {
        name: "function|restore", arity: -3, flags: "write denyoom noscript", acl: "scripting", group: "scripting", since: "7.0.0",
        summary: "Restore all the functions on the given payload", complexity: "O(N) where N is the number of functions on the payload",
        tips: ALL_SHARDS_SUCCEED,
        arguments: [
          { name: "serialized-value", type: "string" },
          {
            name: "policy", type: "oneof", flags: ["optional"],
            arguments: [
              { name: "flush", type: "pure-token", token: "FLUSH" },
              { name: "append", type: "pure-token", token: "APPEND" },
              { name: "replace", type: "pure-token", token: "REPLACE" },
            ],
          },
        ],
        handler: functionRestoreCommand,
      },
      {
        name: "function|load", arity: -3, flags: "write denyoom noscript", acl: "scripting", group: "scripting", since: "7.0.0",
        summary: "Create a function with the given arguments (name, code, description)",
        complexity: "O(1) (considering compilation time is redundant)", tips: ALL_SHARDS_SUCCEED,
        arguments: [
          { name: "replace", type: "pure-token", token: "REPLACE", flags: ["optional"] },
          { name: "function-code", type: "string" },
        ],
        handler: functionLoadCommand,
      },
      {
        name: "function|kill", arity: 2, flags: "noscript allow_busy", acl: "scripting", group: "scripting", since: "7.0.0",
        summary: "Kill the function currently in execution.", complexity: "O(1)",
        tips: ["request_policy:all_shards", "response_policy:one_succeeded"],
        handler: (c) => killBusyScript(c, false),
      },
      {
        name: "function|help", arity: 2, flags: "loading stale", acl: "scripting", group: "scripting", since: "7.0.0",
        summary: "Show helpful text about the different subcommands", complexity: "O(1)",
        handler: (c) => c.w.addHelp(FUNCTION_HELP),
      },
      {
        name: "function|dump", arity: 2, flags: "noscript", acl: "scripting", group: "scripting", since: "7.0.0",
        summary: "Dump all functions into a serialized binary payload", complexity: "O(N) where N is the number of functions",
        handler: functionDumpCommand,
      },
    ],
  },
];
