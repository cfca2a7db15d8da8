// The few things the server needs from its runtime beyond sockets (src/transport/), in a
// form that works under Bun and under Node.js alike.

import { createHash } from "node:crypto";

const underBun = typeof Bun !== "undefined";

/**
 * A full garbage collection (MEMORY PURGE, the server's collections after bursts). Node
 * offers one only when started with --expose-gc; without it this does nothing.
 */
export function collectGarbage(): void {
  if (underBun) Bun.gc(true);
  else (globalThis as { gc?: () => void }).gc?.();
}

/**
 * The lowercase hex SHA1 of `bytes` (script names). Bun's own hasher takes half the time of
 * node:crypto's on a script body, which EVAL pays on every call, so Bun keeps it.
 */
export const sha1Hex: (bytes: Uint8Array) => string = underBun
  ? (bytes) => Bun.SHA1.hash(bytes, "hex") as string
  : (bytes) => createHash("sha1").update(bytes).digest("hex");

/** The cell sleepSync waits on; nothing ever notifies it, so the wait runs to its timeout. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread, and with it the whole server, for `ms` milliseconds (DEBUG SLEEP). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}
