// Keys a command keeps working on after its turn of the event loop: an in-flight MIGRATE
// has sent them and not yet deleted them. Redis's MIGRATE blocks the whole server until the
// target answered, so no command can touch those keys meanwhile; here only the commands
// that touch one of them wait (CLIENT PAUSE's holding, see server.ts postpone), and run once
// the keys are released, by when a moved key is gone and the command is redirected.

import type { Client } from "./client.ts";
import type { Db } from "../store/db.ts";
import type { Command } from "../commands/table.ts";
import { Argv, latin1, type ArgvView } from "../resp/parser.ts";
import { commandKeys, type KeyRef } from "../commands/command.ts";

/** Key positions of the command being checked; reused from command to command. */
const positions: KeyRef[] = [];
/** The arguments of the queued command EXEC would run. */
const queuedArgv = new Argv();
const NO_ARGUMENTS: ArgvView = { buf: new Uint8Array(0), start: new Int32Array(0), len: new Int32Array(0), count: 0 };

export class KeyHolds {
  /** Per database: held key (latin1) -> how many holds. */
  private readonly held = new Map<Db, Map<string, number>>();
  /** Holds in place: the dispatcher looks at commands only while some are. */
  count = 0;

  hold(db: Db, keys: readonly Uint8Array[]): void {
    let byKey = this.held.get(db);
    if (byKey === undefined) {
      byKey = new Map();
      this.held.set(db, byKey);
    }
    for (const key of keys) {
      const name = latin1(key, 0, key.length);
      byKey.set(name, (byKey.get(name) ?? 0) + 1);
      this.count++;
    }
  }

  release(db: Db, keys: readonly Uint8Array[]): void {
    const byKey = this.held.get(db);
    if (byKey === undefined) return;
    for (const key of keys) {
      const name = latin1(key, 0, key.length);
      const n = byKey.get(name);
      if (n === undefined) continue;
      if (n === 1) byKey.delete(name);
      else byKey.set(name, n - 1);
      this.count--;
    }
    if (byKey.size === 0) this.held.delete(db);
  }

  /** Whether running `cmd` now (EXEC: its queued commands) would touch a held key of the client's database. */
  touches(c: Client, cmd: Command, argv: Argv, exec: boolean): boolean {
    const byKey = this.held.get(c.db);
    if (byKey === undefined) return false;
    if (!exec) return this.commandTouches(byKey, cmd, argv);
    const multi = c.multi;
    if (multi === null) return false;
    let touched = false;
    for (const queued of multi.commands) {
      queuedArgv.use(queued);
      touched = this.commandTouches(byKey, queued.cmd, queuedArgv);
      if (touched) break;
    }
    queuedArgv.use(NO_ARGUMENTS);
    return touched;
  }

  private commandTouches(byKey: Map<string, number>, cmd: Command, argv: Argv): boolean {
    positions.length = 0;
    commandKeys(cmd, argv, positions);
    for (const { pos } of positions) {
      if (byKey.has(latin1(argv.buf, argv.start[pos]!, argv.len[pos]!))) return true;
    }
    return false;
  }
}
