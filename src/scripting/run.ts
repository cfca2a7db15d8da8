// Running scripts against the server (Redis's eval.c + script.c): the engine of each server,
// the script's context while it runs, and redis.call / redis.pcall, which run a command the
// way EXEC runs a queued one: through server.execute with the shared Argv pointed at the
// command's arguments and the reply captured from the shared writer, then turned into Lua.

import { lua, type LuaState } from "fengari";
import type { Client } from "../server/client.ts";
import type { BusyScript, Server } from "../server/server.ts";
import type { Db } from "../store/db.ts";
import type { PendingOps } from "../server/propagate.ts";
import type { ArgvView } from "../resp/parser.ts";
import { CMD, type Command } from "../commands/table.ts";
import { formatDouble } from "../util/numbers.ts";
import { LuaEngine, YIELDED, type RunResult } from "./lua.ts";
import { latin1Bytes, pushRespReply } from "./convert.ts";
import type { RedisApiHost } from "./redis-api.ts";

/** Redis's texts for a redis.call that cannot run (script.c / script_lua.c). */
const NO_ARGS = "ERR Please specify at least one argument for this redis lib call";
const BAD_ARG = "ERR Lua redis lib command arguments must be strings or integers";
const UNKNOWN = "ERR Unknown Redis command called from script";
const WRONG_ARITY = "ERR Wrong number of args calling Redis command from script";
const NOT_ALLOWED = "ERR This Redis command is not allowed from script";
const READONLY_SCRIPT = "ERR Write commands are not allowed from read-only scripts.";

const SLOW_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const SLOW_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
const UNKILLABLE_WRITES = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
const UNKILLABLE_MASTER = "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.";

/**
 * One engine and one runner per server; the runner's state is only set while a script
 * runs, which may span event-loop turns once the script is busy (see suspend).
 */
export class ScriptRunner implements BusyScript, RedisApiHost {
  readonly server: Server;
  engine: LuaEngine;
  /** The client whose script runs now, null between scripts. */
  private client: Client | null = null;
  /** The running script came from EVAL_RO or EVALSHA_RO: it may not write. */
  private readonly = false;
  /** The running script called a write command: SCRIPT KILL can no longer stop it. */
  private wroteDirty = false;
  /** What the client had before the script: restored when it ends. */
  private savedDb: Db | null = null;
  private outerCommand: Command | null = null;
  private savedDenyBlocking = false;
  private savedOuterCommand: Command | null = null;
  /** A busy script's effects so far, held aside while other clients are served. */
  private heldEffects: PendingOps | null = null;
  /** When the busy script started (performance.now()) and its arguments for the slow log. */
  private startedMs = 0;
  private slowlogArgs: Uint8Array[] = [];
  readonly busyError = SLOW_EVAL;
  constructor(server: Server) {
    this.server = server;
    this.engine = new LuaEngine(this);
  }

  /**
   * Run a cached script for `c` with keys argv[first .. first+numkeys) and the rest as ARGV,
   * and reply. The commands it runs propagate as one unit, wrapped in MULTI/EXEC when there
   * are several (Redis 7.0's effects replication), and the script's own command does not.
   */
  run(c: Client, sha: string, first: number, numkeys: number, readonly: boolean): void {
    const argv = c.argv;
    this.pushArgTable(c, first, first + numkeys);
    this.pushArgTable(c, first + numkeys, argv.count);
    const saved = argv.save();
    // Inside EXEC the script cannot give the event loop back: it runs to its end there.
    const canYield = !c.denyBlocking;
    this.enter(c, readonly);
    let result: RunResult;
    try {
      result = this.engine.run(sha, c.w, canYield);
    } finally {
      argv.use(saved);
    }
    if (result === YIELDED) return this.suspend(c);
    this.leave(c);
    if (this.server.propagation.active) this.server.propagation.preventCommand();
    if (result !== null) c.w.addError(result);
  }

  private enter(c: Client, readonly: boolean): void {
    const server = this.server;
    this.client = c;
    this.readonly = readonly;
    this.wroteDirty = false;
    // A SELECT inside the script lasts only as long as the script (Redis 7.0).
    this.savedDb = c.db;
    this.outerCommand = c.lastCommand;
    this.savedDenyBlocking = c.denyBlocking;
    this.savedOuterCommand = c.outerCommand;
    c.denyBlocking = true;
    c.outerCommand = this.outerCommand;
    server.propagation.nesting++;
    this.engine.timeLimitMs = server.config.busyReplyThreshold;
  }

  private leave(c: Client): void {
    this.server.propagation.nesting--;
    this.client = null;
    c.denyBlocking = this.savedDenyBlocking;
    c.outerCommand = this.savedOuterCommand;
    c.lastCommand = this.outerCommand;
    c.db = this.savedDb!;
    this.savedDb = null;
  }

  /**
   * The script ran past busy-reply-threshold and yielded: its client waits for the reply
   * like a blocked one, other clients get BUSY (server.busyScript), and the script goes on
   * in the next event-loop turns, a slice of instructions at a time, as Redis serves events
   * from its hook. Its effects are held aside so that nothing else propagates into them.
   */
  private suspend(c: Client): void {
    const server = this.server;
    this.heldEffects = server.propagation.takePending();
    server.propagation.nesting--;
    if (server.propagation.active) server.propagation.preventCommand();
    c.blocked = true;
    server.busyScript = this;
    this.startedMs = performance.now() - server.config.busyReplyThreshold;
    this.slowlogArgs = server.slowlog.capture(c.argv, server.monitors);
    server.log.warning(
      `Slow script detected: still in execution after ${server.config.busyReplyThreshold} milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: ${this.engine.runningName}.`,
    );
    setImmediate(this.continueBusy);
  }

  /** One more slice of the busy script; once it ends, its reply and its effects go out. */
  private readonly continueBusy = (): void => {
    const server = this.server;
    const c = this.client!;
    // SHUTDOWN NOSAVE ended the server under the script: it goes no further.
    if (server.busyScript !== this || server.shuttingDown) return;
    server.clock.tick();
    const argv = server.argv;
    const saved = argv.save();
    server.propagation.nesting++;
    server.propagation.restorePending(this.heldEffects!);
    this.heldEffects = null;
    const w = server.beginSideReply(c);
    let result: RunResult;
    try {
      result = this.engine.resume(w);
    } finally {
      argv.use(saved);
    }
    if (result === YIELDED) {
      this.heldEffects = server.propagation.takePending();
      server.propagation.nesting--;
      setImmediate(this.continueBusy);
      return;
    }
    server.busyScript = null;
    c.blocked = false;
    const cmd = this.outerCommand;
    this.leave(c);
    if (result !== null) w.addError(result);
    server.endSideReply(c);
    const durationMs = performance.now() - this.startedMs;
    if (cmd !== null) {
      cmd.usec += durationMs * 1000;
      if (result !== null) cmd.failedCalls++;
    }
    if (durationMs >= server.slowlog.slowerThanMs) server.slowlog.add(c, this.slowlogArgs, durationMs);
    this.slowlogArgs = [];
    server.resumeInput(c);
    server.busyScriptEnded();
  };

  /**
   * SCRIPT KILL (fromEval) or FUNCTION KILL on the busy script: null once it is told to
   * stop (it fails at its next hook), or why it cannot be.
   */
  kill(fromEval: boolean): string | null {
    if (this.client!.isMaster) return UNKILLABLE_MASTER;
    if (this.wroteDirty) return UNKILLABLE_WRITES;
    if (!fromEval) return SLOW_EVAL;
    this.engine.killRequested = true;
    return null;
  }

  /** Push argv[from..to) as a Lua array of strings. */
  private pushArgTable(c: Client, from: number, to: number): void {
    const L = this.engine.L;
    const argv = c.argv;
    lua.lua_createtable(L, to - from, 0);
    for (let i = from; i < to; i++) {
      // lua_pushlstring copies the bytes: a view of the argument is enough.
      lua.lua_pushlstring(L, argv.view(i), argv.len[i]!);
      lua.lua_rawseti(L, -2, i - from + 1);
    }
  }

  /** redis.call (raise) and redis.pcall: run the command whose arguments are on the stack. */
  redisCall(L: LuaState, raise: boolean): number {
    const c = this.client;
    if (c === null) return this.engine.raise(L, "redis.call is only available while a script runs");
    const view = argumentsOf(L);
    if (typeof view === "string") return this.fail(L, view, raise);
    const server = this.server;
    const argv = c.argv;
    argv.use(view);
    const cmd = this.commandFor(view);
    if (typeof cmd === "string") return this.fail(L, cmd, raise);
    if (cmd.flags & CMD.write) {
      if (this.readonly) return this.fail(L, READONLY_SCRIPT, raise);
      this.wroteDirty = true;
    }
    const w = c.w;
    const mark = w.len;
    const resp = c.resp;
    // Scripts see RESP2 replies whatever the caller's protocol (Redis's default for scripts).
    c.resp = 2;
    w.resp = 2;
    c.lastCommand = cmd;
    try {
      server.execute(c, cmd);
    } finally {
      c.resp = resp;
      w.resp = resp;
    }
    const isError = pushRespReply(L, this.engine.keys, w.buf, mark);
    w.len = mark;
    if (isError && raise) return lua.lua_error(L);
    return 1;
  }

  /** The command (or subcommand) for these arguments, or why a script may not run it. */
  private commandFor(view: ArgvView): Command | string {
    let cmd = this.server.commands.lookup(view.buf, view.start[0]!, view.len[0]!);
    if (cmd === undefined) return UNKNOWN;
    if (cmd.subcommands !== null && (view.count > 1 || cmd.handler === null)) {
      if (view.count === 1) return WRONG_ARITY;
      const sub = cmd.subcommands.get(this.server.argv.lower(1));
      if (sub === undefined) return UNKNOWN;
      cmd = sub;
    }
    const arity = cmd.arity;
    if ((arity > 0 && view.count !== arity) || view.count < -arity) return WRONG_ARITY;
    if (cmd.flags & CMD.noscript) return NOT_ALLOWED;
    return cmd;
  }

  /** redis.call raises {err=message}; redis.pcall returns it. */
  private fail(L: LuaState, message: string, raise: boolean): number {
    lua.lua_createtable(L, 0, 1);
    lua.lua_pushstring(L, latin1Bytes(message));
    lua.lua_setfield(L, -2, ERR_KEY);
    return raise ? lua.lua_error(L) : 1;
  }
}

const ERR_KEY = latin1Bytes("err");

/**
 * The command's arguments from the Lua stack, copied into one fresh buffer: the arguments
 * propagation keeps must outlive the script. Numbers are written as Redis writes them
 * (integers plainly, other numbers as %.17g); anything else is an error text.
 */
function argumentsOf(L: LuaState): ArgvView | string {
  const count = lua.lua_gettop(L);
  if (count === 0) return NO_ARGS;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 1; i <= count; i++) {
    const type = lua.lua_type(L, i);
    let bytes: Uint8Array;
    if (type === lua.LUA_TSTRING) bytes = lua.lua_tolstring(L, i);
    else if (type === lua.LUA_TNUMBER) bytes = latin1Bytes(numberArgument(lua.lua_tonumber(L, i)));
    else return BAD_ARG;
    parts.push(bytes);
    total += bytes.length;
  }
  const buf = new Uint8Array(total);
  const start = new Int32Array(count);
  const len = new Int32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const bytes = parts[i]!;
    buf.set(bytes, at);
    start[i] = at;
    len[i] = bytes.length;
    at += bytes.length;
  }
  return { buf, start, len, count };
}

function numberArgument(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63 ? BigInt(n).toString() : formatDouble(n);
}

const runners = new WeakMap<Server, ScriptRunner>();

/** The server's script runner, created with its Lua state on first use. */
export function scriptRunner(server: Server): ScriptRunner {
  let runner = runners.get(server);
  if (runner === undefined) {
    runner = new ScriptRunner(server);
    runners.set(server, runner);
  }
  return runner;
}
