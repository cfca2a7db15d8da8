// What the listener tests share: this machine's outside address, and the log lines of a
// server (redis-server or redbun) that refuses to start.

import { networkInterfaces } from "node:os";
import { REPO_ROOT } from "../oracle/harness.ts";

/** A non-loopback IPv4 address of this machine: connecting to it comes from it too. */
export function externalAddress(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return null;
}

/**
 * Starts a server expected to refuse to start (killed after 10 s if it does start): its exit
 * code and its log lines without the "pid:role date level" prefix.
 */
export async function startupFailure(kind: "redis" | "redbun", args: string[]): Promise<[number, string[]]> {
  const command = kind === "redis" ? ["redis-server"] : ["bun", "src/main.ts"];
  const proc = Bun.spawn([...command, "--save", "", ...args], { cwd: REPO_ROOT, stdout: "pipe", stderr: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
  const text = await new Response(proc.stdout).text();
  const code = await proc.exited;
  clearTimeout(timer);
  const lines = text.split("\n").filter((l) => l !== "");
  return [code, lines.map((l) => l.replace(/^\d+:[A-Z] .*? [#*.-] /, ""))];
}
