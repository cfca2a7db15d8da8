// Script flags and the FUNCTION RESTORE policies: what the command layer needs of scripting
// without loading the Lua engine (which loads with the first script).

import type { Client } from "../server/client.ts";
import type { Server } from "../server/server.ts";
import { EvictResult, OOM_ERROR } from "../cache/evict.ts";

const RO_WITH_WRITES = "ERR Can not execute a script with write flag using *_ro command.";

/** Script flags (Redis's SCRIPT_FLAG_*), for functions and for EVAL scripts with a shebang. */
export const enum ScriptFlag {
  NoWrites = 1,
  AllowOom = 2,
  AllowStale = 4,
  NoCluster = 8,
  AllowCrossSlotKeys = 16,
  /** An EVAL script without a shebang: none of the flag checks apply (SCRIPT_FLAG_EVAL_COMPAT_MODE). */
  EvalCompat = 32,
}

/** The flags by the names scripts give them, in the order FUNCTION LIST shows them. */
export const SCRIPT_FLAG_NAMES: readonly (readonly [string, ScriptFlag])[] = [
  ["no-writes", ScriptFlag.NoWrites],
  ["allow-oom", ScriptFlag.AllowOom],
  ["allow-stale", ScriptFlag.AllowStale],
  ["no-cluster", ScriptFlag.NoCluster],
  ["allow-cross-slot-keys", ScriptFlag.AllowCrossSlotKeys],
];

/** How FUNCTION RESTORE treats libraries already there. */
export const enum RestorePolicy {
  Append,
  Replace,
  Flush,
}

/** An EVAL script's shebang: its flags and where its Lua code starts; or the error to reply. */
export interface Shebang {
  readonly flags: number;
  /** The offset of the first line's newline (compiled from there, so lines count from 1). */
  readonly bodyStart: number;
}

/** "#!lua [flags=a,b]" on an EVAL script's first line (evalExtractShebangFlags). */
export function parseShebang(body: Uint8Array): Shebang | string {
  if (body.length < 2 || body[0] !== 35 || body[1] !== 33) return { flags: ScriptFlag.EvalCompat, bodyStart: 0 };
  const end = body.indexOf(10);
  if (end < 0) return "ERR Invalid script shebang";
  const parts = shebangWords(body, end);
  if (parts[0] !== "#!lua") return `ERR Unexpected engine in script shebang: ${parts[0]}`;
  let flags = 0;
  for (const part of parts.slice(1)) {
    if (!part.startsWith("flags=")) return `ERR Unknown lua shebang option: ${part}`;
    for (const name of part.slice(6).split(",")) {
      if (name.length === 0) continue;
      const flag = SCRIPT_FLAG_NAMES.find(([flagName]) => flagName === name);
      if (flag === undefined) return `ERR Unexpected flag in script shebang: ${name}`;
      flags |= flag[1];
    }
  }
  return { flags, bodyStart: end };
}

/**
 * Why a script with these flags may not run now (Redis's scriptPrepareForRun), or null:
 * shared by functions and by EVAL scripts that declare flags in a shebang.
 */
export function scriptFlagsRefusal(c: Client, flags: number, readonlyCommand: boolean): string | null {
  const server = c.server;
  if (flags & ScriptFlag.NoCluster && server.cluster !== null) return "ERR Can not run script on cluster, 'no-cluster' flag is set.";
  const upstream = server.upstream;
  if (upstream.isReplica && !upstream.connected && !server.config.replicaServeStaleData && !(flags & ScriptFlag.AllowStale)) {
    return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.";
  }
  // A script that may write and did not allow OOM counts as a denyoom command.
  if (!(flags & (ScriptFlag.NoWrites | ScriptFlag.AllowOom)) && !c.isMaster && outOfMemory(server)) return OOM_ERROR;
  if (!(flags & ScriptFlag.NoWrites)) {
    if (upstream.isReplica && server.config.replicaReadOnly && !c.isMaster) return "READONLY Can not run script with write flag on readonly replica";
    if (readonlyCommand) return RO_WITH_WRITES;
  }
  return null;
}

/** Whether the server is over maxmemory with nothing more it may evict (Redis's out_of_memory). */
export function outOfMemory(server: Server): boolean {
  return server.eviction.maxmemoryBytes !== 0 && server.eviction.perform() === EvictResult.Fail;
}

/**
 * The words of a first line, body[0..end), split on blanks as sdssplitargs splits them
 * (quotes aside): an EVAL script's shebang and a function library's metadata line.
 */
export function shebangWords(body: Uint8Array, end: number): string[] {
  return Buffer.from(body.buffer, body.byteOffset, end).toString("latin1").split(/[ \t\r\v\f]+/).filter((word) => word.length > 0);
}
