// Scripting commands (Redis's eval.c): EVAL, EVALSHA and their read-only forms, and the
// script cache's SCRIPT subcommands. The VM and redis.call live in src/scripting/.

import type { Client } from "../server/client.ts";
import type { CommandDef, KeySpec } from "./table.ts";
import { parseIntArg } from "./args.ts";
import { scriptRunner } from "../scripting/lazy.ts";
import { ScriptFlag, parseShebang, scriptFlagsRefusal } from "../scripting/flags.ts";
import { OK } from "../resp/writer.ts";
import { sha1Hex } from "../util/runtime.ts";

const NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";
const NOTBUSY = "NOTBUSY No scripts in execution right now.";
/** Length of a SHA1 in hex: EVALSHA's argument must be one to name a script. */
const SHA1_HEX_LEN = 40;

/**
 * Check numkeys (argv[2]) against the arguments that follow; null after replying. Redis
 * checks it before it looks at the script.
 */
export function numkeysArg(c: Client): number | null {
  const numkeys = parseIntArg(c, 2);
  if (numkeys === null) return null;
  if (numkeys > c.argv.count - 3) {
    c.w.addError("ERR Number of keys can't be greater than number of args");
    return null;
  }
  if (numkeys < 0) {
    c.w.addError("ERR Number of keys can't be negative");
    return null;
  }
  return numkeys;
}

/**
 * The SHA1 of the script body in argv[i], compiled and cached if new; null after replying
 * its compile error. The body is hashed in place and copied only to be compiled.
 */
function cachedScript(c: Client, i: number): string | null {
  const engine = scriptRunner(c.server).engine;
  const sha = sha1Hex(c.argv.view(i));
  if (!engine.has(sha)) {
    const body = c.argv.copy(i);
    const shebang = parseShebang(body);
    const error = typeof shebang === "string" ? shebang : engine.load(sha, body, shebang.bodyStart, shebang.flags);
    if (error !== null) {
      c.w.addError(error);
      return null;
    }
  }
  return sha;
}

/** EVAL script numkeys [key ...] [arg ...], EVAL_RO the same without writes. */
function evalGeneric(c: Client, readonly: boolean): void {
  const numkeys = numkeysArg(c);
  if (numkeys === null) return;
  const sha = cachedScript(c, 1);
  if (sha !== null) runScript(c, sha, numkeys, readonly);
}

/** EVALSHA sha1 numkeys [key ...] [arg ...], EVALSHA_RO the same without writes. */
function evalShaGeneric(c: Client, readonly: boolean): void {
  // Redis refuses what cannot be a SHA1 before it reads numkeys, and looks it up after.
  if (c.argv.len[1] !== SHA1_HEX_LEN) return c.w.addError(NOSCRIPT);
  const numkeys = numkeysArg(c);
  if (numkeys === null) return;
  const runner = scriptRunner(c.server);
  const sha = c.argv.lower(1);
  if (!runner.engine.has(sha)) return c.w.addError(NOSCRIPT);
  runScript(c, sha, numkeys, readonly);
}

/**
 * Run a cached script: one with a shebang is checked against its flags first, and one
 * flagged no-writes runs as read-only (Redis's scriptPrepareForRun); one without runs as
 * scripts always did.
 */
function runScript(c: Client, sha: string, numkeys: number, readonlyCommand: boolean): void {
  const runner = scriptRunner(c.server);
  const flags = runner.engine.flagsOf(sha);
  if (!(flags & ScriptFlag.EvalCompat)) {
    const refusal = scriptFlagsRefusal(c, flags, readonlyCommand);
    if (refusal !== null) return c.w.addError(refusal);
  }
  runner.run(c, sha, 3, numkeys, readonlyCommand || (flags & ScriptFlag.NoWrites) !== 0, flags);
}

/** SCRIPT LOAD script */
function scriptLoadCommand(c: Client): void {
  const sha = cachedScript(c, 2);
  if (sha !== null) c.w.addBulkLatin1(sha);
}

/** SCRIPT EXISTS sha1 [sha1 ...] */
function scriptExistsCommand(c: Client): void {
  const engine = scriptRunner(c.server).engine;
  const argv = c.argv;
  c.w.addArrayLen(argv.count - 2);
  for (let i = 2; i < argv.count; i++) c.w.addInteger(argv.len[i] === SHA1_HEX_LEN && engine.has(argv.lower(i)) ? 1 : 0);
}

/** SCRIPT FLUSH [ASYNC|SYNC]: both modes flush at once, a new Lua state being cheap to make. */
function scriptFlushCommand(c: Client): void {
  const argv = c.argv;
  if (argv.count > 3 || (argv.count === 3 && !argv.is(2, "sync") && !argv.is(2, "async"))) {
    return c.w.addError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  }
  scriptRunner(c.server).resetEval();
  c.w.addRaw(OK);
}

/**
 * SCRIPT KILL (fromEval) and FUNCTION KILL: stop the busy script, unless none runs, it
 * wrote, or it is of the other kind (an EVAL's script for FUNCTION KILL, and the reverse).
 */
export function killBusyScript(c: Client, fromEval: boolean): void {
  if (c.server.busyScript === null) return c.w.addError(NOTBUSY);
  const refusal = scriptRunner(c.server).kill(fromEval);
  if (refusal !== null) return c.w.addError(refusal);
  c.w.addRaw(OK);
}

/**
 * SCRIPT DEBUG YES|SYNC|NO. NO is the state every client is in; redbun has no Lua debugger
 * (Redis's LDB), so YES and SYNC are refused rather than accepted and then ignored.
 */
function scriptDebugCommand(c: Client): void {
  const argv = c.argv;
  if (c.multi !== null) return c.w.addError("ERR SCRIPT DEBUG must be called outside MULTI");
  if (argv.is(2, "no")) return c.w.addRaw(OK);
  if (argv.is(2, "yes") || argv.is(2, "sync")) return c.w.addError("ERR SCRIPT DEBUG YES and SYNC are not available: redbun has no Lua debugger");
  c.w.addError("ERR Use SCRIPT DEBUG YES/SYNC/NO");
}

const SCRIPT_HELP = [
  "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DEBUG (YES|SYNC|NO)",
  "    Set the debug mode for subsequent scripts executed.",
  "EXISTS <sha1> [<sha1> ...]",
  "    Return information about the existence of the scripts in the script cache.",
  "FLUSH [ASYNC|SYNC]",
  "    Flush the Lua scripts cache. Very dangerous on replicas.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the scripts cache.",
  "    * SYNC: Synchronously flush the scripts cache.",
  "KILL",
  "    Kill the currently executing Lua script.",
  "LOAD <script>",
  "    Load a script into the scripts cache without executing it.",
  "HELP",
  "    Prints this help.",
];

/** SCRIPT HELP */
function scriptHelpCommand(c: Client): void {
  c.w.addHelp(SCRIPT_HELP);
}

// ---------------------------------------------------------------------------------------
// Specs
// ---------------------------------------------------------------------------------------

function evalKeySpec(readonly: boolean, withNotes: boolean): KeySpec[] {
  const spec: KeySpec = {
    flags: readonly ? "RO access" : "RW access update",
    begin: { index: 2 },
    find: { keynumidx: 0, firstkey: 1, keystep: 1 },
  };
  if (withNotes) {
    spec.notes = readonly
      ? "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"
      : "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE";
  }
  return [spec];
}

/** EVAL, EVALSHA and their read-only forms differ in name, first argument, flags and handler. */
function evalDef(name: string, bySha: boolean, readonly: boolean): CommandDef {
  return {
    name, arity: -3, flags: `${readonly ? "readonly " : ""}noscript stale skip_monitor no_mandatory_keys movablekeys`,
    acl: "scripting", group: "scripting", since: readonly ? "7.0.0" : "2.6.0",
    summary: readonly ? "Execute a read-only Lua script server side" : "Execute a Lua script server side",
    complexity: "Depends on the script that is executed.",
    keySpecs: evalKeySpec(readonly, !bySha),
    arguments: [
      { name: bySha ? "sha1" : "script", type: "string" },
      { name: "numkeys", type: "integer" },
      { name: "key", type: "key", key_spec_index: 0, flags: ["optional", "multiple"] },
      { name: "arg", type: "string", flags: ["optional", "multiple"] },
    ],
    handler: bySha ? (c) => evalShaGeneric(c, readonly) : (c) => evalGeneric(c, readonly),
  };
}

export const scriptingCommands: CommandDef[] = [
  evalDef("eval", false, false),
  evalDef("evalsha", true, false),
  evalDef("eval_ro", false, true),
  evalDef("evalsha_ro", true, true),
  {
    name: "script", arity: -2, flags: "", group: "scripting", since: "2.6.0",
    summary: "A container for Lua scripts management commands", complexity: "Depends on subcommand.",
    subcommands: [
      {
        name: "script|help", arity: 2, flags: "loading stale", acl: "scripting", group: "scripting", since: "5.0.0",
        summary: "Show helpful text about the different subcommands", complexity: "O(1)",
        handler: scriptHelpCommand,
      },
      {
        name: "script|exists", arity: -3, flags: "noscript", acl: "scripting", group: "scripting", since: "2.6.0",
        summary: "Check existence of scripts in the script cache.",
        complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        tips: ["request_policy:all_shards", "response_policy:agg_logical_and"],
        arguments: [{ name: "sha1", type: "string", flags: ["multiple"] }],
        handler: scriptExistsCommand,
      },
      {
        name: "script|flush", arity: -2, flags: "noscript", acl: "scripting", group: "scripting", since: "2.6.0",
        summary: "Remove all the scripts from the script cache.",
        complexity: "O(N) with N being the number of scripts in cache",
        history: [["6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."]],
        tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
        arguments: [
          {
            name: "async", type: "oneof", flags: ["optional"], since: "6.2.0",
            arguments: [
              { name: "async", type: "pure-token", token: "ASYNC" },
              { name: "sync", type: "pure-token", token: "SYNC" },
            ],
          },
        ],
        handler: scriptFlushCommand,
      },
      {
        name: "script|debug", arity: 3, flags: "noscript", acl: "scripting", group: "scripting", since: "3.2.0",
        summary: "Set the debug mode for executed scripts.", complexity: "O(1)",
        arguments: [
          {
            name: "mode", type: "oneof",
            arguments: [
              { name: "yes", type: "pure-token", token: "YES" },
              { name: "sync", type: "pure-token", token: "SYNC" },
              { name: "no", type: "pure-token", token: "NO" },
            ],
          },
        ],
        handler: scriptDebugCommand,
      },
      {
        name: "script|kill", arity: 2, flags: "noscript allow_busy", acl: "scripting", group: "scripting", since: "2.6.0",
        summary: "Kill the script currently in execution.", complexity: "O(1)",
        tips: ["request_policy:all_shards", "response_policy:one_succeeded"],
        handler: (c) => killBusyScript(c, true),
      },
      {
        name: "script|load", arity: 3, flags: "noscript stale", acl: "scripting", group: "scripting", since: "2.6.0",
        summary: "Load the specified Lua script into the script cache.",
        complexity: "O(N) with N being the length in bytes of the script body.",
        tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
        arguments: [{ name: "script", type: "string" }],
        handler: scriptLoadCommand,
      },
    ],
  },
];
