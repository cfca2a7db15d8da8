// Shared by the security tests: reading INFO fields and a server process's resources.

import { readFileSync, readdirSync } from "node:fs";

/** A numeric field of an INFO reply. */
export function infoField(info: string, name: string): number {
  const m = new RegExp(`\\r\\n${name}:(\\d+)`).exec(info);
  if (m === null) throw new Error(`no ${name} in INFO`);
  return Number(m[1]);
}

/** The resident memory of a process, in MB. */
export function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

/** How many file descriptors a process has open. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Polls `read` until its value satisfies `ok` or timeoutMs passes; returns the last value read. */
export async function waitUntil<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v) && Date.now() < deadline) {
    await Bun.sleep(10);
    v = await read();
  }
  return v;
}
