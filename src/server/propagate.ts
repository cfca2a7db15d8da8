// Command propagation (Redis 7.0's call() with alsoPropagate, propagateNow and
// rewriteClientCommandVector): after a command changed the dataset, the command, or the
// deterministic form it asked for, goes to every sink (the AOF now, replicas later) with
// the database it ran in. Sinks see a stream of (db, arguments) and decide themselves when
// to emit SELECT, because the AOF and each replica track their selected database apart.
//
// Nothing here runs while no sink listens: the dispatcher and the commands test `active`
// first, so the hot path pays one field read per command.

import type { Argv } from "../resp/parser.ts";

/** One argument of a propagated command: bytes, or a latin1 string (one char per byte). */
export type PropArg = string | Uint8Array;

/** Where an operation goes (Redis's PROPAGATE_AOF and PROPAGATE_REPL). */
export const enum Target {
  Aof = 1,
  Replicas = 2,
  All = 3,
}

/** Where propagated commands go: the AOF, and the replicas' stream. */
export interface PropagationSink {
  /** Which operations this sink takes (PUBLISH goes to replicas only). */
  readonly target: Target;
  /** A command given as separate arguments, in database dbId. */
  feedArgs(dbId: number, args: readonly PropArg[]): void;
  /** The command being executed, as the client sent it; argv is only valid during the call. */
  feedArgv(dbId: number, argv: Argv): void;
}

/** Operations a unit queued, held aside (Propagation.takePending). */
export interface PendingOps {
  readonly dbs: number[];
  readonly args: (readonly PropArg[])[];
  readonly targets: Target[];
}

const MULTI: readonly PropArg[] = ["MULTI"];
const EXEC: readonly PropArg[] = ["EXEC"];

export class Propagation {
  /** Whether any sink listens; commands build their rewritten forms only then. */
  active = false;
  private readonly sinks: PropagationSink[] = [];
  /** Operations queued during the current execution unit (Redis's server.also_propagate). */
  private readonly pendingDbs: number[] = [];
  private readonly pendingArgs: (readonly PropArg[])[] = [];
  private readonly pendingTargets: Target[] = [];
  /** Set when the running command replaced itself with pending operations (preventCommandPropagation). */
  private suppressed = false;
  /**
   * Where the running command must be propagated though it changed nothing
   * (forceCommandPropagation): 0 when it need not be.
   */
  private forced: Target | 0 = 0;
  /**
   * Set while commands run inside another (EXEC's queued commands): what they propagate is
   * kept for the outer command's unit, which wraps it in MULTI/EXEC when there is more than
   * one operation, as Redis 7.0 does.
   */
  nesting = 0;
  /**
   * Where nested commands may propagate (a script's redis.set_repl): Target.All, or fewer
   * sinks. The outer command resets it when it ends.
   */
  nestedTargets: Target = Target.All;

  addSink(sink: PropagationSink): void {
    if (!this.sinks.includes(sink)) this.sinks.push(sink);
    this.active = true;
  }

  removeSink(sink: PropagationSink): void {
    const at = this.sinks.indexOf(sink);
    if (at >= 0) this.sinks.splice(at, 1);
    this.active = this.sinks.length > 0;
    if (!this.active) this.reset();
  }

  /**
   * Run `fn` with nothing propagated (DEBUG LOADAOF replays the file into the server while
   * the same file is open for appending): what it queues is dropped.
   */
  withoutPropagation(fn: () => void): void {
    const active = this.active;
    this.active = false;
    try {
      fn();
    } finally {
      this.reset();
      this.active = active;
    }
  }

  /** Queue an operation to propagate at the end of the current unit (Redis's alsoPropagate). */
  add(dbId: number, args: readonly PropArg[], target = Target.All): void {
    this.pendingDbs.push(dbId);
    this.pendingArgs.push(args);
    this.pendingTargets.push(target);
  }

  /**
   * The running command propagates as `args` instead of its own arguments (Redis's
   * rewriteClientCommandVector). The caller only asks when the command changed something.
   */
  replaceCommand(dbId: number, args: readonly PropArg[]): void {
    this.add(dbId, args);
    this.suppressed = true;
  }

  /** The running command is not propagated itself (Redis's preventCommandPropagation). */
  preventCommand(): void {
    this.suppressed = true;
  }

  /**
   * The running command is propagated even if it changed nothing: FLUSHALL on empty
   * databases everywhere, PUBLISH to replicas only.
   */
  forceCommand(target = Target.All): void {
    this.forced |= target;
  }

  /**
   * The dispatcher's call after a command ran, while active: the command's own arguments
   * follow whatever it queued, unless it replaced itself, and everything goes out as one unit.
   */
  afterCommand(dbId: number, argv: Argv, dirtied: boolean): void {
    const target = this.suppressed ? 0 : (dirtied ? Target.All : 0) | this.forced;
    this.suppressed = false;
    this.forced = 0;
    if (this.nesting > 0) {
      // Inside EXEC the command joins the transaction's unit, sent when EXEC ends. The
      // queued command's arguments outlive the EXEC, so views of them are enough.
      const allowed = target & this.nestedTargets;
      if (allowed !== 0) {
        const args: Uint8Array[] = [];
        for (let i = 0; i < argv.count; i++) args.push(argv.view(i));
        this.add(dbId, args, allowed);
      }
      return;
    }
    const queued = this.pendingDbs.length;
    if (queued === 0) {
      if (target !== 0) this.feedArgv(dbId, argv, target);
      return;
    }
    const wrap = queued + (target !== 0 ? 1 : 0) > 1;
    if (wrap) this.emit(this.pendingDbs[0]!, MULTI, Target.All);
    this.emitPending();
    if (target !== 0) this.feedArgv(dbId, argv, target);
    // EXEC takes the last operation's database so that no SELECT comes before it.
    if (wrap) this.emit(target !== 0 ? dbId : this.lastDb, EXEC, Target.All);
    this.clearPending();
  }

  private feedArgv(dbId: number, argv: Argv, target: Target): void {
    for (const sink of this.sinks) if (sink.target & target) sink.feedArgv(dbId, argv);
  }

  /**
   * Send what was queued outside any command (served blocked clients, active expiry), as
   * Redis's propagatePendingCommands does after such a unit: wrapped in MULTI/EXEC when
   * there is more than one operation.
   */
  flushPending(): void {
    this.suppressed = false;
    this.forced = 0;
    const queued = this.pendingDbs.length;
    if (queued === 0) return;
    if (queued > 1) this.emit(this.pendingDbs[0]!, MULTI, Target.All);
    const lastDb = this.lastDb;
    this.emitPending();
    if (queued > 1) this.emit(lastDb, EXEC, Target.All);
    this.clearPending();
  }

  /** Send each queued operation as a unit of its own (the active expiry cycle's deletions). */
  flushEach(): void {
    this.suppressed = false;
    this.forced = 0;
    if (this.pendingDbs.length === 0) return;
    this.emitPending();
    this.clearPending();
  }

  /**
   * Take what the current unit queued so far, to hold it while nothing of the unit runs (a
   * script that yielded); restorePending puts it back when the unit goes on.
   */
  takePending(): PendingOps {
    const held: PendingOps = { dbs: [...this.pendingDbs], args: [...this.pendingArgs], targets: [...this.pendingTargets] };
    this.clearPending();
    return held;
  }

  restorePending(held: PendingOps): void {
    this.pendingDbs.push(...held.dbs);
    this.pendingArgs.push(...held.args);
    this.pendingTargets.push(...held.targets);
  }

  private get lastDb(): number {
    return this.pendingDbs[this.pendingDbs.length - 1]!;
  }

  private emitPending(): void {
    const dbs = this.pendingDbs;
    const args = this.pendingArgs;
    const targets = this.pendingTargets;
    for (let i = 0; i < dbs.length; i++) this.emit(dbs[i]!, args[i]!, targets[i]!);
  }

  private emit(dbId: number, args: readonly PropArg[], target: Target): void {
    for (const sink of this.sinks) if (sink.target & target) sink.feedArgs(dbId, args);
  }

  private clearPending(): void {
    this.pendingDbs.length = 0;
    this.pendingArgs.length = 0;
    this.pendingTargets.length = 0;
  }

  private reset(): void {
    this.clearPending();
    this.suppressed = false;
    this.forced = 0;
  }
}
