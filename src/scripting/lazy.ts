// The door to scripting for the rest of the server. The Lua engine (fengari) loads with the
// first script or library, not at start-up: a server that runs none does not carry it, and
// its heap does not count in used_memory. Persistence and replication reach the function
// libraries through here, and find none while the engine was never loaded.

import type { Server } from "../server/server.ts";
import type { ScriptRunner } from "./run.ts";

let runnerOf: ((server: Server) => ScriptRunner) | null = null;
let existingRunnerOf: ((server: Server) => ScriptRunner | undefined) | null = null;

/** The server's script runner, loading the engine on first use. */
export function scriptRunner(server: Server): ScriptRunner {
  if (runnerOf === null) {
    const module = require("./run.ts") as typeof import("./run.ts");
    runnerOf = module.scriptRunner;
    existingRunnerOf = module.existingRunner;
  }
  return runnerOf(server);
}

/** The code of every function library, in load order (for an RDB, a DUMP, an AOF rewrite). */
export function libraryCodes(server: Server): Uint8Array[] {
  const store = existingRunnerOf?.(server)?.functionsIfAny;
  if (store === null || store === undefined) return [];
  return [...store.libraries.values()].map((library) => library.code);
}

/** Drop every library: a whole dataset is being replaced (a full sync, DEBUG RELOAD). */
export function flushLibraries(server: Server): void {
  existingRunnerOf?.(server)?.functionsIfAny?.flush();
}

/** A library read from an RDB, replacing one of its name when `replace`: null, or the error. */
export function loadLibrary(server: Server, code: Uint8Array, replace: boolean): string | null {
  const loaded = scriptRunner(server).functions.load(code, replace);
  return typeof loaded === "string" ? loaded : null;
}
