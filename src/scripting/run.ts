// Running scripts against the server (Redis's eval.c + script.c): the engine of each server,
// the script's context while it runs, and redis.call / redis.pcall, which run a command the
// way EXEC runs a queued one: through server.execute with the shared Argv pointed at the
// command's arguments and the reply captured from the shared writer, then turned into Lua.

import { lua, type LuaState } from "fengari";
import type { Client } from "../server/client.ts";
import { READONLY_REPLICA, type BusyScript, type Server } from "../server/server.ts";
import type { Db } from "../store/db.ts";
import { Target, type PendingOps } from "../server/propagate.ts";
import { formatLogLine, LOG_MAX_LEN, type LogLevel } from "../log/log.ts";
import type { ArgvView } from "../resp/parser.ts";
import { CMD, type Command } from "../commands/table.ts";
import { formatDouble } from "../util/numbers.ts";
import { LuaEngine, YIELDED, type RunResult } from "./lua.ts";
import { addUncountedError, latin1Bytes, pushRespReply } from "./convert.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import { Rand48, type RedisApiHost } from "./redis-api.ts";
import { checkCommand } from "../acl/check.ts";
import { Denial } from "../acl/log.ts";
import { FunctionStore, type LuaFunction } from "./functions.ts";
import { ScriptFlag, outOfMemory } from "./flags.ts";
import { OOM_ERROR } from "../cache/evict.ts";
import { keyHashSlot } from "../cluster/slots.ts";

/** Redis's texts for a redis.call that cannot run (script.c / script_lua.c). */
const NO_ARGS = "ERR Please specify at least one argument for this redis lib call";
const BAD_ARG = "ERR Lua redis lib command arguments must be strings or integers";
const UNKNOWN = "ERR Unknown Redis command called from script";
const INVALID_ACL_CHECK = "ERR Invalid command passed to redis.acl_check_cmd()";
const WRONG_ARITY = "ERR Wrong number of args calling Redis command from script";
const NOT_ALLOWED = "ERR This Redis command is not allowed from script";
const READONLY_SCRIPT = "ERR Write commands are not allowed from read-only scripts.";

/** redis.LOG_DEBUG .. redis.LOG_WARNING (0..3) as the log's levels. */
const LOG_LEVEL_NAMES: readonly LogLevel[] = ["debug", "verbose", "notice", "warning"];

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
  /** EVAL's Lua state. */
  engine: LuaEngine;
  /** math.random's sequence, which SCRIPT FLUSH does not restart (it outlives the Lua states). */
  readonly rand48 = new Rand48();
  /** The function libraries and their Lua state, created with the first library. */
  private functionStore: FunctionStore | null = null;
  /** The engine of the script running now: EVAL's or the functions'. */
  private active: LuaEngine;
  /** The running script is an EVAL's (SCRIPT KILL stops it), not a function (FUNCTION KILL). */
  private isEval = true;
  /** The client whose script runs now, null between scripts. */
  private client: Client | null = null;
  /** The running script's flags (ScriptFlag). */
  private flags = 0;
  /** The server was over maxmemory when the script started (Redis's pre_command_oom_state). */
  private oomAtStart = false;
  /** In a cluster, the slot the running script's keys use so far (-1: none yet). */
  private readonly scriptSlot = { slot: -1 };
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
  /** The busy script's command, whole, for FUNCTION STATS. */
  private busyCommand: Uint8Array[] = [];

  constructor(server: Server) {
    this.server = server;
    this.engine = new LuaEngine(this);
    this.active = this.engine;
  }

  /**
   * SCRIPT FLUSH: EVAL's Lua state starts over, as Redis's scriptingReset does, so that what
   * scripts changed in it (cjson's settings, the random seed) goes with the cached scripts.
   */
  resetEval(): void {
    this.engine = new LuaEngine(this);
    this.active = this.engine;
  }

  get busyError(): string {
    return this.isEval ? SLOW_EVAL : SLOW_FUNCTION;
  }

  get functions(): FunctionStore {
    if (this.functionStore === null) this.functionStore = new FunctionStore(this);
    return this.functionStore;
  }

  /** The function libraries if any were ever created (RDB saves and INFO need not create them). */
  get functionsIfAny(): FunctionStore | null {
    return this.functionStore;
  }

  /**
   * Run a cached script for `c` with keys argv[first .. first+numkeys) and the rest as ARGV,
   * and reply. The commands it runs propagate as one unit, wrapped in MULTI/EXEC when there
   * are several (Redis 7.0's effects replication), and the script's own command does not.
   */
  run(c: Client, sha: string, first: number, numkeys: number, readonly: boolean, flags: number): void {
    const engine = this.engine;
    this.pushArgTables(c, engine, first, numkeys);
    const saved = c.argv.save();
    // Inside EXEC the script cannot give the event loop back: it runs to its end there.
    const canYield = !c.denyBlocking;
    this.enter(c, engine, true, readonly, flags, numkeys > 0 ? first : -1);
    let result: RunResult;
    try {
      result = engine.run(sha, c.w, canYield);
    } finally {
      c.argv.use(saved);
    }
    this.settle(c, result);
  }

  /** FCALL: run `fn` with keys argv[first .. first+numkeys) and the rest as its arguments. */
  runFunction(c: Client, fn: LuaFunction, first: number, numkeys: number, readonly: boolean): void {
    const engine = this.functions.engine;
    this.pushArgTables(c, engine, first, numkeys);
    const saved = c.argv.save();
    const canYield = !c.denyBlocking;
    this.enter(c, engine, false, readonly, fn.flags, numkeys > 0 ? first : -1);
    let result: RunResult;
    try {
      result = engine.call(fn.ref, fn.name, c.w, canYield);
    } finally {
      c.argv.use(saved);
    }
    this.settle(c, result);
  }

  /** The script returned, failed, or yielded: reply, or wait as a busy script. */
  private settle(c: Client, result: RunResult): void {
    if (result === YIELDED) return this.suspend(c);
    this.leave(c);
    if (this.server.propagation.active) this.server.propagation.preventCommand();
    this.replyEnd(c.w, result, c.lastCommand);
  }

  /**
   * The error of a failed script, and the failed calls Redis counts for errors its commands
   * counted already (a redis.call error raised or returned: not counted twice).
   */
  private replyEnd(w: ReplyWriter, result: string | null, cmd: Command | null): void {
    const uncounted = this.active.uncountedErrors;
    if (result !== null) {
      if (uncounted > 0) addUncountedError(w, result);
      else w.addError(result);
    }
    if (cmd !== null) cmd.failedCalls += uncounted;
  }

  private enter(c: Client, engine: LuaEngine, isEval: boolean, readonly: boolean, flags: number, firstKey: number): void {
    const server = this.server;
    // EVAL and FCALL skip the monitors after they run: they show before their commands.
    if (server.monitors.active) server.monitors.feed(c, c.db.id, c.argv);
    this.active = engine;
    this.isEval = isEval;
    this.flags = flags;
    this.oomAtStart = !c.isMaster && outOfMemory(server);
    // The declared keys share one slot (the dispatcher checked): later calls must stay in it.
    this.scriptSlot.slot = firstKey >= 0 && server.cluster !== null ? keyHashSlot(c.argv.buf, c.argv.start[firstKey]!, c.argv.len[firstKey]!) : -1;
    this.client = c;
    this.readonly = readonly;
    this.wroteDirty = false;
    // A SELECT inside the script lasts only as long as the script (Redis 7.0).
    this.savedDb = c.db;
    this.outerCommand = c.lastCommand;
    this.savedDenyBlocking = c.denyBlocking;
    this.savedOuterCommand = c.outerCommand;
    c.denyBlocking = true;
    c.inScript = true;
    server.clock.scriptStartMs = server.clock.nowMs;
    c.outerCommand = this.outerCommand;
    server.propagation.nesting++;
    engine.timeLimitMs = server.config.busyReplyThreshold;
  }

  private leave(c: Client): void {
    this.server.propagation.nesting--;
    this.server.propagation.nestedTargets = Target.All;
    this.client = null;
    c.denyBlocking = this.savedDenyBlocking;
    c.inScript = false;
    this.server.clock.scriptStartMs = 0;
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
    this.busyCommand = [];
    for (let i = 0; i < c.argv.count; i++) this.busyCommand.push(c.argv.copy(i));
    server.log.warning(
      `Slow script detected: still in execution after ${server.config.busyReplyThreshold} milliseconds. You can try killing the script using the ${this.isEval ? "SCRIPT KILL" : "FUNCTION KILL"} command. Script name is: ${this.active.runningName}.`,
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
      result = this.active.resume(w);
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
    this.replyEnd(w, result, null);
    server.endSideReply(c);
    const durationMs = performance.now() - this.startedMs;
    if (cmd !== null) {
      cmd.usec += durationMs * 1000;
      // An error counted already is a failed call once all the same.
      cmd.failedCalls += result !== null ? 1 : this.active.uncountedErrors;
    }
    if (durationMs >= server.slowlog.slowerThanMs) server.slowlog.add(c, this.slowlogArgs, durationMs);
    this.slowlogArgs = [];
    this.busyCommand = [];
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
    if (fromEval !== this.isEval) return fromEval ? SLOW_FUNCTION : SLOW_EVAL;
    this.active.killRequested = true;
    return null;
  }

  /** FUNCTION STATS' running_script: the busy function's name, command and time so far; null when none. */
  busyFunction(): { name: string; command: Uint8Array[]; durationMs: number } | null {
    if (this.server.busyScript !== this || this.isEval) return null;
    return { name: this.active.runningName, command: this.busyCommand, durationMs: Math.floor(performance.now() - this.startedMs) };
  }

  /** Push the keys argv[first .. first+numkeys) and the arguments after them as two Lua arrays. */
  private pushArgTables(c: Client, engine: LuaEngine, first: number, numkeys: number): void {
    pushArgTable(engine.L, c, first, first + numkeys);
    pushArgTable(engine.L, c, first + numkeys, c.argv.count);
  }

  setResp(resp: 2 | 3): void {
    this.active.resp = resp;
  }

  setRepl(flags: number): void {
    this.server.propagation.nestedTargets = flags & Target.All;
  }

  log(level: number, message: string): void {
    const log = this.server.log;
    const name = LOG_LEVEL_NAMES[level] ?? "warning";
    // Redis writes a redis.log line whole (serverLogRaw), where its own lines stop at LOG_MAX_LEN.
    if (message.length < LOG_MAX_LEN) log.log(name, message);
    else if (log.enabled(name)) log.raw(name, formatLogLine(log.pid, log.role, Date.now(), name, message));
  }

  /**
   * redis.acl_check_cmd: whether the script's user may run the command on the stack, its
   * keys and channels included (without an ACL LOG entry), or the error Redis raises.
   */
  aclCheckCmd(L: LuaState): number {
    const c = this.client;
    if (c === null) return this.engine.raise(L, "redis.acl_check_cmd can only be called inside a script invocation");
    const view = argumentsOf(L);
    if (typeof view === "string") return this.fail(L, view, true);
    const argv = c.argv;
    const saved = argv.save();
    argv.use(view);
    try {
      // Redis's lookupCommand: the subcommand when there are arguments after a container's name.
      let cmd = this.server.commands.lookup(view.buf, view.start[0]!, view.len[0]!);
      if (cmd !== undefined && cmd.subcommands !== null && view.count > 1) cmd = cmd.subcommands.get(argv.lower(1));
      if (cmd === undefined) return this.fail(L, INVALID_ACL_CHECK, true);
      lua.lua_pushboolean(L, c.user.unrestricted || checkCommand(this.server.acl.index, c.user, cmd, argv, 0, view.count) === Denial.None);
      return 1;
    } finally {
      argv.use(saved);
    }
  }

  /** redis.call (raise) and redis.pcall: run the command whose arguments are on the stack. */
  redisCall(L: LuaState, raise: boolean): number {
    const c = this.client;
    if (c === null) return this.active.raise(L, "redis.call is only available while a script runs");
    const view = argumentsOf(L);
    if (typeof view === "string") return this.fail(L, view, raise);
    const server = this.server;
    const argv = c.argv;
    argv.use(view);
    const cmd = this.commandFor(view);
    if (typeof cmd === "string") return this.refuse(L, cmd, raise);
    if (!c.user.unrestricted) {
      const denied = server.acl.scriptDenial(c, cmd);
      if (denied !== null) return this.reject(L, cmd, denied, raise);
    }
    if (cmd.flags & CMD.write) {
      if (this.readonly) return this.reject(L, cmd, READONLY_SCRIPT, raise);
      // A legacy script (no flags) runs on a read-only replica, but cannot write there.
      if (server.upstream.isReplica && server.config.replicaReadOnly && !c.isMaster) return this.reject(L, cmd, READONLY_REPLICA, raise);
    }
    // Over maxmemory when the script started, it may not take more memory until it wrote
    // something (then it must finish), unless its flags allow it (scriptVerifyOOM).
    if (this.oomAtStart && cmd.flags & CMD.denyoom && !this.wroteDirty && !(this.flags & ScriptFlag.AllowOom)) return this.reject(L, cmd, OOM_ERROR, raise);
    if (cmd.flags & CMD.write) this.wroteDirty = true;
    // In a cluster a script may only touch keys this node serves, in one slot unless its
    // flags allow more; the master's stream is obeyed as it comes.
    if (server.cluster !== null && !c.isMaster) {
      // Scripts without a shebang keep the freedom they always had (Redis 7.0 allows them too).
      const crossSlot = (this.flags & (ScriptFlag.AllowCrossSlotKeys | ScriptFlag.EvalCompat)) !== 0;
      const denied = server.cluster.scriptCallDenial(c, cmd, argv, this.scriptSlot, crossSlot);
      if (denied !== null) return this.reject(L, cmd, denied, raise);
    }
    const w = c.w;
    const mark = w.len;
    const resp = c.resp;
    // Scripts see the replies of the protocol they chose (redis.setresp; RESP2 unless they
    // did), whatever the caller's.
    const scriptResp = this.active.resp;
    c.resp = scriptResp;
    w.resp = scriptResp;
    c.lastCommand = cmd;
    try {
      server.execute(c, cmd);
    } finally {
      c.resp = resp;
      w.resp = resp;
    }
    const isError = pushRespReply(L, this.active.keys, w.buf, mark);
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
    // A command found but refused counts as rejected, as Redis's scriptCall counts it.
    if ((arity > 0 && view.count !== arity) || view.count < -arity) {
      cmd.rejectedCalls++;
      return WRONG_ARITY;
    }
    if (cmd.flags & CMD.noscript) {
      cmd.rejectedCalls++;
      return NOT_ALLOWED;
    }
    return cmd;
  }

  /** A found command refused before it ran: counted as rejected, then refused. */
  private reject(L: LuaState, cmd: Command, message: string, raise: boolean): number {
    cmd.rejectedCalls++;
    return this.refuse(L, message, raise);
  }

  /**
   * A call refused before any command ran (unknown, arity, ACL ...): the error counts now,
   * as Redis's scriptCall counts it, and its table says so, so that the script's reply
   * does not count it again; the script's own command is not failed by it.
   */
  private refuse(L: LuaState, message: string, raise: boolean): number {
    const server = this.server;
    server.stats.countError(message);
    server.errorsAtLastCall = server.stats.errorReplies;
    this.fail(L, message, false);
    lua.lua_pushboolean(L, true);
    lua.lua_setfield(L, -2, IGNORE_ERROR_STATS_KEY);
    return raise ? lua.lua_error(L) : 1;
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
const IGNORE_ERROR_STATS_KEY = latin1Bytes("ignore_error_stats_update");

/** Push argv[from..to) as a Lua array of strings. */
function pushArgTable(L: LuaState, c: Client, from: number, to: number): void {
  const argv = c.argv;
  lua.lua_createtable(L, to - from, 0);
  for (let i = from; i < to; i++) {
    // The bytes are copied into the Lua string: the argument itself is only read.
    const start = argv.start[i]!;
    lua.lua_pushbytes(L, argv.buf, start, start + argv.len[i]!);
    lua.lua_rawseti(L, -2, i - from + 1);
  }
}

/**
 * The command's arguments from the Lua stack, copied into one fresh buffer: the arguments
 * propagation keeps must outlive the script. Numbers are written as Redis writes them,
 * as %.17g; anything else is an error text.
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
    else if (type === lua.LUA_TNUMBER) bytes = latin1Bytes(formatDouble(lua.lua_tonumber(L, i)));
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


const runners = new WeakMap<Server, ScriptRunner>();

/** The server's script runner if it was ever created. */
export function existingRunner(server: Server): ScriptRunner | undefined {
  return runners.get(server);
}

/** The server's script runner, created with its Lua state on first use. */
export function scriptRunner(server: Server): ScriptRunner {
  let runner = runners.get(server);
  if (runner === undefined) {
    runner = new ScriptRunner(server);
    runners.set(server, runner);
  }
  return runner;
}
